// The jsonl store's metric line encoder writes numbers itself (for speed):
// its text must be exactly fmt's shortest round-trip "{}", for any double.
#include <catch2/catch.hpp>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tmon/storage/detail/metric_lines.hpp"

using namespace tmon;

namespace {
std::string shortest(double v) {
    char buf[64];
    return {buf, detail::write_shortest(buf, v)};
}
}  // namespace

TEST_CASE("metric lines write every finite double as fmt's shortest round-trip text", "[storage]") {
    std::vector<double> edges{0.0,
                              -0.0,
                              1.0,
                              -1.0,
                              0.1,
                              0.5,
                              1e-5,
                              1e-4,
                              0.0001234,
                              9.99e-5,
                              1e15,
                              1e16,
                              9.999999999999998e15,
                              123456789012345678.0,
                              1.7e9,
                              1.7e9 + 0.01,
                              5e-324,
                              DBL_MIN,
                              -DBL_MIN,
                              DBL_MAX,
                              1e100,
                              1e-100,
                              1e22,
                              1e21,
                              123.456,
                              42.0,
                              1e300,
                              2.5e-308,
                              4.999987500031249e-07};
    for (double v : edges) {
        INFO("value " << fmt::format("{}", v));
        REQUIRE(shortest(v) == fmt::format("{}", v));
    }
    std::mt19937_64 rng{12345};
    for (int i = 0; i < 200'000; ++i) {
        double v = std::bit_cast<double>(rng());
        if (!std::isfinite(v)) continue;
        REQUIRE(shortest(v) == fmt::format("{}", v));
    }
    std::uniform_real_distribution<double> ordinary{-1e6, 1e6};
    for (int i = 0; i < 100'000; ++i) {
        double v = ordinary(rng);
        REQUIRE(shortest(v) == fmt::format("{}", v));
    }
}

TEST_CASE("a metric line holds one key's steps, times and values in write order", "[storage]") {
    std::vector<metric_point> pts{
        {"loss", 1, 10.5, 0.9}, {"lr", 1, 10.5, 0.1}, {"loss", 2, 11.0, 0.8}, {"lr", 2, 11.0, 0.09}};
    detail::metric_groups groups;
    groups.assign(pts);
    detail::metric_line_encoder enc;
    CHECK(enc.encode(groups) ==
          "{\"key\":\"loss\",\"steps\":[1,2],\"times\":[10.5,11],\"values\":[0.9,0.8]}\n"
          "{\"key\":\"lr\",\"steps\":[1,2],\"times\":[10.5,11],\"values\":[0.1,0.09]}\n");
}
