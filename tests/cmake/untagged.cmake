# Fails when a case of an area's binary lacks the area's tag:
#   cmake -DEXE=<test binary> -DAREA=<area> -P untagged.cmake   (scripts/tag_areas.py --fix adds them)
execute_process(COMMAND "${EXE}" "~[${AREA}]" --list-test-names-only OUTPUT_VARIABLE out)
string(STRIP "${out}" out)
if(NOT out STREQUAL "")
  message(FATAL_ERROR "cases of test_${AREA} without the [${AREA}] tag:\n${out}")
endif()
