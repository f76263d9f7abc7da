# Overlay port that builds tmon from the source tree it lives in (ports/tmon/ -> ../..):
#   vcpkg install tmon --overlay-ports=path/to/tmon/ports
# Header-only: one (release) configuration, no tmon-server program; the package is
# include/, the CMake config (find_package(tmon CONFIG COMPONENTS ...)) and the
# pkg-config files. A feature left out drops the components that need it.
set(VCPKG_BUILD_TYPE release)
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  INVERTED_FEATURES
    sqlite  CMAKE_DISABLE_FIND_PACKAGE_SQLite3
    network CMAKE_DISABLE_FIND_PACKAGE_asio
    network CMAKE_DISABLE_FIND_PACKAGE_ZLIB
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DTMON_DEVELOPER_MODE=OFF
    -DTMON_BUILD_SERVER=OFF
    -DTMON_INSTALL=ON
    ${FEATURE_OPTIONS}
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/tmon)
vcpkg_fixup_pkgconfig()

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
