# What each tmon component needs, found the same way when tmon is built and when an
# installed tmon is found (tmonConfig.cmake includes this file).
#
# Asio and RapidJSON are header-only. Debian ships neither with an imported target,
# vcpkg and Conan do (asio::asio, rapidjson), so tmon wraps whichever is there in its
# own imported targets, tmon::asio and tmon::rapidjson, that the exported targets name.

# tmon_find_dependency(<dep> <required> <out-var>): dep is one of Threads fmt SQLite3
# ZLIB asio RapidJSON; sets out-var to TRUE when it is available.
macro(tmon_find_dependency _tmon_dep _tmon_required _tmon_out)
  set(${_tmon_out} FALSE)
  if(CMAKE_DISABLE_FIND_PACKAGE_${_tmon_dep})
    # -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON etc. drop the components that need it
    # (the vcpkg port maps its features to these).
  elseif("${_tmon_dep}" STREQUAL "asio")
    if(NOT TARGET tmon::asio)
      find_package(asio CONFIG QUIET)
      if(TARGET asio::asio)
        add_library(tmon::asio INTERFACE IMPORTED ${_tmon_dep_scope})
        target_link_libraries(tmon::asio INTERFACE asio::asio)
      else()
        find_path(TMON_ASIO_INCLUDE_DIR asio.hpp)
        if(TMON_ASIO_INCLUDE_DIR)
          add_library(tmon::asio INTERFACE IMPORTED ${_tmon_dep_scope})
          set_target_properties(tmon::asio PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${TMON_ASIO_INCLUDE_DIR}")
        endif()
      endif()
      if(TARGET tmon::asio)
        find_package(Threads QUIET)
        target_compile_definitions(tmon::asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
        target_link_libraries(tmon::asio INTERFACE Threads::Threads)
      endif()
    endif()
    if(TARGET tmon::asio)
      set(${_tmon_out} TRUE)
    elseif(${_tmon_required})
      message(FATAL_ERROR "tmon: standalone Asio (asio.hpp) not found: install libasio-dev (Debian), "
        "asio (vcpkg, Conan), or set TMON_ASIO_INCLUDE_DIR")
    endif()
  elseif("${_tmon_dep}" STREQUAL "RapidJSON")
    if(NOT TARGET tmon::rapidjson)
      find_package(RapidJSON CONFIG QUIET)
      if(TARGET rapidjson)
        add_library(tmon::rapidjson INTERFACE IMPORTED ${_tmon_dep_scope})
        target_link_libraries(tmon::rapidjson INTERFACE rapidjson)
      else()
        find_path(TMON_RAPIDJSON_INCLUDE_DIR rapidjson/document.h HINTS ${RAPIDJSON_INCLUDE_DIRS})
        if(TMON_RAPIDJSON_INCLUDE_DIR)
          add_library(tmon::rapidjson INTERFACE IMPORTED ${_tmon_dep_scope})
          set_target_properties(tmon::rapidjson PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${TMON_RAPIDJSON_INCLUDE_DIR}")
        endif()
      endif()
    endif()
    if(TARGET tmon::rapidjson)
      set(${_tmon_out} TRUE)
    elseif(${_tmon_required})
      message(FATAL_ERROR "tmon: RapidJSON (rapidjson/document.h) not found: install rapidjson-dev (Debian), "
        "rapidjson (vcpkg, Conan), or set TMON_RAPIDJSON_INCLUDE_DIR")
    endif()
  else()
    if(${_tmon_required})
      find_package(${_tmon_dep} REQUIRED)
    else()
      find_package(${_tmon_dep} QUIET)
    endif()
    set(${_tmon_out} ${${_tmon_dep}_FOUND})
  endif()
endmacro()

# Each component and what it needs beyond the light core (Threads + fmt). Kept in one
# place: CMakeLists.txt, tmonConfig.cmake and the pkg-config files all read it.
set(TMON_COMPONENTS tmon sqlite jsonl client server_core server full compiled)
set(TMON_DEPS_tmon Threads fmt)
set(TMON_DEPS_sqlite SQLite3 RapidJSON)
set(TMON_DEPS_jsonl RapidJSON)
set(TMON_DEPS_client asio RapidJSON ZLIB)
set(TMON_DEPS_server_core asio RapidJSON ZLIB)
set(TMON_DEPS_server asio RapidJSON ZLIB SQLite3)
set(TMON_DEPS_full asio RapidJSON ZLIB SQLite3)
# Components each component's targets link (loaded first by tmonConfig.cmake).
set(TMON_LINKS_server tmon_server_core tmon_sqlite)
set(TMON_LINKS_full tmon_server tmon_client tmon_jsonl)
# tmon::compiled (TMON_BUILD_COMPILED): its links and dependencies are those of the
# components found when tmon was built (CMakeLists.txt sets them, tmonConfig.cmake records them).

# pkg-config: the module each component's tmon-<name>.pc requires, and its extra flags.
# Asio ships no .pc file, so its defines are spelled out.
set(TMON_PC_REQUIRES_tmon fmt)
set(TMON_PC_REQUIRES_sqlite tmon sqlite3 RapidJSON)
set(TMON_PC_REQUIRES_jsonl tmon RapidJSON)
set(TMON_PC_REQUIRES_client tmon RapidJSON zlib)
set(TMON_PC_REQUIRES_server_core tmon RapidJSON zlib)
set(TMON_PC_REQUIRES_server tmon-server-core tmon-sqlite)
set(TMON_PC_REQUIRES_full tmon-server tmon-client tmon-jsonl)
set(TMON_PC_CFLAGS_client -DASIO_STANDALONE -DASIO_NO_DEPRECATED)
set(TMON_PC_CFLAGS_server_core -DASIO_STANDALONE -DASIO_NO_DEPRECATED)
