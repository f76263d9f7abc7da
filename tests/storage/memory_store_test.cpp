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

TEST_CASE("memory_store evicts finished runs before running ones, and says so in the event log", "[storage]") {
    memory_store::options o;
    o.max_runs = 3;
    memory_store s{o};
    auto training = s.create_run(named_run("still-training")).id;
    auto done = s.create_run(named_run("done")).id;
    s.update_run(done, {.status = run_status::completed});
    auto other = s.create_run(named_run("also-training")).id;
    s.create_run(named_run("newest"));
    CHECK(s.get_run(training));  // the oldest, but still running: kept
    CHECK_FALSE(s.get_run(done));
    CHECK(s.get_run(other));
    auto log = s.list_events({});
    REQUIRE_FALSE(log.empty());
    CHECK(log.back().type == "run_evicted");
    CHECK(log.back().run_id.empty());
    CHECK(log.back().message.find(done) != std::string::npos);
    CHECK(log.back().message.find("oldest finished") != std::string::npos);
    // A trainer still writing to its run keeps it: later writes do not 404.
    std::vector<metric_point> pts{point("loss", 1, 0.5)};
    CHECK_NOTHROW(s.append_metrics(training, pts));
}

TEST_CASE("memory_store with only running runs evicts the one idle longest, never the one just created", "[storage]") {
    memory_store::options o;
    o.max_runs = 2;
    memory_store s{o};
    auto first = s.create_run(named_run("first")).id;
    auto second = s.create_run(named_run("second")).id;
    std::vector<metric_point> pts{point("loss", 1, 0.5)};
    s.append_metrics(first, pts);  // `first` wrote last: `second` is the idle one
    auto third = s.create_run(named_run("third")).id;
    CHECK(s.get_run(first));
    CHECK_FALSE(s.get_run(second));
    CHECK(s.get_run(third));
    auto log = s.list_events({});
    REQUIRE_FALSE(log.empty());
    CHECK(log.back().type == "run_evicted");
    CHECK(log.back().message.find("idle longest") != std::string::npos);
    CHECK(log.back().data_json.find(R"("was_running":true)") != std::string::npos);
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
