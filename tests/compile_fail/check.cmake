# One compile-fail case: cmake -DCXX=<compiler> -DSRC=<case.cpp> -DFLAGS="<flags>" -P check.cmake
# Passes only if SRC does not compile and the compiler's FIRST error carries the
# text of SRC's "// expect:" line: the user's first line must name what is missing.
file(STRINGS "${SRC}" expect REGEX "^// expect: ")
string(REGEX REPLACE "^// expect: " "" expect "${expect}")
if(expect STREQUAL "")
  message(FATAL_ERROR "${SRC} has no // expect: line")
endif()
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND "${CXX}" ${flags} -fsyntax-only "${SRC}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled with ${CXX}, but it must not")
endif()
string(REGEX MATCH "[^\n]* error: [^\n]*" first "${out}")
string(FIND "${first}" "${expect}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${CXX}: the first error is not \"${expect}\":\n${first}\n\nfull output:\n${out}")
endif()
message(STATUS "${CXX}: ${first}")
