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
# It is built as Lua C modules are, not linked to liblua: the Lua API comes
# from the binary that loads it (the test fails if aiolua does not export it)
add_library(memlimit MODULE ${CMAKE_SOURCE_DIR}/tests/c/memlimit.c)
target_include_directories(memlimit PRIVATE ${LUA_INCLUDE_DIRS})
# its allocator must outlive lua_close, which unloads C modules
target_link_options(memlimit PRIVATE -Wl,-z,nodelete)
set_target_properties(memlimit PROPERTIES PREFIX ""
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/testmods)
add_test(NAME core/oom-timers
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/oom-timers.lua
                 ${CMAKE_BINARY_DIR}/testmods)
set_tests_properties(core/oom-timers PROPERTIES TIMEOUT 60
  PASS_REGULAR_EXPRESSION "transient failure:\ttrue\t40\n.*runs again\nfailures seen:\ttrue")

#   core/cmodule  tests/cmod.lua requires a C module (tests/c/cmod.c) that,
#                 linked to nothing, takes the Lua API and aiolua's C API
#                 from the binary: its futures are awaited and cancelled
add_library(cmod MODULE ${CMAKE_SOURCE_DIR}/tests/c/cmod.c)
target_include_directories(cmod PRIVATE ${CMAKE_SOURCE_DIR}/runtime
                           ${LUA_INCLUDE_DIRS} ${UV_INCLUDE_DIRS})
target_compile_definitions(cmod PRIVATE _GNU_SOURCE)
set_target_properties(cmod PROPERTIES PREFIX ""
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/testmods)
add_test(NAME core/cmodule
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/cmod.lua ${CMAKE_BINARY_DIR}/testmods)
set_tests_properties(core/cmodule PROPERTIES TIMEOUT 60
  PASS_REGULAR_EXPRESSION "open timers:\t0\nbad argument:\tfalse\tbad argument #1 to 'cmod.after' \\(must not be negative\\)\n")

#   core/oom-gather  tests/oom-gather.lua runs out of memory at each
#                 allocation of a gather in turn: a clear error each time,
#                 and no mark left on its futures (a later gather waits)
add_test(NAME core/oom-gather
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/oom-gather.lua
                 ${CMAKE_BINARY_DIR}/testmods)
set_tests_properties(core/oom-gather PROPERTIES TIMEOUT 60
  PASS_REGULAR_EXPRESSION "gathered 40 after [1-9][0-9]* failed calls")

#   core/oom-sweep  tests/oom-sweep.lua fails each allocation in turn of
#                 scenarios over tasks, gather, queues, locks, timeouts,
#                 TaskGroup, files and loading: each asyncio.run raises or
#                 returns, and the runtime runs on afterwards; a Lua error
#                 of the runtime's own code ("attempt to ...") fails it: an
#                 invariant broken by an allocation that failed half-way
add_test(NAME core/oom-sweep
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/oom-sweep.lua
                 ${CMAKE_BINARY_DIR}/testmods)
set_tests_properties(core/oom-sweep PROPERTIES TIMEOUT 300
  PASS_REGULAR_EXPRESSION "all 31 scenarios ran on"
  FAIL_REGULAR_EXPRESSION "attempt to ;a timer is lost")

#   core/oom-once  the same scenarios with only the n-th allocation failing
#                 (and Lua's retry of it), for each n in turn: a transient
#                 shortage.  The run goes on after it, so half-done work
#                 shows: a completion lost by as_completed ("attempt to
#                 index a nil value"), a timer lost while firing, an I/O
#                 completion whose settling failed once ("settling a
#                 future failed": settle_from_c tries again)
add_test(NAME core/oom-once
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/oom-sweep.lua
                 ${CMAKE_BINARY_DIR}/testmods --once)
set_tests_properties(core/oom-once PROPERTIES TIMEOUT 300
  PASS_REGULAR_EXPRESSION "all 31 scenarios ran on"
  FAIL_REGULAR_EXPRESSION "attempt to ;a timer is lost;settling a future failed")

#   core/oom-once-pad  the same with 100 KB kept alive (OOM_PAD), so that
#                 the collector's cycles fall elsewhere and the n-th
#                 allocation is another one: with it, a done callback
#                 whose call failed before its body began (Lua's CallInfo
#                 or stack growth) was dropped, and a TaskGroup waited
#                 for good (CI's paths showed it without the pad)
add_test(NAME core/oom-once-pad
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/oom-sweep.lua
                 ${CMAKE_BINARY_DIR}/testmods --once)
set_tests_properties(core/oom-once-pad PROPERTIES TIMEOUT 300
  ENVIRONMENT "OOM_PAD=100000"
  PASS_REGULAR_EXPRESSION "all 31 scenarios ran on"
  FAIL_REGULAR_EXPRESSION "attempt to ;a timer is lost;settling a future failed")

#   core/oom-zombie  tests/oom-zombie.lua: tasks whose outcome runs out of
#                 memory as their thread ends still end (they stayed alive,
#                 one more with each failed run: 67 after this sweep)
add_test(NAME core/oom-zombie
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/oom-zombie.lua
                 ${CMAKE_BINARY_DIR}/testmods)
set_tests_properties(core/oom-zombie PROPERTIES TIMEOUT 120
  PASS_REGULAR_EXPRESSION "left alive after a failed run:\t[0-6]\n")

#   core/heap-keep  tests/heap-keep.lua: the aiolua binary keeps freed heap
#                 (tune_malloc in runtime/main.c), so a large collected
#                 string stays resident for reuse; lua5.4, with glibc's
#                 defaults, gives it back (not under the sanitizers, whose
#                 allocator ignores mallopt)
if(UNIX AND NOT APPLE)
  add_test(NAME core/heap-keep
           COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/heap-keep.lua)
  set_tests_properties(core/heap-keep PROPERTIES TIMEOUT 30 LABELS nosan
    PASS_REGULAR_EXPRESSION "freed heap kept")
endif()
