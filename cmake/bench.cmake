# The benchmark driver's smoke test (issue 8):
#   bench/smoke   bench/run at a hundredth of each workload's size, one run
#                 of each implementation present on the machine (nothing
#                 installed): aiolua's workload scripts, the C limits (built
#                 from bench/c) and every peer found must run and report.
#                 With --strict, a failed or missing run of aiolua, a limit
#                 that does not build or a failed run of a peer fails it.
#                 W5 needs nginx, which only `make bench` installs.  Not
#                 under the sanitizers: it would measure nothing there.
if(PYTHON3 AND UNIX AND NOT APPLE)
  add_test(NAME bench/smoke
           COMMAND ${PYTHON3} ${CMAKE_SOURCE_DIR}/bench/run
                   -w W1,W2,W3,W4,W6,W7,TR --scale 0.01 -n 1 --no-install
                   --strict --timeout 60 --aiolua $<TARGET_FILE:aiolua>
                   --out ${CMAKE_BINARY_DIR}/bench-smoke)
  set_tests_properties(bench/smoke PROPERTIES TIMEOUT 240 LABELS nosan)
endif()

#   bench/exit-status  a run of aiolua that fails makes bench/run exit with
#                 status 1 and name it (here "aiolua" is /bin/false, and no
#                 peer runs), rather than print a table and exit 0
if(PYTHON3 AND UNIX AND NOT APPLE)
  add_test(NAME bench/exit-status
           COMMAND sh -c "out=$(\"$0\" \"$1\" -w W4 --scale 0.001 -n 1 --no-install --only no-such-peer --aiolua /bin/false --out \"$2\" 2>&1); rc=$?; printf '%s\\n' \"$out\"; [ $rc -eq 1 ] && printf '%s\\n' \"$out\" | grep -q '^bench: W4: aiolua failed: exit 1'"
                   ${PYTHON3} ${CMAKE_SOURCE_DIR}/bench/run
                   ${CMAKE_BINARY_DIR}/bench-smoke)
  set_tests_properties(bench/exit-status PROPERTIES TIMEOUT 60 LABELS nosan)
endif()
