// jsonl_store formats metric lines with its own number writers and groups a
// batch by key in one pass (detail/metric_groups.hpp, metric_lines.hpp): their
// text must be exactly what plain fmt would write, line for line, whatever the
// keys, steps and times of a batch, and what they refuse must be refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "store_fixture.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/storage/detail/metric_groups.hpp"
#include "tmon/storage/detail/metric_lines.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

// The lines, written the slow and obvious way: keys in order of first
// appearance, each key's points in write order, every number through fmt.
std::string reference_lines(const std::vector<metric_point>& points) {
    std::vector<std::string> keys;
    for (const auto& p : points)
        if (std::find(keys.begin(), keys.end(), p.key) == keys.end()) keys.push_back(p.key);
    std::string out;
    for (const auto& key : keys) {
        std::string steps, times, values;
        for (const auto& p : points) {
            if (p.key != key) continue;
            steps += fmt::format("{},", p.step);
            times += fmt::format("{},", p.time);
            values += fmt::format("{},", p.value);
        }
        steps.pop_back(), times.pop_back(), values.pop_back();
        out += R"({"key":)";
        detail::append_json_string(out, key);
        out += fmt::format(R"(,"steps":[{}],"times":[{}],"values":[{}]}})", steps, times, values);
        out += '\n';
    }
    return out;
}

std::string encoded(const std::vector<metric_point>& points) {
    detail::metric_groups groups;
    groups.assign(points);
    detail::metric_line_encoder encoder;
    return std::string{encoder.encode(groups)};
}

std::string shortest(double v) {
    char buf[64];
    return {buf, detail::write_shortest(buf, v)};
}

}  // namespace

TEST_CASE("every digit count in every layout is written as fmt writes it", "[storage]") {
    std::mt19937_64 rng{7};
    for (int digits = 1; digits <= 17; ++digits) {
        for (int exponent = -30; exponent <= 30; ++exponent) {
            for (int sample = 0; sample < 20; ++sample) {
                std::string mantissa = std::to_string(1 + rng() % 9);
                for (int d = 1; d < digits; ++d) mantissa += static_cast<char>('0' + rng() % 10);
                double v = std::strtod(fmt::format("{}e{}", mantissa, exponent).c_str(), nullptr);
                INFO(mantissa << "e" << exponent);
                REQUIRE(shortest(v) == fmt::format("{}", v));
                REQUIRE(shortest(-v) == fmt::format("{}", -v));
                REQUIRE(shortest(std::nextafter(v, 0.0)) == fmt::format("{}", std::nextafter(v, 0.0)));
            }
        }
    }
    for (int e = -1074; e <= 1023; ++e) {  // every power of two, where the rounding interval is lopsided
        double v = std::ldexp(1.0, e);
        REQUIRE(shortest(v) == fmt::format("{}", v));
    }
}

TEST_CASE("a metric line writes steps as fmt does, from the smallest to the largest", "[storage]") {
    std::vector<step_t> steps{0,
                              1,
                              9,
                              10,
                              99,
                              100,
                              12345678,
                              99999999,
                              100000000,
                              123456789,
                              -1,
                              -100000000,
                              std::numeric_limits<step_t>::min(),
                              std::numeric_limits<step_t>::max()};
    std::vector<metric_point> points;
    for (auto s : steps) points.push_back({"loss", s, 1.5, 0.25});
    CHECK(encoded(points) == reference_lines(points));
}

TEST_CASE("a metric line holds each point's own time, whether times repeat in runs or not", "[storage]") {
    std::vector<metric_point> points{{"a", 1, 10.5, 1}, {"b", 1, 10.5, 2}, {"a", 2, 11, 3},    {"b", 2, 10.5, 4},
                                     {"a", 3, 11, 5},   {"a", 4, 11, 6},   {"b", 3, 12.25, 7}, {"b", 4, 10.5, 8}};
    CHECK(encoded(points) == reference_lines(points));
}

