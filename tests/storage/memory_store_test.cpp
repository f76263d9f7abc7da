#include <catch2/catch.hpp>

#include "storage/store_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

TEST_CASE("memory_store evicts the oldest run past max_runs", "[storage]") {
    memory_store::options o;
    o.max_runs = 3;
    memory_store s{o};
    std::vector<std::string> ids;
    for (auto name : {"a", "b", "c", "d"}) ids.push_back(s.create_run(named_run(name)).id);
    CHECK(s.list_runs({}).total == 3);
    CHECK_FALSE(s.get_run(ids[0]));
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK(s.get_run(ids[i]));
    s.delete_run(ids[1]);
    s.create_run(named_run("e"));
    CHECK(s.get_run(ids[2]));  // room after a delete: nothing evicted
    CHECK(s.list_runs({}).total == 3);
}

TEST_CASE("memory_store keeps only the newest steps of a series", "[storage]") {
    memory_store::options o;
    o.max_points_per_series = 100;
    memory_store s{o};
    auto r = s.create_run(named_run("exp"));
    std::vector<metric_point> pts;
    for (step_t i = 0; i < 250; ++i) pts.push_back(point("loss", i, double(i)));
    s.append_metrics(r.id, pts);
    auto got = s.query_metrics(series_of(r.id, "loss")).points;
    REQUIRE(got.size() == 100);
    CHECK(got.front().step == 150);
    CHECK(got.back().step == 249);
    CHECK(s.latest_metrics(r.id).at(0).step == 249);
}

TEST_CASE("memory_store bounds system samples, events and layer snapshots", "[storage]") {
    memory_store::options o;
    o.max_system_samples = 10;
    o.max_events_per_run = 5;
    o.max_layer_snapshots_per_run = 3;
    memory_store s{o};
    for (int i = 0; i < 30; ++i) {
        system_sample x;
        x.time = i;
        s.append_system(x);
    }
    system_query sq;
    auto sys = s.system_history(sq);
    REQUIRE(sys.size() == 10);
    CHECK(sys.front().time == 20);

    auto r = s.create_run(named_run("exp"));
    for (int i = 0; i < 20; ++i) {
        event e;
        e.run_id = r.id;
        e.type = "warning";
        s.append_event(e);
        layer_snapshot l;
        l.run_id = r.id;
        l.step = i;
        s.append_layers(l);
    }
    event_query eq;
    eq.run_id = r.id;
    CHECK(s.list_events(eq).size() == 5);
    CHECK(s.layer_steps(r.id) == std::vector<step_t>{17, 18, 19});
}
