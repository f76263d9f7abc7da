#pragma once
// Random ids like "run_1a2b3c4d5e6f": unguessable enough to be unique across
// processes writing one store, short enough to read in a dashboard.
//
// A splitmix64 sequence per thread, seeded from the OS's entropy (getentropy)
// mixed with the clock and the thread: no <random>, which would cost every TU
// that includes a store a fifth of a second of compile time.
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include <unistd.h>

namespace tmon::detail {

inline std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

inline std::uint64_t random_seed() noexcept {
    std::uint64_t seed = 0;
#if defined(__linux__)
    if (::getentropy(&seed, sizeof seed) != 0) seed = 0;  // then the clock and the thread's address below
#endif
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    thread_local char here;
    std::uint64_t mix = seed ^ (static_cast<std::uint64_t>(ts.tv_sec) << 32) ^ static_cast<std::uint64_t>(ts.tv_nsec) ^
                        (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&here)) << 1) ^
                        (static_cast<std::uint64_t>(::getpid()) << 48);
    return splitmix64(mix);
}

inline std::string make_id(std::string_view prefix) {
    thread_local std::uint64_t state = random_seed();
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t r = splitmix64(state);
    std::string id{prefix};
    id.push_back('_');
    for (int i = 0; i < 12; ++i) {
        id.push_back(hex[r & 0xF]);
        r >>= 4;
    }
    return id;
}

}  // namespace tmon::detail
