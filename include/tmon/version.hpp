#pragma once
// The one place the version lives. CMakeLists.txt, meson.build, conanfile.py and
// scripts/amalgamate.py parse the three numbers below; ports/tmon/vcpkg.json
// repeats them (vcpkg cannot read a header) and tests/packaging checks it agrees.
#define TMON_VERSION_MAJOR 0
#define TMON_VERSION_MINOR 1
#define TMON_VERSION_PATCH 0

#define TMON_DETAIL_STR2(x) #x
#define TMON_DETAIL_STR(x) TMON_DETAIL_STR2(x)
#define TMON_VERSION_STRING \
    TMON_DETAIL_STR(TMON_VERSION_MAJOR) "." TMON_DETAIL_STR(TMON_VERSION_MINOR) "." TMON_DETAIL_STR(TMON_VERSION_PATCH)

namespace tmon {
inline constexpr int version_major = TMON_VERSION_MAJOR;
inline constexpr int version_minor = TMON_VERSION_MINOR;
inline constexpr int version_patch = TMON_VERSION_PATCH;
inline constexpr const char* version_string = TMON_VERSION_STRING;
inline constexpr int api_version = 1;
}  // namespace tmon
