# Header-only: install include/ and the CMake package config, nothing to compile.
vcpkg_from_git(
  OUT_SOURCE_PATH SOURCE_PATH
  URL "${TMON_GIT_URL}"
  REF "${TMON_GIT_REF}"
)
vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS -DTMON_BUILD_TESTS=OFF -DTMON_BUILD_EXAMPLES=OFF -DTMON_BUILD_BENCHMARKS=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/tmon)
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/lib")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
