# The dialect translator's extra targets (issue 5):
#   translate-bench        bench/translate-bench: throughput in MB/s
#   fuzz-translate-replay  runs the fuzz target's checks over the seed
#                          corpus (tests/translate) as the ctest fuzz/translate
#   fuzz-translate         libFuzzer target, with AIOLUA_FUZZ=ON and clang;
#                          `--target fuzz-translate-run` fuzzes for FUZZ_SECONDS
# A libFuzzer target made of the given sources (the code under test is
# compiled in, so that it is instrumented), with ASan and UBSan.
function(aiolua_fuzzer name)
  add_executable(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/runtime)
  target_link_libraries(${name} PRIVATE PkgConfig::LUA PkgConfig::UV m)
  target_compile_options(${name} PRIVATE
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
endfunction()

set(TRANSLATE_SRC ${CMAKE_SOURCE_DIR}/runtime/translate.c)
set(TRANSLATE_SEEDS ${CMAKE_SOURCE_DIR}/tests/translate)

add_executable(translate-bench ${CMAKE_SOURCE_DIR}/bench/translate-bench.c)
target_link_libraries(translate-bench PRIVATE aiolua_static)
set_target_properties(translate-bench PROPERTIES
                      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)

add_executable(fuzz-translate-replay ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c
               ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz-translate.c)
target_link_libraries(fuzz-translate-replay PRIVATE aiolua_static)
add_test(NAME fuzz/translate COMMAND fuzz-translate-replay ${TRANSLATE_SEEDS})
set_tests_properties(fuzz/translate PROPERTIES TIMEOUT 60)

if(AIOLUA_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(WARNING "AIOLUA_FUZZ needs clang (-DCMAKE_C_COMPILER=clang); "
                    "fuzz-translate is not built")
  else()
    aiolua_fuzzer(fuzz-translate ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz-translate.c
                  ${TRANSLATE_SRC})

    set(FUZZ_SECONDS 60 CACHE STRING "Seconds of fuzz-translate-run")
    set(FUZZ_CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus-run)
    add_custom_target(fuzz-translate-run
      COMMAND ${CMAKE_COMMAND} -E make_directory ${FUZZ_CORPUS}
      COMMAND fuzz-translate -max_total_time=${FUZZ_SECONDS} -timeout=10
              -rss_limit_mb=2048 -max_len=65536
              -dict=${CMAKE_SOURCE_DIR}/tests/fuzz/translate.dict
              -artifact_prefix=${CMAKE_BINARY_DIR}/
              ${FUZZ_CORPUS} ${TRANSLATE_SEEDS}
      DEPENDS fuzz-translate
      WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
      USES_TERMINAL
      COMMENT "Fuzzing the dialect translator for ${FUZZ_SECONDS} s")
    # libFuzzer writes new inputs into its first corpus directory: never
    # the seeds.
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz-smoke-corpus)
    add_test(NAME fuzz/translate-smoke
             COMMAND fuzz-translate -runs=20000 -timeout=10
                     -dict=${CMAKE_SOURCE_DIR}/tests/fuzz/translate.dict
                     -artifact_prefix=${CMAKE_BINARY_DIR}/
                     ${CMAKE_BINARY_DIR}/fuzz-smoke-corpus ${TRANSLATE_SEEDS})
    set_tests_properties(fuzz/translate-smoke PROPERTIES TIMEOUT 120)
  endif()
endif()

# asyncio.json's C codec (bindings/json.c), the same way:
#   fuzz-json-replay       the fuzz target's checks over tests/json, as the
#                          ctest fuzz/json
#   fuzz-json              libFuzzer target (AIOLUA_FUZZ=ON, clang);
#                          `--target fuzz-json-run` fuzzes for FUZZ_JSON_SECONDS
set(JSON_SRC ${CMAKE_SOURCE_DIR}/bindings/json.c)
set(JSON_SEEDS ${CMAKE_SOURCE_DIR}/tests/json)
add_executable(fuzz-json-replay ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c
               ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz-json.c ${JSON_SRC})
target_include_directories(fuzz-json-replay PRIVATE ${CMAKE_SOURCE_DIR}/runtime)
target_link_libraries(fuzz-json-replay PRIVATE PkgConfig::LUA PkgConfig::UV m)
add_test(NAME fuzz/json COMMAND fuzz-json-replay ${JSON_SEEDS})
set_tests_properties(fuzz/json PROPERTIES TIMEOUT 60)

if(AIOLUA_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  aiolua_fuzzer(fuzz-json ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz-json.c ${JSON_SRC})
  set(FUZZ_JSON_SECONDS 30 CACHE STRING "Seconds of fuzz-json-run")
  set(FUZZ_JSON_CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus-json)
  add_custom_target(fuzz-json-run
    COMMAND ${CMAKE_COMMAND} -E make_directory ${FUZZ_JSON_CORPUS}
    COMMAND fuzz-json -max_total_time=${FUZZ_JSON_SECONDS} -timeout=10
            -rss_limit_mb=2048 -max_len=65536
            -artifact_prefix=${CMAKE_BINARY_DIR}/json-
            ${FUZZ_JSON_CORPUS} ${JSON_SEEDS}
    DEPENDS fuzz-json
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    USES_TERMINAL
    COMMENT "Fuzzing asyncio.json's codec for ${FUZZ_JSON_SECONDS} s")
endif()
