// GET /api/runs/{id}/metrics/latest is answered from an in-memory cache on the
// io thread; these tests hold it to exactly what the store says, whatever mix
// of REST writes, in-process writes, rewrites, failures, races and deletes
// came before.
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "server/server_fixture.hpp"
#include "tmon/server/detail/latest_cache.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

// The REST answer is, byte for byte, what a fresh store read renders to.
template <class Served>
void require_latest_matches_store(Served& s, const std::string& id) {
    auto r = s.api.get("/api/runs/" + id + "/metrics/latest");
    REQUIRE(r.status == 200);
    auto truth = s.srv.store().latest_metrics(id);
    CHECK(r.body == api::latest_json(id, truth));
    REQUIRE(r["values"].MemberCount() == truth.size());
    for (const auto& m : truth) {
        INFO(m.key);
        CHECK(r["values"][m.key.c_str()]["step"].GetInt64() == m.step);
        CHECK(r["metrics"][m.key.c_str()].GetDouble() == m.value);
    }
}

std::vector<metric_point> points(std::initializer_list<metric_point> p) { return p; }

}  // namespace

TEMPLATE_TEST_CASE("metrics/latest agrees with the store after REST and in-process writes, and forgets a deleted run",
                   "[server][metrics][latest]", TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("cached");
    require_latest_matches_store(s, id);  // a run with no metrics: read once, now cached

    REQUIRE(
        s.post_metrics(id, R"({"points":[{"step":1,"metrics":{"loss":0.9,"acc":0.1},"timestamp":100.5}]})").status ==
        200);
    require_latest_matches_store(s, id);
    REQUIRE(s.post_metrics(id, R"({"step":3,"metrics":{"loss":0.7},"timestamp":103})").status == 200);
    require_latest_matches_store(s, id);

    // In-process: a rewrite of the newest step replaces it, an older step does not win.
    s.srv.recorder().append_metrics(id, points({{"loss", 3, 104.0, 0.65}}));
    require_latest_matches_store(s, id);
    CHECK(s.api.get("/api/runs/" + id + "/metrics/latest")["values"]["loss"]["value"].GetDouble() == 0.65);
    REQUIRE(s.post_metrics(id, R"({"step":2,"metrics":{"loss":5.0,"acc":0.2},"timestamp":102})").status == 200);
    require_latest_matches_store(s, id);
    s.srv.recorder().append_metrics(id, points({{"lr", 2, 102.0, 0.01}, {"lr", 2, 102.5, 0.02}}));
    require_latest_matches_store(s, id);
    CHECK(s.api.get("/api/runs/" + id + "/metrics/latest")["values"]["lr"]["value"].GetDouble() == 0.02);

    // A rejected write changes nothing.
    CHECK(s.post_metrics(id, R"({"step":9,"metrics":{"loss":"high"}})").status == 422);
    require_latest_matches_store(s, id);

    // A monitor's run, logged through the server's recorder by its flusher.
    std::string monitored;
    {
        auto run = s.srv.start_run("monitored");
        monitored = run.run_id();
        require_latest_matches_store(s, monitored);
        run.log(1, {{"loss", 1.5}});
        run.flush();
        require_latest_matches_store(s, monitored);
        run.log(2, {{"loss", 1.25}, {"acc", 0.5}});
        run.flush();
        require_latest_matches_store(s, monitored);
        CHECK(s.api.get("/api/runs/" + monitored + "/metrics/latest")["step"].GetInt64() == 2);
    }
    require_latest_matches_store(s, id);

    REQUIRE(s.api.del("/api/runs/" + id).status == 200);
    auto gone = s.api.get("/api/runs/" + id + "/metrics/latest");
    CHECK(gone.status == 404);
    CHECK(gone.error_kind() == "not_found");
    CHECK(s.post_metrics(id, R"({"step":4,"metrics":{"loss":0.1}})").status == 404);
    CHECK(s.api.get("/api/runs/" + id + "/metrics/latest").status == 404);
    CHECK(s.api.get("/api/runs/no-such-run/metrics/latest").status == 404);
    require_latest_matches_store(s, monitored);
}

