# repl.cmake -- REPL tests: tests/repl/test_repl.py drives `aiolua` through a
# pseudo-terminal, one ctest test per case.  They need libedit (line editing)
# and Python 3.
if(EDIT_FOUND AND PYTHON3)
  set(REPL_CASES expressions multiline toplevel_await background ctrl_c ctrl_d
                 ctrl_d_stubborn history history_file errors script_then_repl
                 plain_lines piped_input)
  foreach(c ${REPL_CASES})
    add_test(NAME repl/${c}
             COMMAND ${PYTHON3} ${CMAKE_SOURCE_DIR}/tests/repl/test_repl.py
                     $<TARGET_FILE:aiolua> ${c})
    set_tests_properties(repl/${c} PROPERTIES TIMEOUT 60 LABELS repl)
  endforeach()
endif()
