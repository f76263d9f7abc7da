#pragma once
// Random ids like "run_1a2b3c4d5e6f": unguessable enough to be unique across
// processes writing one store, short enough to read in a dashboard.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace tmon::detail {

inline std::string make_id(std::string_view prefix) {
    thread_local std::mt19937_64 rng{std::random_device{}() ^
                                     (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&prefix)) << 1)};
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t r = rng();
    std::string id{prefix};
    id.push_back('_');
    for (int i = 0; i < 12; ++i) {
        id.push_back(hex[r & 0xF]);
        r >>= 4;
    }
    return id;
}

}  // namespace tmon::detail
