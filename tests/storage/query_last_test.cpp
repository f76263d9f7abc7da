// metric_query::last, behind GET .../metrics?limit=N: the newest N points of
// the range, ascending, on every store.
#include <catch2/catch.hpp>

#include "storage/store_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

TEMPLATE_TEST_CASE("a query with `last` returns the newest points of the range, ascending", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto run = s->create_run(named_run("last"));
    std::vector<metric_point> pts;
    for (step_t i = 0; i < 100; ++i) pts.push_back(point("loss", i, static_cast<double>(i) * 0.5));
    s->append_metrics(run.id, pts);
    auto q = series_of(run.id, "loss");
    q.last = 3;
    auto got = s->query_metrics(q);
    REQUIRE(got.points.size() == 3);
    CHECK(got.points[0].step == 97);
    CHECK(got.points[2].step == 99);
    CHECK(got.points[2].value == 49.5);
    CHECK(got.total_in_range == 100);
    // Within a step range, and combined with downsampling (newest first, then thinned).
    q.step_max = 49;
    q.last = 10;
    q.max_points = 4;
    got = s->query_metrics(q);
    REQUIRE(got.points.size() == 4);
    CHECK(got.points.front().step == 40);
    CHECK(got.points.back().step == 49);
    // More than there is: everything.
    q = series_of(run.id, "loss");
    q.last = 1000;
    CHECK(s->query_metrics(q).points.size() == 100);
}
