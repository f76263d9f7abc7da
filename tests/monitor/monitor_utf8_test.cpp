// Keys that are not UTF-8: every store refuses a batch holding one, so the
// monitor turns them away in log() and the batch they would have sunk is written.
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "monitor/store_fixtures.hpp"
#include "tmon/monitor/monitor.hpp"

using monitor_test::fixture;

namespace {

template <class Store>
std::size_t points_of(Store& store, const std::string& run_id, const std::string& key) {
    tmon::metric_query q;
    q.run_id = run_id;
    q.key = key;
    return store.query_metrics(q).points.size();
}

}  // namespace

TEMPLATE_TEST_CASE("a key that is not UTF-8 is rejected in log() and the good points around it are written",
                   "[monitor][utf8]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "utf8"}};
    const std::string bad_keys[] = {
        "loss\xff",                     // not UTF-8 at all
        "acc\xc0\xae",                  // overlong '.'
        "lr\xed\xa0\x80",               // a surrogate
        "grad\xe2\x82",                 // a sequence cut short
        std::string(40, 'k') + "\x80",  // past the 8-byte ASCII fast path
    };
    // One flush: the bad keys sit between good points of the same batch.
    for (int step = 0; step < 500; ++step) {
        mon.log(step, "loss", step * 0.5);
        if (step % 100 == 50)
            for (const auto& k : bad_keys) mon.log(step, k, 1.0);
        mon.log(step, "\xce\xbb/loss", 1.0);  // valid UTF-8 beyond ASCII: kept
    }
    mon.flush();
    CHECK(mon.rejected() == 5 * std::size(bad_keys));
    CHECK(mon.write_errors() == 0);
    CHECK(mon.points_written() == 1000);
    CHECK(points_of(fx.store, mon.run_id(), "loss") == 500);
    CHECK(points_of(fx.store, mon.run_id(), "\xce\xbb/loss") == 500);
    for (const auto& k : fx.store.metric_keys(mon.run_id())) CHECK(tmon::detail::is_valid_utf8(k));
}

TEST_CASE("is_ascii looks at every byte, in words and in the tail", "[monitor][utf8]") {
    using tmon::detail::is_ascii;
    CHECK(is_ascii(""));
    CHECK(is_ascii("train/loss"));
    CHECK(is_ascii(std::string(95, 'k')));
    for (std::size_t length : {1u, 7u, 8u, 9u, 16u, 17u, 95u})
        for (std::size_t at = 0; at < length; ++at) {
            std::string s(length, 'a');
            s[at] = '\x80';
            CHECK_FALSE(is_ascii(s));
        }
}
