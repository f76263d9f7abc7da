#pragma once
// Reading /proc with plain read(2) into a stack buffer: no iostreams, no
// allocation, and a missing file (not Linux, a locked-down container) reads
// as "no data" rather than an error.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

namespace tmon::detail {

// Reads up to N-1 bytes of `path`; empty view on failure.
template <std::size_t N>
std::string_view read_proc_file(const char* path, char (&buf)[N]) noexcept {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::size_t total = 0;
    while (total < N - 1) {
        ssize_t n = ::read(fd, buf + total, N - 1 - total);
        if (n <= 0) break;
        total += static_cast<std::size_t>(n);
    }
    ::close(fd);
    buf[total] = '\0';
    return {buf, total};
}

struct cpu_times {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
};

// First line of /proc/stat: "cpu user nice system idle iowait irq softirq steal ...".
// idle + iowait count as idle; guest time is already inside user/nice.
inline std::optional<cpu_times> parse_proc_stat(std::string_view text) noexcept {
    if (text.substr(0, 4) != "cpu ") return std::nullopt;
    const char* p = text.data() + 4;
    std::uint64_t f[8] = {};
    for (auto& v : f) {
        char* end = nullptr;
        v = std::strtoull(p, &end, 10);
        if (end == p) break;
        p = end;
    }
    cpu_times t;
    std::uint64_t idle = f[3] + f[4];
    for (auto v : f) t.total += v;
    t.busy = t.total - idle;
    return t;
}

inline std::optional<cpu_times> read_cpu_times() noexcept {
    char buf[1024];
    return parse_proc_stat(read_proc_file("/proc/stat", buf));
}

// Value of "Key:   1234 kB" in /proc/meminfo, in bytes.
inline std::optional<std::uint64_t> meminfo_field(std::string_view text, std::string_view key) noexcept {
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t eol = text.find('\n', at);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(at, eol - at);
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
            return std::strtoull(line.data() + key.size() + 1, nullptr, 10) * 1024;
        }
        at = eol + 1;
    }
    return std::nullopt;
}

struct memory_usage {
    std::uint64_t used = 0;
    std::uint64_t total = 0;
};

inline std::optional<memory_usage> read_memory_usage() noexcept {
    char buf[8192];
    auto text = read_proc_file("/proc/meminfo", buf);
    auto total = meminfo_field(text, "MemTotal");
    auto available = meminfo_field(text, "MemAvailable");
    if (!total || !available) return std::nullopt;
    return memory_usage{*total > *available ? *total - *available : 0, *total};
}

// Second field of /proc/self/statm: resident pages.
inline std::uint64_t read_process_rss() noexcept {
    char buf[256];
    auto text = read_proc_file("/proc/self/statm", buf);
    if (text.empty()) return 0;
    char* end = nullptr;
    std::strtoull(text.data(), &end, 10);
    std::uint64_t pages = std::strtoull(end, nullptr, 10);
    return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace tmon::detail
