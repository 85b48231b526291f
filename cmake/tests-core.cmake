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
