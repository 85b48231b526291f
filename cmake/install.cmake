# install.cmake -- `cmake --install` (and `make install`): libaiolua shared
# and static, aiolua.h, the pkg-config file aiolua.pc, the CMake package
# `aiolua` (targets aiolua::aiolua, shared, and aiolua::aiolua_static) and the
# aiolua binary.  Also the embedding tests: tests/embed/ built against an
# installed copy, several runtimes in one process, create/free leak check.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(AIOLUA_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/aiolua)
set_target_properties(aiolua_shared PROPERTIES EXPORT_NAME aiolua)
set_target_properties(aiolua_static PROPERTIES EXPORT_NAME aiolua_static)

install(TARGETS aiolua_shared aiolua_static EXPORT aiolua-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS aiolua RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/runtime/aiolua.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT aiolua-targets NAMESPACE aiolua::
        DESTINATION ${AIOLUA_CMAKEDIR})

# aiolua-config.cmake: the targets link PkgConfig::LUA/UV (libcurl is
# dlopened at run time, on first use of asyncio.http), which the
# config file makes again in the consumer (variables kept in a function).
file(WRITE ${CMAKE_BINARY_DIR}/aiolua-config.cmake.in [=[
@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
function(_aiolua_find_deps)
  foreach(dep "LUA;lua5.4>=5.4" "UV;libuv>=1.40")
    list(GET dep 0 prefix)
    list(GET dep 1 module)
    if(NOT TARGET PkgConfig::${prefix})
      pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
      if(NOT ${prefix}_FOUND)
        set(aiolua_FOUND FALSE PARENT_SCOPE)
        set(aiolua_NOT_FOUND_MESSAGE "aiolua needs ${module} (pkg-config)"
            PARENT_SCOPE)
        return()
      endif()
    endif()
  endforeach()
endfunction()
_aiolua_find_deps()
if(NOT DEFINED aiolua_FOUND OR aiolua_FOUND)
  include(${CMAKE_CURRENT_LIST_DIR}/aiolua-targets.cmake)
  check_required_components(aiolua)
endif()
]=])
configure_package_config_file(${CMAKE_BINARY_DIR}/aiolua-config.cmake.in
  ${CMAKE_BINARY_DIR}/aiolua-config.cmake INSTALL_DESTINATION ${AIOLUA_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/aiolua-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/aiolua-config.cmake
              ${CMAKE_BINARY_DIR}/aiolua-config-version.cmake
        DESTINATION ${AIOLUA_CMAKEDIR})

# aiolua.pc, relocatable: prefix is found from the file's own place, so
# `cmake --install build --prefix DIR` works for any DIR.
set(_pc_up "")
string(REPLACE "/" ";" _pc_parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
foreach(_p ${_pc_parts})
  string(APPEND _pc_up "/..")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/aiolua.pc
"prefix=\${pcfiledir}${_pc_up}
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}

Name: aiolua
Description: Lua 5.4 coroutines as asyncio tasks on a libuv loop
Version: ${PROJECT_VERSION}
Requires: lua5.4 libuv
Libs: -L\${libdir} -laiolua
Libs.private: -lm -ldl
Cflags: -I\${includedir}
")
install(FILES ${CMAKE_BINARY_DIR}/aiolua.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---- embedding tests ------------------------------------------------------
if(PYTHON3)
  set(_embed_flags "")
  if(AIOLUA_SANITIZE)
    set(_embed_flags "-fsanitize=address,undefined")
  endif()
  foreach(how pkgconfig cmake)
    add_test(NAME embed/install-${how}
             COMMAND ${PYTHON3} ${CMAKE_SOURCE_DIR}/tests/embed/test_install.py
                     --build ${CMAKE_BINARY_DIR} --how ${how}
                     --cc ${CMAKE_C_COMPILER} "--flags=${_embed_flags}")
    set_tests_properties(embed/install-${how} PROPERTIES TIMEOUT 300
                         LABELS "embed;install")
  endforeach()
endif()

foreach(n multi lifecycle)
  add_executable(embed-${n} ${CMAKE_SOURCE_DIR}/tests/embed/test-${n}.c)
  target_link_libraries(embed-${n} PRIVATE aiolua_static)
endforeach()
find_package(Threads)
if(Threads_FOUND)
  target_link_libraries(embed-multi PRIVATE Threads::Threads)
  target_compile_definitions(embed-multi PRIVATE EMBED_THREADS=1)
endif()
add_test(NAME embed/multi COMMAND embed-multi)
set_tests_properties(embed/multi PROPERTIES TIMEOUT 120 LABELS embed)

find_program(VALGRIND valgrind)
if(VALGRIND)
  add_test(NAME embed/lifecycle-valgrind
           COMMAND ${VALGRIND} --quiet --leak-check=full --error-exitcode=1
                   --errors-for-leak-kinds=definite,possible
                   $<TARGET_FILE:embed-lifecycle> 20)
  set_tests_properties(embed/lifecycle-valgrind PROPERTIES TIMEOUT 600
                       LABELS "embed;nosan;valgrind")
endif()
add_test(NAME embed/lifecycle COMMAND embed-lifecycle 200)
set_tests_properties(embed/lifecycle PROPERTIES TIMEOUT 120 LABELS embed)
