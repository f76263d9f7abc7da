# Writes one ctest entry per Catch2 case of a test binary (run after each link):
#   cmake -DEXE=<test binary> -DAREA=<area> -DOUT=<ctest file> -DENV=<a=b|c=d> -P discover_cases.cmake
# The entry is named "<area>: <case sentence>", so `ctest -R "marked best"` picks a case by what
# it says. Catch's own catch_discover_tests splits names at ';' (a dozen of ours have one):
# here every line is one case, and the Catch test spec escapes what Catch reads as syntax.
execute_process(COMMAND "${EXE}" --list-test-names-only OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${EXE} --list-test-names-only failed: ${rc}")
endif()
string(REPLACE "|" ";" ENV "${ENV}")
set(out_names "${out}")
string(REPLACE ";" "<semicolon>" out "${out}")
string(REPLACE "\n" ";" lines "${out}")
set(script "")
set(specs "")
foreach(line IN LISTS lines)
  string(REPLACE "<semicolon>" ";" name "${line}")
  if(name STREQUAL "")
    continue()
  endif()
  # Catch test spec: a backslash makes the next character literal (',' separates specs,
  # '[' starts a tag, '"' quotes, a leading or trailing '*' is a wildcard, and a leading '-'
  # would make the name an option).
  string(REGEX REPLACE "([],[\\\"*])" "\\\\\\1" spec "${name}")
  if(spec MATCHES "^-")
    string(PREPEND spec "\\")
  endif()
  string(REPLACE ";" "<semicolon>" spec_item "${spec}")
  list(APPEND specs "${spec_item}")
  string(REPLACE ";" "," test "${name}")  # a ';' in a ctest name would split it
  string(APPEND script "add_test([==[${AREA}: ${test}]==] [==[${EXE}]==] [==[${spec}]==])\n"
         "set_tests_properties([==[${AREA}: ${test}]==] PROPERTIES LABELS [==[${AREA};case]==] "
         "TIMEOUT 600 ENVIRONMENT [==[${ENV}]==])\n")
endforeach()
# Every spec must pick its case: one run with all of them (comma-separated) lists each name.
list(JOIN specs "," all_specs)
string(REPLACE "<semicolon>" ";" all_specs "${all_specs}")
execute_process(COMMAND "${EXE}" "${all_specs}" --list-test-names-only OUTPUT_VARIABLE picked)
if(NOT picked STREQUAL out_names)
  message(FATAL_ERROR "${EXE}: the test specs written for ctest do not pick exactly its cases:\n${picked}")
endif()
file(WRITE "${OUT}" "${script}")
