# TMON_TEST_SINGLE_INCLUDE: the test binaries compile against single_include/tmon/
# instead of include/, as nlohmann/json's JSON_MultipleHeaders=OFF does, so the whole
# suite checks the files users copy, not one consumer program.
#
# tmon_single_include_target(<name>): an INTERFACE target with everything tmon_dev_flags
# carries (warnings, sanitizers, fmt, Asio, RapidJSON, SQLite, zlib) except include/, and
# a shim tree in its place: every tmon/<path>.hpp of include/ is one line including the
# smallest single_include file that holds it (scripts/amalgamate.py --list, the files'
# own record of what they inline), then an #error unless that file defined the header's
# guard. A header no file holds gets only an #error: nothing falls back to include/.

function(tmon_single_include_target name python)
  set(_shim ${CMAKE_CURRENT_BINARY_DIR}/single_include_shim)
  set(_single ${PROJECT_SOURCE_DIR}/single_include/tmon)
  execute_process(COMMAND ${python} ${PROJECT_SOURCE_DIR}/scripts/amalgamate.py --list
                  OUTPUT_VARIABLE _list RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "TMON_TEST_SINGLE_INCLUDE: scripts/amalgamate.py --list failed")
  endif()
  # Re-run configure when a header appears or goes, or the amalgamation's map changes.
  file(GLOB_RECURSE _headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/include
       ${PROJECT_SOURCE_DIR}/include/tmon/*.hpp)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/scripts/amalgamate.py)
  string(REPLACE "\n" ";" _list "${_list}")
  set(_written)
  foreach(_header IN LISTS _headers)
    set(_file)
    foreach(_line IN LISTS _list)  # smallest file first: the first that holds it
      if(_line MATCHES "^([^ ]+) ${_header}$")
        set(_file ${CMAKE_MATCH_1})
        break()
      endif()
    endforeach()
    string(REGEX REPLACE "^tmon/" "" _guard "${_header}")
    string(REGEX REPLACE "[^A-Za-z0-9]" "_" _guard "${_guard}")
    string(TOUPPER "TMON_SINGLE_${_guard}" _guard)
    if(_file)
      set(_text "#include \"${_single}/${_file}\"\n#ifndef ${_guard}\n"
                "#error \"${_header}: single_include/tmon/${_file} does not define ${_guard}\"\n#endif\n")
    else()
      set(_text "#error \"${_header} is in include/ but in no single_include file (scripts/amalgamate.py)\"\n")
    endif()
    string(CONCAT _text "// ${_header} through the single header (tests/cmake/single_include.cmake)\n" ${_text})
    # CONFIGURE writes only what changed: a re-configure does not rebuild every test.
    file(CONFIGURE OUTPUT ${_shim}/${_header} CONTENT "${_text}")
    list(APPEND _written ${_shim}/${_header})
  endforeach()
  file(GLOB_RECURSE _old ${_shim}/*)
  if(_old)
    list(REMOVE_ITEM _old ${_written})
    if(_old)
      file(REMOVE ${_old})
    endif()
  endif()

  # tmon_dev_flags' usage requirements, walked through tmon's own targets so that
  # include/ (their only include folder) is left behind; third-party targets are linked.
  add_library(${name} INTERFACE)
  target_include_directories(${name} INTERFACE ${_shim})
  set(_todo tmon_dev_flags)
  set(_done)
  while(_todo)
    list(POP_FRONT _todo _t)
    get_target_property(_alias ${_t} ALIASED_TARGET)
    if(_alias)
      set(_t ${_alias})
    endif()
    if(_t IN_LIST _done)
      continue()
    endif()
    list(APPEND _done ${_t})
    foreach(_prop COMPILE_OPTIONS COMPILE_DEFINITIONS COMPILE_FEATURES LINK_OPTIONS)
      get_target_property(_v ${_t} INTERFACE_${_prop})
      if(_v)
        set_property(TARGET ${name} APPEND PROPERTY INTERFACE_${_prop} ${_v})
      endif()
    endforeach()
    get_target_property(_dirs ${_t} INTERFACE_INCLUDE_DIRECTORIES)
    foreach(_dir IN LISTS _dirs)
      string(FIND "${_dir}" "${PROJECT_SOURCE_DIR}/include" _at)
      if(_dir AND _at EQUAL -1 AND NOT _dir MATCHES "^\\$<INSTALL_INTERFACE:")
        message(FATAL_ERROR "TMON_TEST_SINGLE_INCLUDE: ${_t} has an include folder besides include/: ${_dir}")
      endif()
    endforeach()
    get_target_property(_links ${_t} INTERFACE_LINK_LIBRARIES)
    foreach(_l IN LISTS _links)
      if(NOT _l OR _l MATCHES "^::@")
        continue()
      endif()
      set(_own FALSE)
      if(TARGET ${_l})
        get_target_property(_imported ${_l} IMPORTED)
        if(NOT _imported)
          set(_own TRUE)
        endif()
      endif()
      if(_own)
        list(APPEND _todo ${_l})
      else()
        target_link_libraries(${name} INTERFACE ${_l})
      endif()
    endforeach()
  endwhile()
endfunction()
