#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

namespace tmon {

// Wall time is carried everywhere as Unix seconds in a double: what charts plot
// and what JSON clients parse without a date library. Microsecond resolution.
inline double now_seconds() noexcept {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// ISO 8601 UTC with milliseconds, e.g. 2025-10-07T14:32:00.123Z, for run and
// checkpoint timestamps in the REST API.
inline std::string iso8601(double unix_seconds) {
    if (!(unix_seconds > 0)) return {};
    double whole = std::floor(unix_seconds);
    auto t = static_cast<std::time_t>(whole);
    int ms = static_cast<int>((unix_seconds - whole) * 1000.0);
    if (ms > 999) ms = 999;
    if (ms < 0) ms = 0;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

}  // namespace tmon
