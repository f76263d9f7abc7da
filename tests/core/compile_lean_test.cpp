// Code written to keep the headers cheap to compile must still do exactly what
// the heavier code it replaced did: JSON numbers as fmt's "{}", deque insertion,
// the run listing's order, ids.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tmon/detail/ids.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/detail/shortest_double.hpp"
#include "tmon/storage/detail/deque_insert.hpp"
#include "tmon/storage/detail/run_listing.hpp"

namespace {

std::string shortest(double v) {
    char buf[tmon::detail::max_shortest_double_chars];
    return {buf, tmon::detail::write_shortest_double(buf, v)};
}

}  // namespace

TEST_CASE("a JSON number is written exactly as fmt writes the double with {}", "[core]") {
    std::vector<double> values = {0.0,
                                  -0.0,
                                  1.0,
                                  -1.0,
                                  0.1,
                                  0.25,
                                  100.0,
                                  1e15,
                                  1e16,
                                  9999999999999998.0,
                                  0.0001,
                                  0.00001,
                                  1.5e-5,
                                  123456789012345678.0,
                                  1e100,
                                  1e-100,
                                  1e300,
                                  1e-300,
                                  std::numeric_limits<double>::min(),
                                  std::numeric_limits<double>::denorm_min(),
                                  std::numeric_limits<double>::max(),
                                  -std::numeric_limits<double>::max(),
                                  std::numeric_limits<double>::epsilon(),
                                  1.0 / 3.0,
                                  2.0 / 3.0,
                                  0.3};
    for (int e = -310; e <= 310; ++e)
        for (int m : {1, 7, 25, 123, 999}) values.push_back(std::strtod(fmt::format("{}e{}", m, e).c_str(), nullptr));
    std::mt19937_64 rng(13);
    for (int i = 0; i < 200'000; ++i) {
        std::uint64_t bits = rng();
        double v;
        std::memcpy(&v, &bits, sizeof v);
        if (std::isfinite(v)) values.push_back(v);
        values.push_back(static_cast<double>(static_cast<std::int64_t>(bits >> 20)) / 1024.0);
    }
    std::size_t mismatches = 0;
    for (double v : values) {
        if (!std::isfinite(v)) continue;
        auto want = fmt::format("{}", v);
        auto got = shortest(v);
        if (got != want && ++mismatches <= 10) FAIL_CHECK(fmt::format("{:a}: fmt {} ours {}", v, want, got));
    }
    CHECK(mismatches == 0);
}

TEST_CASE("json_writer writes integers and control characters as before", "[core]") {
    std::string out;
    tmon::detail::json_writer(out)
        .begin_object()
        .field("i", std::int64_t{-9223372036854775807 - 1})
        .field("u", std::uint64_t{18446744073709551615ULL})
        .field("s", std::string_view("a\x01\x1f\"\\\n", 6))
        .field("nan", std::nan(""))
        .end_object();
    CHECK(out == R"({"i":-9223372036854775808,"u":18446744073709551615,"s":"a\u0001\u001f\"\\\n","nan":null})");
}

TEST_CASE("inserting into the middle of a deque keeps every element in order", "[core]") {
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        std::deque<std::string> want;
        for (int i = static_cast<int>(rng() % 40); i > 0; --i) want.push_back(std::to_string(i));
        std::deque<std::string> got = want;
        for (int k = 0; k < 20; ++k) {
            auto pos = static_cast<std::size_t>(rng() % (want.size() + 1));
            std::string v = "x" + std::to_string(k);
            want.insert(want.begin() + static_cast<std::ptrdiff_t>(pos), v);
            tmon::detail::deque_insert_at(got, pos, v);
        }
        REQUIRE(got == want);
    }
}

TEST_CASE("runs sort by every key, ties broken by id", "[core]") {
    std::vector<tmon::run_info> runs;
    for (int i = 0; i < 30; ++i) {
        tmon::run_info r;
        r.id = "run_" + std::to_string(i);
        r.name = std::string(1, static_cast<char>('a' + i % 5));
        r.created_at = static_cast<double>(i % 7);
        r.updated_at = static_cast<double>(i % 3);
        runs.push_back(r);
    }
    auto ids = [](const std::vector<tmon::run_info>& v) {
        std::vector<std::string> out;
        for (const auto& r : v) out.push_back(r.id);
        return out;
    };
    for (auto sort : {tmon::run_sort::created_desc, tmon::run_sort::created_asc, tmon::run_sort::name_asc,
                      tmon::run_sort::name_desc, tmon::run_sort::updated_desc}) {
        auto got = runs;
        tmon::detail::sort_runs(got, sort);
        auto want = runs;
        std::stable_sort(want.begin(), want.end(), [&](const tmon::run_info& a, const tmon::run_info& b) {
            auto cmp = [&](auto ka, auto kb, bool desc) {
                if (ka != kb) return desc ? kb < ka : ka < kb;
                return desc ? b.id < a.id : a.id < b.id;
            };
            switch (sort) {
                case tmon::run_sort::created_desc: return cmp(a.created_at, b.created_at, true);
                case tmon::run_sort::created_asc: return cmp(a.created_at, b.created_at, false);
                case tmon::run_sort::name_asc: return cmp(std::string_view{a.name}, std::string_view{b.name}, false);
                case tmon::run_sort::name_desc: return cmp(std::string_view{a.name}, std::string_view{b.name}, true);
                case tmon::run_sort::updated_desc: return cmp(a.updated_at, b.updated_at, true);
            }
            return false;
        });
        CHECK(ids(got) == ids(want));
    }
}

TEST_CASE("ids are the prefix, an underscore and 12 hex digits, and do not repeat", "[core]") {
    std::set<std::string> seen;
    for (int i = 0; i < 100'000; ++i) {
        auto id = tmon::detail::make_id("run");
        REQUIRE(id.size() == 16);
        REQUIRE(id.starts_with("run_"));
        REQUIRE(id.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
        seen.insert(std::move(id));
    }
    CHECK(seen.size() == 100'000);
}
