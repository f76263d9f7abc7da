#pragma once
// One structured line per event on stderr by default; users redirect it with
// set_log_sink (to spdlog, a file, a test capture). Levels filter before any
// formatting happens, so a disabled debug line costs a branch.
#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "tmon/core/clock.hpp"

namespace tmon {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

constexpr std::string_view to_string(log_level l) noexcept {
    switch (l) {
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::warn: return "warn";
        case log_level::error: return "error";
        case log_level::off: return "off";
    }
    return "info";
}

using log_sink = std::function<void(log_level, std::string_view line)>;

namespace detail {
struct log_state {
    std::atomic<log_level> level{log_level::info};
    std::mutex mutex;
    log_sink sink;
};
inline log_state& logger() {
    static log_state s;
    return s;
}
}  // namespace detail

inline void set_log_level(log_level l) noexcept { detail::logger().level.store(l, std::memory_order_relaxed); }
inline log_level get_log_level() noexcept { return detail::logger().level.load(std::memory_order_relaxed); }
inline void set_log_sink(log_sink sink) {
    auto& s = detail::logger();
    std::lock_guard lock(s.mutex);
    s.sink = std::move(sink);
}

inline bool log_enabled(log_level l) noexcept { return l >= get_log_level() && l != log_level::off; }

namespace detail {
// Not a template: the prefix, the sink call and the lock are compiled once,
// whatever the arguments of the log() calls.
inline void write_log_line(log_level l, std::string_view component, std::string_view message) {
    const std::string_view level = to_string(l);
    std::string line = iso8601(now_seconds());
    line.reserve(line.size() + level.size() + component.size() + message.size() + 12);
    line += ' ';
    line += level;
    line.append(level.size() < 5 ? 5 - level.size() : 0, ' ');  // left-aligned in 5 columns
    line += " [";
    line += component;
    line += "] ";
    line += message;
    auto& s = logger();
    std::lock_guard lock(s.mutex);
    if (s.sink) {
        s.sink(l, line);
    } else {
        line.push_back('\n');
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
}
}  // namespace detail

// log(log_level::warn, "sqlite", "wal is {} pages", n) ->
// 2025-10-07T14:32:00.123Z warn  [sqlite] wal is 1200 pages
// The message is formatted by fmt::format (type-erased arguments, fmt's compiled
// vformat), so a call site instantiates no formatting code of its own.
template <class... Args>
void log(log_level l, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (!log_enabled(l)) return;
    detail::write_log_line(l, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace tmon