TEST_CASE("metrics/latest stays exact while REST and in-process writers race on one run", "[server][metrics][latest]") {
    served<sqlite_store> s;
    auto id = s.create_run("raced");
    for (int round = 0; round < 3; ++round) {
        require_latest_matches_store(s, id);
        // Catch2 assertions are not thread-safe: the threads count failures instead.
        std::atomic<bool> writing{true};
        std::atomic<int> failures{0};
        std::vector<std::thread> writers;
        for (int w = 0; w < 3; ++w) {
            writers.emplace_back([&, w] {
                api_client c(s.srv.port());
                std::mt19937 rng(static_cast<unsigned>(round * 10 + w));
                for (int i = 0; i < 40; ++i) {
                    int step = round * 100 + static_cast<int>(rng() % 50);
                    auto body =
                        fmt::format(R"({{"step":{},"metrics":{{"loss":{},"k{}":{}}}}})", step, w * 1000 + i, i % 3, i);
                    if (c.post(fmt::format("/api/runs/{}/metrics", id), body).status != 200) ++failures;
                }
            });
        }
        writers.emplace_back([&] {
            for (int i = 0; i < 40; ++i)
                s.srv.recorder().append_metrics(id, points({{"loss", round * 100 + i % 50, 1.0 + i, -1.0 - i}}));
        });
        std::thread reader([&] {
            api_client c(s.srv.port());
            while (writing.load())
                if (c.get("/api/runs/" + id + "/metrics/latest").status != 200) ++failures;
        });
        for (auto& t : writers) t.join();
        writing = false;
        reader.join();
        CHECK(failures.load() == 0);
        require_latest_matches_store(s, id);
    }
}

// ---- the cache's own rules, without a server ------------------------------

TEST_CASE("the latest cache keeps the highest step per key and lets a rewrite of it win", "[server][latest]") {
    detail::latest_cache c;
    auto token = c.seed_begin("r");
    REQUIRE(c.seed_end("r", token, std::vector<latest_metric>{{"loss", 5, 50, 0.5}, {"acc", 5, 50, 0.1}}));
    auto write = [&](std::vector<metric_point> p) {
        c.write_begun("r");
        c.write_ended("r", p, true);
    };
    write({{"loss", 4, 40, 9.0}});  // older: ignored
    write({{"loss", 5, 51, 0.4}});  // same step: replaces
    write({{"lr", 1, 10, 0.01}, {"acc", 6, 60, 0.2}});
    std::vector<latest_metric> seen;
    REQUIRE(c.visit("r", [&](const std::vector<latest_metric>& v) { seen = v; }));
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].key == "acc");  // sorted by key, as the stores list them
    CHECK(seen[0].step == 6);
    CHECK(seen[1].key == "loss");
    CHECK(seen[1].value == 0.4);
    CHECK(seen[1].time == 51);
    CHECK(seen[2].key == "lr");
}

TEST_CASE("the latest cache refuses a seed that a write may have overtaken", "[server][latest]") {
    detail::latest_cache c;
    auto ignore = [](const std::vector<latest_metric>&) {};

    auto token = c.seed_begin("r");
    c.write_begun("r");
    c.write_ended("r", std::vector<metric_point>{{"loss", 1, 1, 1}}, true);
    CHECK_FALSE(c.seed_end("r", token, std::vector<latest_metric>{}));
    CHECK_FALSE(c.visit("r", ignore));

    token = c.seed_begin("r");
    CHECK(c.seed_end("r", token, std::vector<latest_metric>{{"loss", 1, 1, 1}}));
    CHECK(c.visit("r", ignore));

    // Deleted between the read and the seed: the old token never matches again.
    token = c.seed_begin("gone");
    c.forget("gone");
    CHECK_FALSE(c.seed_end("gone", token, std::vector<latest_metric>{}));
    CHECK_FALSE(c.visit("gone", ignore));

    // A run that does not exist is not cached.
    token = c.seed_begin("none");
    CHECK_FALSE(c.seed_end("none", token, std::nullopt));
    CHECK_FALSE(c.visit("none", ignore));
    CHECK(c.cached_runs() == 1);
}

TEST_CASE("the latest cache drops a run whose writes overlapped, or one that failed", "[server][latest]") {
    detail::latest_cache c;
    auto ignore = [](const std::vector<latest_metric>&) {};
    auto seed = [&] {
        auto token = c.seed_begin("r");
        REQUIRE(c.seed_end("r", token, std::vector<latest_metric>{{"loss", 1, 1, 1}}));
    };

    seed();
    c.write_begun("r");
    c.write_begun("r");  // two writes in flight may commit in either order
    c.write_ended("r", std::vector<metric_point>{{"loss", 2, 2, 2}}, true);
    c.write_ended("r", std::vector<metric_point>{{"loss", 2, 2, 3}}, true);
    CHECK_FALSE(c.visit("r", ignore));

    seed();
    c.write_begun("r");
    c.write_ended("r", {}, false);
    CHECK_FALSE(c.visit("r", ignore));

    seed();
    c.forget_all();
    CHECK_FALSE(c.visit("r", ignore));
    CHECK(c.cached_runs() == 0);
}
