# The core suite's tests that the globs in CMakeLists.txt do not cover
# (issue 2):
#   core/sigint   tests/sigint_test.py sends SIGINT to a running aiolua and
#                 checks exit status 130 and that cleanup ran (POSIX only)
if(PYTHON3 AND UNIX)
  add_test(NAME core/sigint
           COMMAND ${PYTHON3} ${CMAKE_SOURCE_DIR}/tests/sigint_test.py
                   $<TARGET_FILE:aiolua>
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests)
  set_tests_properties(core/sigint PROPERTIES TIMEOUT 60)
endif()

#   core/oom      tests/oom_test.py runs tests/oom-spawn.lua under address-
#                 space limits: running out of memory while spawning tasks
#                 ends in a clear error, not a crash or a hang (not under the
#                 sanitizers, whose shadow memory needs more address space)
if(PYTHON3 AND UNIX)
  add_test(NAME core/oom
           COMMAND ${PYTHON3} ${CMAKE_SOURCE_DIR}/tests/oom_test.py
                   $<TARGET_FILE:aiolua>
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests)
  set_tests_properties(core/oom PROPERTIES TIMEOUT 300 LABELS nosan)
endif()

#   core/oom-timers  tests/oom-timers.lua makes allocations fail (a test
#                 module, tests/c/memlimit.c) while timers fire: the error
#                 stays out of libuv's frames and the runtime runs again
add_library(memlimit MODULE ${CMAKE_SOURCE_DIR}/tests/c/memlimit.c)
target_link_libraries(memlimit PRIVATE PkgConfig::LUA)
# its allocator must outlive lua_close, which unloads C modules
target_link_options(memlimit PRIVATE -Wl,-z,nodelete)
set_target_properties(memlimit PROPERTIES PREFIX ""
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/testmods)
add_test(NAME core/oom-timers
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/oom-timers.lua
                 ${CMAKE_BINARY_DIR}/testmods)
set_tests_properties(core/oom-timers PROPERTIES TIMEOUT 60
  PASS_REGULAR_EXPRESSION "runs again\nfailures seen:\ttrue")