TEST_CASE("metric lines match plain fmt for random batches of many keys, steps and times", "[storage]") {
    // Keys of the lengths where the grouping compares words, differing in one
    // byte anywhere, plus more keys than the linear search holds.
    std::vector<std::string> keys{"k",         "loss",         "seven_7",          "eight_88",
                                  "nine_9999", "twelve_12345", "sixteen_16_chars", "seventeen_17chars",
                                  "a\"quote",  "tab\there",    "utf8_\xc3\xa9"};
    for (std::size_t i = 0; i < 12; ++i) {
        std::string base = "twelve_12345";
        base[i] = '#';
        keys.push_back(base);
    }
    for (int i = 0; i < 30; ++i) keys.push_back(fmt::format("layer{}/grad_norm", i));
    std::mt19937_64 rng{2024};
    for (int batch = 0; batch < 300; ++batch) {
        std::size_t n = 1 + rng() % 3000;
        std::size_t key_count = 1 + rng() % keys.size();
        std::vector<metric_point> points;
        double time = 1.7e9;
        for (std::size_t i = 0; i < n; ++i) {
            metric_point p;
            p.key = rng() % 4 == 0 ? keys[rng() % key_count] : keys[i % key_count];
            p.step = rng() % 8 == 0 ? static_cast<step_t>(rng()) : static_cast<step_t>(i / key_count);
            if (rng() % 3 == 0) time += static_cast<double>(rng() % 1000) / 1000.0;  // runs of equal times
            p.time = rng() % 50 == 0 ? std::bit_cast<double>(rng() >> 2) : time;
            double v = std::bit_cast<double>(rng());
            p.value = std::isfinite(v) ? v : 1.0 / static_cast<double>(i + 1);
            points.push_back(std::move(p));
        }
        INFO("batch " << batch << " of " << n << " points over " << key_count << " keys");
        REQUIRE(encoded(points) == reference_lines(points));
    }
}

TEST_CASE("a batch with an empty key or a non-finite number is refused whole, naming the point", "[storage]") {
    fresh_store<jsonl_store> s;
    auto r = s->create_run(named_run("exp"));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    auto check_refused = [&](const metric_point& bad, std::string_view message) {
        std::vector<metric_point> points;
        for (step_t step = 0; step < 600; ++step) points.push_back({"loss", step, 1.0, 0.5});
        points.insert(points.begin() + 300, bad);
        try {
            s->append_metrics(r.id, points);
            FAIL("the batch was accepted");
        } catch (const tmon::error& e) {
            CHECK(e.code() == errc::invalid_argument);
            CHECK(std::string{e.what()}.find(message) != std::string::npos);
        }
    };
    check_refused({"", 3, 1.0, 0.5}, "a metric key must not be empty");
    check_refused({"acc", 3, 1.0, nan}, "metric 'acc' at step 3 is not a finite number");
    check_refused({"acc", 3, 1.0, -inf}, "metric 'acc' at step 3 is not a finite number");
    check_refused({"acc", 3, inf, 0.5}, "metric 'acc' at step 3 has a non-finite time");
    CHECK(s->metric_keys(r.id).empty());
    s.reopen();
    CHECK(s->metric_keys(r.id).empty());
}

TEST_CASE("jsonl_store's index and its files agree on a round-robin batch over many keys", "[storage]") {
    fresh_store<jsonl_store> s;
    auto r = s->create_run(named_run("exp"));
    std::vector<metric_point> points;
    for (step_t step = 0; step < 200; ++step)
        for (int k = 0; k < 20; ++k)
            points.push_back({fmt::format("layer{}/loss", k), step, 1.7e9 + static_cast<double>(step),
                              1.0 / static_cast<double>(step * 20 + k + 1)});
    s->append_metrics(r.id, points);
    auto check_every_series = [&] {
        for (int k = 0; k < 20; ++k) {
            metric_query q;
            q.run_id = r.id;
            q.key = fmt::format("layer{}/loss", k);
            auto got = s->query_metrics(q).points;
            REQUIRE(got.size() == 200);
            for (step_t step = 0; step < 200; ++step) {
                REQUIRE(got[step].step == step);
                REQUIRE(got[step].time == 1.7e9 + static_cast<double>(step));
                REQUIRE(got[step].value == 1.0 / static_cast<double>(step * 20 + k + 1));
            }
        }
        CHECK(s->get_run(r.id)->last_step == 199);
    };
    check_every_series();
    s.reopen();
    check_every_series();
}
