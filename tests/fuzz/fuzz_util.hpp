#pragma once
// Helpers shared by the libFuzzer targets: how an input is cut into reads, and
// what a target does when an invariant breaks.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tmon::fuzz {

// An invariant the library promises is broken: print why and abort, which
// libFuzzer reports as a crash and saves the input for.
[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::fflush(stderr);
    std::abort();
}

#define TMON_FUZZ_CHECK(cond)                                                                 \
    do {                                                                                      \
        if (!(cond)) ::tmon::fuzz::fail(#cond " (" __FILE__ ":" TMON_FUZZ_STR(__LINE__) ")"); \
    } while (0)
#define TMON_FUZZ_STR(x) TMON_FUZZ_STR2(x)
#define TMON_FUZZ_STR2(x) #x

// FNV-1a: the split points of an input derive from its own bytes, so the seed
// corpora stay plain text (a request, a frame) and a crash replays exactly.
inline std::uint64_t hash_bytes(std::string_view s) noexcept {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
}

// xorshift64*: small and deterministic.
class rng {
public:
    explicit rng(std::uint64_t seed) noexcept : s_(seed ? seed : 0x9E3779B97F4A7C15ULL) {}
    std::uint64_t next() noexcept {
        s_ ^= s_ >> 12;
        s_ ^= s_ << 25;
        s_ ^= s_ >> 27;
        return s_ * 2685821657736338717ULL;
    }
    std::size_t below(std::size_t n) noexcept { return n ? static_cast<std::size_t>(next() % n) : 0; }

private:
    std::uint64_t s_;
};

// How a stream of bytes arrives: all at once, a byte at a time, or in reads of
// sizes drawn from `seed` (mostly small, now and then large), as a socket
// might deliver it.
enum class split { whole, bytewise, random };

inline std::vector<std::string_view> cut(std::string_view s, split how, std::uint64_t seed) {
    std::vector<std::string_view> out;
    if (how == split::whole) {
        out.push_back(s);
        return out;
    }
    rng r(seed);
    while (!s.empty()) {
        std::size_t n = 1;
        if (how == split::random) {
            auto k = r.below(8);
            n = k < 5 ? 1 + r.below(8) : k < 7 ? 1 + r.below(64) : 1 + r.below(4096);
        }
        n = n < s.size() ? n : s.size();
        out.push_back(s.substr(0, n));
        s.remove_prefix(n);
    }
    return out;
}

// Takes fields off the front of an input (FuzzedDataProvider's idea, kept
// here so the targets also build with GCC against replay_main.cpp).
class byte_reader {
public:
    explicit byte_reader(std::string_view in) noexcept : in_(in) {}
    bool empty() const noexcept { return in_.empty(); }
    std::uint8_t byte() noexcept {
        if (in_.empty()) return 0;
        auto b = static_cast<std::uint8_t>(in_.front());
        in_.remove_prefix(1);
        return b;
    }
    bool flag() noexcept { return byte() & 1; }
    std::size_t below(std::size_t n) noexcept { return n ? byte() % n : 0; }
    // A string of up to max_len bytes: its length is the next byte's say.
    std::string_view string(std::size_t max_len) noexcept {
        std::size_t n = below(max_len + 1);
        n = n < in_.size() ? n : in_.size();
        auto out = in_.substr(0, n);
        in_.remove_prefix(n);
        return out;
    }

private:
    std::string_view in_;
};

// "<size>:<bytes>|": fields of a description compared across ways of parsing.
inline void append_field(std::string& out, std::string_view s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
    out += '|';
}

// This process's scratch folder, "<prefix><pid>" in /dev/shm when writable,
// created once and removed at exit. Folders a crashed run of the same target
// left behind (it never reached atexit) are cleared first: in /dev/shm they
// hold memory.
inline const std::filesystem::path& scratch_dir(std::string_view prefix) {
    namespace fs = std::filesystem;
    static fs::path dir;
    if (!dir.empty()) return dir;
    const char* shm = "/dev/shm";
    fs::path base = fs::is_directory(shm) && ::access(shm, W_OK) == 0 ? fs::path(shm) : fs::temp_directory_path();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(base, ec)) {
        auto name = e.path().filename().string();
        if (!name.starts_with(prefix)) continue;
        long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
    }
    dir = base / (std::string(prefix) + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::atexit([] {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    });
    return dir;
}

}  // namespace tmon::fuzz
