#pragma once
// The one place the version lives; CMake and meson parse these three lines.
#define TMON_VERSION_MAJOR 0
#define TMON_VERSION_MINOR 1
#define TMON_VERSION_PATCH 0

namespace tmon {
inline constexpr int version_major = TMON_VERSION_MAJOR;
inline constexpr int version_minor = TMON_VERSION_MINOR;
inline constexpr int version_patch = TMON_VERSION_PATCH;
inline constexpr const char* version_string = "0.1.0";
inline constexpr int api_version = 1;
}  // namespace tmon
