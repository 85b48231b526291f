# http.cmake -- tests of asyncio.http: a ctest fixture runs the local test
# server (tests/http/server.py, plus nginx for HTTPS and HTTP/2) and hands
# its ports to the tests through the state file named by AIOLUA_HTTP_STATE.
# Every HTTP test is labelled "http" (ctest -L http).
set(HTTP_STATE ${CMAKE_BINARY_DIR}/http-server.state)
set(HTTP_SERVER ${CMAKE_SOURCE_DIR}/tests/http/server.py)

add_test(NAME http/server-start
         COMMAND ${PYTHON3} ${HTTP_SERVER} start --state ${HTTP_STATE} --nginx)
set_tests_properties(http/server-start PROPERTIES
                     FIXTURES_SETUP http_server LABELS http TIMEOUT 30)
add_test(NAME http/server-stop
         COMMAND ${PYTHON3} ${HTTP_SERVER} stop --state ${HTTP_STATE})
set_tests_properties(http/server-stop PROPERTIES
                     FIXTURES_CLEANUP http_server LABELS http TIMEOUT 30)

file(GLOB HTTP_LUA_TESTS CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/tests/lua/test-http*.lua)
foreach(f ${HTTP_LUA_TESTS})
  get_filename_component(n ${f} NAME_WE)
  set_tests_properties(lua/${n} PROPERTIES
                       FIXTURES_REQUIRED http_server
                       ENVIRONMENT AIOLUA_HTTP_STATE=${HTTP_STATE}
                       LABELS http TIMEOUT 60)
endforeach()

# The tutorial scripts start their own server when given no URL.
foreach(s web_status web_get)
  if(EXISTS ${CMAKE_SOURCE_DIR}/scripts/${s}.lua)
    add_test(NAME http/${s} COMMAND aiolua ${CMAKE_SOURCE_DIR}/scripts/${s}.lua
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/scripts)
    set_tests_properties(http/${s} PROPERTIES LABELS http TIMEOUT 30)
  endif()
endforeach()

# Exiting with requests in flight, an unclosed Client and an open stream.
add_test(NAME http/shutdown
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/http/shutdown.lua)
set_tests_properties(http/shutdown PROPERTIES
                     FIXTURES_REQUIRED http_server
                     ENVIRONMENT AIOLUA_HTTP_STATE=${HTTP_STATE}
                     PASS_REGULAR_EXPRESSION "^done" LABELS http TIMEOUT 30)

# The curl multi <-> libuv adapter alone, in C.
add_executable(http-multi-test ${CMAKE_SOURCE_DIR}/tests/http/test-multi.c
               ${CMAKE_SOURCE_DIR}/bindings/http_multi.c)
target_include_directories(http-multi-test PRIVATE ${CMAKE_SOURCE_DIR}/bindings)
target_link_libraries(http-multi-test PRIVATE PkgConfig::UV PkgConfig::CURL)
add_test(NAME http/multi COMMAND http-multi-test)
set_tests_properties(http/multi PROPERTIES
                     FIXTURES_REQUIRED http_server
                     ENVIRONMENT AIOLUA_HTTP_STATE=${HTTP_STATE}
                     SKIP_RETURN_CODE 77 LABELS http TIMEOUT 60)

# Misuse and races: bad arguments, closes from other tasks and finalizers.
add_test(NAME http/edge
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/http/edge.lua
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/http)
set_tests_properties(http/edge PROPERTIES
                     FIXTURES_REQUIRED http_server
                     ENVIRONMENT AIOLUA_HTTP_STATE=${HTTP_STATE}
                     LABELS http TIMEOUT 60)

# Out of memory at each allocation in turn of requests, streams, timeouts.
add_test(NAME http/oom
         COMMAND aiolua ${CMAKE_SOURCE_DIR}/tests/http/oom.lua ${CMAKE_BINARY_DIR}/testmods
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/http)
set_tests_properties(http/oom PROPERTIES
                     FIXTURES_REQUIRED http_server
                     ENVIRONMENT AIOLUA_HTTP_STATE=${HTTP_STATE}
                     PASS_REGULAR_EXPRESSION "all 6 scenarios ran on"
                     FAIL_REGULAR_EXPRESSION "attempt to "
                     LABELS http TIMEOUT 300)
