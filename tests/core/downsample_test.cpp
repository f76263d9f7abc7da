#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tmon/core/downsample.hpp"

using namespace tmon;

namespace {

std::vector<series_point> noisy_series(std::size_t n) {
    std::vector<series_point> pts(n);
    for (std::size_t i = 0; i < n; ++i)
        pts[i] = {static_cast<step_t>(i), 1e9 + static_cast<double>(i),
                  1.0 + 0.01 * std::sin(static_cast<double>(i) * 0.37)};
    return pts;
}

bool has_point(const std::vector<series_point>& pts, step_t step, double value) {
    return std::any_of(pts.begin(), pts.end(), [&](auto& p) { return p.step == step && p.value == value; });
}

bool ascending(const std::vector<series_point>& pts) {
    return std::adjacent_find(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.step >= b.step; }) == pts.end();
}

}  // namespace

TEST_CASE("a single spike in a million points survives downsampling to a thousand", "[core]") {
    auto pts = noisy_series(1'000'000);
    pts[654'321].value = 50.0;
    pts[123'457].value = -50.0;
    for (auto* f : {&downsample_lttb, &downsample_minmax}) {
        auto out = f(pts, 1000);
        CHECK(out.size() <= 1000);
        CHECK(out.size() >= 900);
        CHECK(has_point(out, 654'321, 50.0));
        CHECK(has_point(out, 123'457, -50.0));
        CHECK(out.front().step == 0);
        CHECK(out.back().step == 999'999);
        CHECK(ascending(out));
    }
}

TEST_CASE("lttb keeps both extremes even when they fall in the same bucket", "[core]") {
    auto pts = noisy_series(10'000);
    pts[5000].value = 9.0;
    pts[5001].value = -9.0;
    auto out = downsample_lttb(pts, 100);
    CHECK(out.size() <= 100);
    CHECK(has_point(out, 5000, 9.0));
    CHECK(has_point(out, 5001, -9.0));
    CHECK(ascending(out));
}

TEST_CASE("min/max buckets keep each bucket's low and high in step order", "[core]") {
    std::vector<series_point> pts;
    for (step_t i = 0; i < 1002; ++i) pts.push_back({i, 0, (i % 2) ? 1.0 : -1.0});
    auto out = downsample_minmax(pts, 102);
    CHECK(out.size() <= 102);
    CHECK(ascending(out));
    auto highs = std::count_if(out.begin(), out.end(), [](auto& p) { return p.value == 1.0; });
    auto lows = std::count_if(out.begin(), out.end(), [](auto& p) { return p.value == -1.0; });
    CHECK(highs >= 50);
    CHECK(lows >= 50);
}

TEST_CASE("a series no longer than max_points, or max_points 0, comes back whole", "[core]") {
    auto pts = noisy_series(50);
    CHECK(downsample_lttb(pts, 50).size() == 50);
    CHECK(downsample_minmax(pts, 0).size() == 50);
    CHECK(downsample_lttb({}, 10).empty());
}

TEST_CASE("tiny max_points still keeps the ends and stays within the limit", "[core]") {
    auto pts = noisy_series(100);
    pts[40].value = 7.0;
    auto two = downsample_lttb(pts, 2);
    REQUIRE(two.size() == 2);
    CHECK(two.front().step == 0);
    CHECK(two.back().step == 99);
    auto three = downsample_lttb(pts, 3);
    REQUIRE(three.size() == 3);
    CHECK(three[1].step == 40);
    auto mm = downsample_minmax(pts, 3);
    REQUIRE(mm.size() == 3);
    CHECK(mm[1].step == 40);
    CHECK(downsample_minmax(pts, 1).size() == 1);
}

TEST_CASE("lttb follows the shape of a linear ramp with evenly spread points", "[core]") {
    std::vector<series_point> pts;
    for (step_t i = 0; i < 1000; ++i) pts.push_back({i, 0, static_cast<double>(i)});
    auto out = downsample_lttb(pts, 10);
    REQUIRE(out.size() == 10);
    CHECK(ascending(out));
    for (std::size_t i = 1; i < out.size(); ++i) CHECK(out[i].step - out[i - 1].step < 250);
}
