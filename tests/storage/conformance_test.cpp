// One specification, every store: each TEMPLATE_TEST_CASE runs against every store of
// TMON_TEST_STORES (support/stores.hpp), "<sentence> - sqlite_store", with a fresh store per test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include "storage/store_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

static_assert(!tmon::storage<int>, "a type without the storage members must not satisfy the concept");

// ---- runs -------------------------------------------------------------------

TEMPLATE_TEST_CASE("a created run can be read back and is listed", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto in = named_run("resnet", {"sweep"});
    in.config_json = R"({"lr":0.001})";
    in.notes = "first try";
    in.total_steps = 1000;
    auto r = s->create_run(in);

    CHECK(r.id.rfind("run_", 0) == 0);
    CHECK(r.status == run_status::running);
    CHECK(r.created_at > 0);
    CHECK_FALSE(r.end_time);
    auto got = s->get_run(r.id);
    REQUIRE(got);
    CHECK(got->name == "resnet");
    CHECK(got->config_json == R"({"lr":0.001})");
    CHECK(got->tags == std::vector<std::string>{"sweep"});
    CHECK(got->notes == "first try");
    CHECK(got->total_steps == 1000);
    CHECK_FALSE(got->last_step);
    auto page = s->list_runs({});
    REQUIRE(page.total == 1);
    CHECK(page.runs.at(0).id == r.id);
    CHECK_FALSE(s->get_run("run_doesnotexist"));
}

TEMPLATE_TEST_CASE("a run needs a name", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    try {
        s->create_run(named_run(""));
        FAIL("an empty name was accepted");
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::invalid_argument);
    }
    CHECK(s->list_runs({}).total == 0);
}

TEMPLATE_TEST_CASE("creating a run with an existing id replays or conflicts", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto in = named_run("exp");
    in.id = "run_given";
    auto first = s->create_run(in);
    CHECK(first.id == "run_given");

    auto again = s->create_run(in);
    CHECK(again.id == "run_given");
    CHECK(again.created_at == first.created_at);
    CHECK(s->list_runs({}).total == 1);

    in.name = "another";
    try {
        s->create_run(in);
        FAIL("a different name under an existing id was accepted");
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::conflict);
    }
    CHECK(s->get_run("run_given")->name == "exp");
}

TEMPLATE_TEST_CASE("list_runs filters by status, name substring and tag", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto a = s->create_run(named_run("ResNet-50", {"vision", "sweep"}));
    auto b = s->create_run(named_run("bert-base", {"nlp"}));
    auto c = s->create_run(named_run("resnet-18", {"vision"}));
    s->update_run(b.id, status_to(run_status::completed));

    run_query q;
    q.status = run_status::completed;
    auto done = s->list_runs(q);
    REQUIRE(done.total == 1);
    CHECK(done.runs[0].id == b.id);

    q = {};
    q.name_contains = "RESNET";
    auto resnets = s->list_runs(q);
    CHECK(resnets.total == 2);
    std::set<std::string> ids;
    for (auto& r : resnets.runs) ids.insert(r.id);
    CHECK(ids == std::set<std::string>{a.id, c.id});

    q = {};
    q.tag = "sweep";
    auto swept = s->list_runs(q);
    REQUIRE(swept.total == 1);
    CHECK(swept.runs[0].id == a.id);

    q = {};
    q.tag = "vis";  // tags match exactly, not by substring
    CHECK(s->list_runs(q).total == 0);
}

TEMPLATE_TEST_CASE("list_runs sorts and pages, reporting the total before paging", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    std::vector<std::string> ids;
    for (auto name : {"charlie", "alpha", "echo", "bravo", "delta"}) {
        ids.push_back(s->create_run(named_run(name)).id);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // distinct created_at
    }
    run_query q;
    q.sort = run_sort::name_asc;
    q.limit = 2;
    q.offset = 1;
    auto page = s->list_runs(q);
    CHECK(page.total == 5);
    REQUIRE(page.runs.size() == 2);
    CHECK(page.runs[0].name == "bravo");
    CHECK(page.runs[1].name == "charlie");

    q = {};
    q.sort = run_sort::name_desc;
    CHECK(s->list_runs(q).runs.front().name == "echo");

    q = {};
    q.sort = run_sort::created_asc;
    CHECK(s->list_runs(q).runs.front().id == ids.front());
    q.sort = run_sort::created_desc;
    CHECK(s->list_runs(q).runs.front().id == ids.back());

    s->update_run(ids[1], status_to(run_status::completed));
    q.sort = run_sort::updated_desc;
    CHECK(s->list_runs(q).runs.front().id == ids[1]);

    q = {};
    q.offset = 10;
    auto past_end = s->list_runs(q);
    CHECK(past_end.total == 5);
    CHECK(past_end.runs.empty());
}

TEMPLATE_TEST_CASE("a run that ends gets an end time and a status_changed event; resuming clears it", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    auto failed = s->update_run(r.id, status_to(run_status::failed));
    CHECK(failed.status == run_status::failed);
    REQUIRE(failed.end_time);
    CHECK(*failed.end_time >= r.start_time);

    auto resumed = s->update_run(r.id, status_to(run_status::running));
    CHECK(resumed.status == run_status::running);
    CHECK_FALSE(resumed.end_time);
    CHECK_FALSE(s->get_run(r.id)->end_time);

    event_query q;
    q.run_id = r.id;
    auto evs = s->list_events(q);
    REQUIRE(event_types(evs) == std::vector<std::string>{"run_created", "status_changed", "status_changed"});
    CHECK(evs[1].data_json.find(R"("old_status":"running")") != std::string::npos);
    CHECK(evs[1].data_json.find(R"("new_status":"failed")") != std::string::npos);
    CHECK(evs[2].data_json.find(R"("new_status":"running")") != std::string::npos);
}

TEMPLATE_TEST_CASE("an invalid status transition is refused and changes nothing", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    s->update_run(r.id, status_to(run_status::completed));
    auto before = *s->get_run(r.id);

    run_update u = status_to(run_status::failed);
    u.name = "renamed";
    try {
        s->update_run(r.id, u);
        FAIL("completed -> failed was accepted");
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::conflict);
        CHECK(std::string{e.what()}.find("completed") != std::string::npos);
        CHECK(std::string{e.what()}.find("failed") != std::string::npos);
    }
    auto after = *s->get_run(r.id);
    CHECK(after.status == run_status::completed);
    CHECK(after.name == "exp");
    CHECK(after.updated_at == before.updated_at);
    event_query q;
    q.run_id = r.id;
    CHECK(s->list_events(q).size() == 2);

    // The same status again is an idempotent no-op, not an error.
    CHECK(s->update_run(r.id, status_to(run_status::completed)).status == run_status::completed);
    CHECK(s->list_events(q).size() == 2);
}

TEMPLATE_TEST_CASE("update_run changes only the fields given", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto in = named_run("exp", {"a"});
    in.notes = "n";
    auto r = s->create_run(in);
    run_update u;
    u.tags = std::vector<std::string>{"b", "c"};
    u.total_steps = 500;
    auto updated = s->update_run(r.id, u);
    CHECK(updated.name == "exp");
    CHECK(updated.notes == "n");
    CHECK(updated.tags == std::vector<std::string>{"b", "c"});
    CHECK(updated.total_steps == 500);
    CHECK(updated.updated_at >= r.updated_at);
    CHECK(s->get_run(r.id)->tags == std::vector<std::string>{"b", "c"});
}

TEMPLATE_TEST_CASE("writes naming an unknown run or checkpoint throw not_found", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto expect_not_found = [](auto&& f) {
        try {
            f();
            FAIL("an unknown id was accepted");
        } catch (const tmon::error& e) {
            CHECK(e.code() == errc::not_found);
        }
    };
    std::vector<metric_point> pts{point("loss", 1, 0.5)};
    expect_not_found([&] { s->append_metrics("run_nope", pts); });
    expect_not_found([&] { s->add_checkpoint(checkpoint_for("run_nope", "/tmp/c.pt", 1)); });
    layer_snapshot l;
    l.run_id = "run_nope";
    expect_not_found([&] { s->append_layers(l); });
    expect_not_found([&] { s->update_run("run_nope", status_to(run_status::completed)); });
    expect_not_found([&] { s->mark_best("ckpt_nope"); });
    CHECK_FALSE(s->delete_run("run_nope"));
    CHECK_FALSE(s->delete_checkpoint("ckpt_nope"));
    CHECK(s->list_runs({}).total == 0);
}

TEMPLATE_TEST_CASE("deleting a run removes its metrics, checkpoints, layers and events", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("doomed"));
    auto keep = s->create_run(named_run("kept"));
    std::vector<metric_point> pts{point("loss", 1, 0.5)};
    s->append_metrics(r.id, pts);
    s->append_metrics(keep.id, pts);
    auto c = s->add_checkpoint(checkpoint_for(r.id, "/tmp/c.pt", 1));
    layer_snapshot l;
    l.run_id = r.id;
    l.step = 1;
    s->append_layers(l);

    CHECK(s->delete_run(r.id));
    CHECK_FALSE(s->get_run(r.id));
    CHECK(s->query_metrics(series_of(r.id, "loss")).points.empty());
    CHECK(s->metric_keys(r.id).empty());
    CHECK(s->latest_metrics(r.id).empty());
    CHECK_FALSE(s->get_checkpoint(c.id));
    CHECK(s->list_checkpoints(r.id).empty());
    CHECK_FALSE(s->get_layers(r.id, 1));
    event_query q;
    q.run_id = r.id;
    CHECK(s->list_events(q).empty());
    for (const auto& e : s->list_events({})) CHECK(e.run_id != r.id);
    CHECK(s->query_metrics(series_of(keep.id, "loss")).points.size() == 1);
    CHECK_FALSE(s->delete_run(r.id));
}

// ---- metrics ----------------------------------------------------------------

TEMPLATE_TEST_CASE("appended metrics come back by step and time range in ascending order", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    std::vector<metric_point> pts;
    for (step_t i = 0; i < 100; ++i) {
        pts.push_back(point("loss", i, 1.0 / static_cast<double>(i + 1), 1000.0 + static_cast<double>(i)));
        pts.push_back(point("lr", i, 0.1, 1000.0 + static_cast<double>(i)));
    }
    s->append_metrics(r.id, std::span(pts).first(100));
    s->append_metrics(r.id, std::span(pts).subspan(100));

    auto all = s->query_metrics(series_of(r.id, "loss"));
    CHECK(all.key == "loss");
    REQUIRE(all.points.size() == 100);
    CHECK(all.total_in_range == 100);
    CHECK_FALSE(all.downsampled);
    for (std::size_t i = 0; i < all.points.size(); ++i) {
        CHECK(all.points[i].step == static_cast<step_t>(i));
        CHECK(all.points[i].value == 1.0 / static_cast<double>(i + 1));
        CHECK(all.points[i].time == 1000.0 + static_cast<double>(i));
    }

    auto q = series_of(r.id, "loss");
    q.step_min = 10;
    q.step_max = 19;
    auto by_step = s->query_metrics(q);
    REQUIRE(by_step.points.size() == 10);
    CHECK(by_step.points.front().step == 10);
    CHECK(by_step.points.back().step == 19);

    q = series_of(r.id, "loss");
    q.time_min = 1050;
    q.time_max = 1054.5;
    auto by_time = s->query_metrics(q);
    REQUIRE(by_time.points.size() == 5);
    CHECK(by_time.points.front().step == 50);
    CHECK(by_time.total_in_range == 5);

    CHECK(s->query_metrics(series_of(r.id, "nope")).points.empty());
    CHECK(s->get_run(r.id)->last_step == 99);
}

TEMPLATE_TEST_CASE("the same step written again replaces the value; older steps are inserted in order", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    std::vector<metric_point> first{point("loss", 1, 1.0), point("loss", 2, 2.0), point("loss", 5, 5.0)};
    s->append_metrics(r.id, first);
    std::vector<metric_point> replay{point("loss", 2, 20.0), point("loss", 3, 3.0), point("loss", 5, 50.0),
                                     point("loss", 0, 0.5)};
    s->append_metrics(r.id, replay);
    std::vector<metric_point> same_batch{point("loss", 7, 7.0), point("loss", 7, 70.0)};
    s->append_metrics(r.id, same_batch);

    auto got = s->query_metrics(series_of(r.id, "loss")).points;
    std::vector<std::pair<step_t, double>> seen;
    for (auto& p : got) seen.emplace_back(p.step, p.value);
    CHECK(seen ==
          std::vector<std::pair<step_t, double>>{{0, 0.5}, {1, 1.0}, {2, 20.0}, {3, 3.0}, {5, 50.0}, {7, 70.0}});
    CHECK(s->get_run(r.id)->last_step == 7);
    auto latest = s->latest_metrics(r.id);
    REQUIRE(latest.size() == 1);
    CHECK(latest[0].step == 7);
    CHECK(latest[0].value == 70.0);
}

TEMPLATE_TEST_CASE("latest_metrics gives each key's highest step and metric_keys lists the keys", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    auto before = s->get_run(r.id)->updated_at;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::vector<metric_point> pts{point("loss", 1, 0.9), point("acc", 1, 0.1), point("loss", 2, 0.8),
                                  point("acc", 3, 0.3), point("loss", 1, 0.95)};
    s->append_metrics(r.id, pts);

    auto keys = s->metric_keys(r.id);
    std::sort(keys.begin(), keys.end());
    CHECK(keys == std::vector<std::string>{"acc", "loss"});
    auto latest = s->latest_metrics(r.id);
    std::sort(latest.begin(), latest.end(), [](auto& a, auto& b) { return a.key < b.key; });
    REQUIRE(latest.size() == 2);
    CHECK(latest[0].key == "acc");
    CHECK(latest[0].step == 3);
    CHECK(latest[0].value == 0.3);
    CHECK(latest[1].key == "loss");
    CHECK(latest[1].step == 2);
    CHECK(latest[1].value == 0.8);
    auto run = *s->get_run(r.id);
    CHECK(run.last_step == 3);
    CHECK(run.updated_at > before);
}

TEMPLATE_TEST_CASE("a non-finite value rejects the whole batch and writes nothing", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()}) {
        std::vector<metric_point> pts{point("loss", 1, 0.5), point("acc", 1, bad), point("loss", 2, 0.4)};
        try {
            s->append_metrics(r.id, pts);
            FAIL("a non-finite value was accepted");
        } catch (const tmon::error& e) {
            CHECK(e.code() == errc::invalid_argument);
        }
    }
    CHECK(s->query_metrics(series_of(r.id, "loss")).points.empty());
    CHECK(s->metric_keys(r.id).empty());
    CHECK_FALSE(s->get_run(r.id)->last_step);
}

TEMPLATE_TEST_CASE("a query with max_points downsamples and keeps a single spike", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    constexpr step_t n = 20'000;
    std::vector<metric_point> pts;
    for (step_t i = 0; i < n; ++i)
        pts.push_back(point("loss", i, i == 12'345 ? 100.0 : 1.0 + 0.001 * std::sin(double(i))));
    for (std::size_t off = 0; off < pts.size(); off += 1000) s->append_metrics(r.id, std::span(pts).subspan(off, 1000));

    for (auto method : {downsample_method::lttb, downsample_method::minmax}) {
        auto q = series_of(r.id, "loss");
        q.max_points = 200;
        q.method = method;
        auto got = s->query_metrics(q);
        CHECK(got.downsampled);
        CHECK(got.total_in_range == static_cast<std::size_t>(n));
        CHECK(got.points.size() <= 200);
        CHECK(got.points.size() >= 100);
        CHECK(got.points.front().step == 0);
        CHECK(got.points.back().step == n - 1);
        bool spike = std::any_of(got.points.begin(), got.points.end(),
                                 [](auto& p) { return p.step == 12'345 && p.value == 100.0; });
        CHECK(spike);
        CHECK(std::is_sorted(got.points.begin(), got.points.end(), [](auto& a, auto& b) { return a.step < b.step; }));
    }
}

// ---- checkpoints ------------------------------------------------------------

TEMPLATE_TEST_CASE("checkpoints are saved, listed newest first, read and deleted", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    auto c1 = s->add_checkpoint(checkpoint_for(r.id, "/ckpt/1.pt", 100));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto in = checkpoint_for(r.id, "/ckpt/2.pt", 200);
    in.metadata_json = R"({"size":12})";
    auto c2 = s->add_checkpoint(in);
    CHECK(c1.id.rfind("ckpt_", 0) == 0);
    CHECK(c1.id != c2.id);

    auto list = s->list_checkpoints(r.id);
    REQUIRE(list.size() == 2);
    CHECK(list[0].id == c2.id);
    CHECK(list[1].id == c1.id);
    auto got = s->get_checkpoint(c2.id);
    REQUIRE(got);
    CHECK(got->run_id == r.id);
    CHECK(got->filepath == "/ckpt/2.pt");
    CHECK(got->step == 200);
    CHECK(got->metrics_json == R"({"loss":0.5})");
    CHECK(got->metadata_json == R"({"size":12})");
    CHECK_FALSE(got->is_best);

    CHECK(s->delete_checkpoint(c1.id));
    CHECK_FALSE(s->get_checkpoint(c1.id));
    CHECK(s->list_checkpoints(r.id).size() == 1);
    CHECK_FALSE(s->delete_checkpoint(c1.id));

    event_query q;
    q.run_id = r.id;
    CHECK(event_types(s->list_events(q)) ==
          std::vector<std::string>{"run_created", "checkpoint_saved", "checkpoint_saved", "checkpoint_deleted"});
}

TEMPLATE_TEST_CASE("a checkpoint marked best unmarks the previous best", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    auto other_run = s->create_run(named_run("other"));
    auto in = checkpoint_for(r.id, "/ckpt/1.pt", 1);
    in.is_best = true;
    auto c1 = s->add_checkpoint(in);
    auto c2 = s->add_checkpoint(checkpoint_for(r.id, "/ckpt/2.pt", 2));
    auto other_in = checkpoint_for(other_run.id, "/other/1.pt", 1);
    other_in.is_best = true;
    auto other = s->add_checkpoint(other_in);
    CHECK(c1.is_best);

    auto marked = s->mark_best(c2.id);
    CHECK(marked.is_best);
    CHECK(s->get_checkpoint(c2.id)->is_best);
    CHECK_FALSE(s->get_checkpoint(c1.id)->is_best);
    CHECK(s->get_checkpoint(other.id)->is_best);  // another run's best is untouched
    int bests = 0;
    for (auto& c : s->list_checkpoints(r.id)) bests += c.is_best;
    CHECK(bests == 1);

    // A checkpoint saved as best also takes the mark.
    auto in3 = checkpoint_for(r.id, "/ckpt/3.pt", 3);
    in3.is_best = true;
    auto c3 = s->add_checkpoint(in3);
    CHECK_FALSE(s->get_checkpoint(c2.id)->is_best);
    CHECK(s->get_checkpoint(c3.id)->is_best);

    event_query q;
    q.run_id = r.id;
    auto evs = s->list_events(q);
    auto types = event_types(evs);
    CHECK(std::count(types.begin(), types.end(), "best_changed") == 3);
    CHECK(evs.back().type == "best_changed");
    CHECK(evs.back().data_json.find(c2.id) != std::string::npos);  // names the previous best
}

TEMPLATE_TEST_CASE("marking a best checkpoint, deleting one and logging an event each move the run's updated_at",
                   "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    auto c1 = s->add_checkpoint(checkpoint_for(r.id, "/ckpt/1.pt", 1));
    auto c2 = s->add_checkpoint(checkpoint_for(r.id, "/ckpt/2.pt", 2));
    auto moves = [&](auto&& change) {
        auto before = s->get_run(r.id)->updated_at;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        change();
        return s->get_run(r.id)->updated_at > before;
    };
    CHECK(moves([&] { s->mark_best(c1.id); }));
    CHECK(moves([&] { s->delete_checkpoint(c2.id); }));
    event note;
    note.run_id = r.id;
    note.type = "note";
    CHECK(moves([&] { s->append_event(note); }));
    if constexpr (store_traits<TestType>::persistent) {
        auto before = s->get_run(r.id)->updated_at;
        s.reopen();
        CHECK(s->get_run(r.id)->updated_at == before);
    }
    note.time = 1000.0;  // dated long ago: the run was still updated now
    CHECK(moves([&] { s->append_event(note); }));
}

// ---- system, layers, events ---------------------------------------------------

TEMPLATE_TEST_CASE("system history is returned by time range, newest `limit`, ascending", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    for (int i = 0; i < 50; ++i) {
        system_sample x;
        x.time = 1000.0 + i;
        x.cpu_percent = i;
        x.memory_percent = 50;
        x.memory_used = 1u << 30;
        x.memory_total = 4u << 30;
        x.process_rss = 12345;
        if (i % 2 == 0) {
            gpu_sample g;
            g.index = 0;
            g.name = "NVIDIA H100";
            g.utilization = 97;
            g.memory_used = 1000;
            g.memory_total = 80000;
            g.temperature = 61;
            g.power = 310.5;
            x.gpus.push_back(g);
        }
        s->append_system(x);
    }
    system_query q;
    q.time_min = 1010;
    q.time_max = 1029;
    auto mid = s->system_history(q);
    REQUIRE(mid.size() == 20);
    CHECK(mid.front().time == 1010);
    CHECK(mid.back().time == 1029);
    REQUIRE(mid.front().gpus.size() == 1);
    CHECK(mid.front().gpus[0].name == "NVIDIA H100");
    CHECK(mid.front().gpus[0].power == 310.5);
    CHECK(mid.front().gpus[0].memory_total == 80000);
    CHECK(mid.front().process_rss == 12345);
    CHECK(mid[1].gpus.empty());

    q = {};
    q.limit = 5;
    auto newest = s->system_history(q);
    REQUIRE(newest.size() == 5);
    CHECK(newest.front().time == 1045);
    CHECK(newest.back().time == 1049);
}

TEMPLATE_TEST_CASE("a layer snapshot is found at its step or the nearest earlier one", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    for (step_t step : {100, 200, 300}) {
        layer_snapshot l;
        l.run_id = r.id;
        l.step = step;
        l.time = 1e9 + static_cast<double>(step);
        layer_stat conv;
        conv.name = "conv1";
        tensor_stats g;
        g.mean = 0.1;
        g.std = static_cast<double>(step) / 100;
        g.min = -3;
        g.max = 4;
        g.histogram = {1, 5, 9};
        g.hist_min = -3;
        g.hist_max = 4;
        conv.gradients = g;
        layer_stat fc;
        fc.name = "fc";
        fc.activations = tensor_stats{};
        l.layers = {conv, fc};
        s->append_layers(l);
    }
    CHECK(s->layer_steps(r.id) == std::vector<step_t>{100, 200, 300});
    auto exact = s->get_layers(r.id, 200);
    REQUIRE(exact);
    CHECK(exact->step == 200);
    REQUIRE(exact->layers.size() == 2);
    CHECK(exact->layers[0].name == "conv1");
    REQUIRE(exact->layers[0].gradients);
    CHECK(exact->layers[0].gradients->std == 2.0);
    CHECK(exact->layers[0].gradients->histogram == std::vector<double>{1, 5, 9});
    CHECK(exact->layers[0].gradients->hist_max == 4);
    CHECK_FALSE(exact->layers[0].activations);
    CHECK(exact->layers[1].activations);

    auto earlier = s->get_layers(r.id, 299);
    REQUIRE(earlier);
    CHECK(earlier->step == 200);
    CHECK(s->get_layers(r.id, 10'000)->step == 300);
    CHECK_FALSE(s->get_layers(r.id, 99));
}

TEMPLATE_TEST_CASE("events are listed after an id, newest `limit`, ascending", "[storage]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto a = s->create_run(named_run("a"));
    auto b = s->create_run(named_run("b"));
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 10; ++i) {
        event e;
        e.run_id = i % 2 ? a.id : b.id;
        e.type = "warning";
        e.message = "note " + std::to_string(i);
        e.data_json = R"({"i":)" + std::to_string(i) + "}";
        auto written = s->append_event(e);
        CHECK(written.time > 0);
        if (!ids.empty()) CHECK(written.id > ids.back());
        ids.push_back(written.id);
    }
    auto all = s->list_events({});
    REQUIRE(all.size() == 12);
    CHECK(all[0].type == "run_created");
    CHECK(std::is_sorted(all.begin(), all.end(), [](auto& x, auto& y) { return x.id < y.id; }));

    event_query q;
    q.run_id = a.id;
    q.after_id = ids[4];
    auto after = s->list_events(q);
    REQUIRE(after.size() == 3);
    CHECK(after[0].message == "note 5");
    CHECK(after[0].data_json == R"({"i":5})");

    q = {};
    q.limit = 2;
    auto newest = s->list_events(q);
    REQUIRE(newest.size() == 2);
    CHECK(newest[1].id == ids.back());
    CHECK(newest[0].id == ids[8]);

    event bad;
    bad.run_id = "run_nope";
    bad.type = "warning";
    CHECK_THROWS_AS(s->append_event(bad), tmon::error);
}

// ---- concurrency --------------------------------------------------------------

TEMPLATE_TEST_CASE("concurrent writers and readers lose no point", "[storage][concurrency]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    constexpr int writers = 4, batches = 50, per_batch = 200;
    std::atomic<bool> done{false};
    std::atomic<int> reads{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
            std::string key = "key" + std::to_string(w);
            for (int b = 0; b < batches; ++b) {
                std::vector<metric_point> pts;
                for (int i = 0; i < per_batch; ++i) pts.push_back(point(key, b * per_batch + i, double(i)));
                s->append_metrics(r.id, pts);
            }
        });
    }
    std::thread reader([&] {
        do {  // at least one read, however fast the writers are
            auto q = series_of(r.id, "key0");
            auto got = s->query_metrics(q);
            CHECK(
                std::is_sorted(got.points.begin(), got.points.end(), [](auto& a, auto& b) { return a.step < b.step; }));
            s->latest_metrics(r.id);
            s->list_runs({});
            reads.fetch_add(1);
        } while (!done.load());
    });
    for (auto& t : threads) t.join();
    done = true;
    reader.join();
    CHECK(reads.load() > 0);
    for (int w = 0; w < writers; ++w) {
        auto got = s->query_metrics(series_of(r.id, "key" + std::to_string(w)));
        REQUIRE(got.points.size() == static_cast<std::size_t>(batches * per_batch));
        CHECK(got.points.back().step == batches * per_batch - 1);
    }
    CHECK(s->get_run(r.id)->last_step == batches * per_batch - 1);
}

TEMPLATE_TEST_CASE("a refused write among concurrent writes does not sink the others", "[storage][concurrency]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            for (int b = 0; b < 50; ++b) {
                std::vector<metric_point> pts{point(fmt::format("k{}", w), b, 1.0)};
                if (w == 3) pts.push_back(point("bad", b, std::nan("")));
                try {
                    s->append_metrics(w == 2 ? std::string{"run_missing"} : r.id, pts);
                } catch (const tmon::error&) {
                    refused++;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(refused.load() == 100);
    CHECK(s->query_metrics(series_of(r.id, "k0")).points.size() == 50);
    CHECK(s->query_metrics(series_of(r.id, "k1")).points.size() == 50);
    CHECK(s->query_metrics(series_of(r.id, "k3")).points.empty());
    auto keys = s->metric_keys(r.id);
    std::sort(keys.begin(), keys.end());
    CHECK(keys == std::vector<std::string>{"k0", "k1"});
}

TEMPLATE_TEST_CASE("a late batch spanning many steps overrides values inside any queried range", "[storage]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    for (step_t b = 0; b < 10; ++b) {
        std::vector<metric_point> pts;
        for (step_t i = b * 100; i < (b + 1) * 100; ++i) pts.push_back(point("loss", i, double(i)));
        s->append_metrics(r.id, pts);
    }
    std::vector<metric_point> wide{point("loss", 50, -50.0), point("loss", 950, -950.0)};
    s->append_metrics(r.id, wide);

    auto q = series_of(r.id, "loss");
    q.step_min = 940;
    q.step_max = 960;
    auto late = s->query_metrics(q).points;
    REQUIRE(late.size() == 21);
    CHECK(late[10].step == 950);
    CHECK(late[10].value == -950.0);
    q.step_min = 40;
    q.step_max = 60;
    auto early = s->query_metrics(q).points;
    REQUIRE(early.size() == 21);
    CHECK(early[10].value == -50.0);
    CHECK(s->query_metrics(series_of(r.id, "loss")).points.size() == 1000);
}

// ---- what remote trainers bring: their samples, client ids --------------------

namespace {
system_sample trainer_sample(std::string run_id, std::string host, int rank, double time, double cpu) {
    system_sample x;
    x.run_id = std::move(run_id);
    x.host = std::move(host);
    x.rank = rank;
    x.time = time;
    x.cpu_percent = cpu;
    x.memory_percent = 40;
    x.memory_total = 8u << 30;
    gpu_sample g;
    g.index = 1;
    g.name = "NVIDIA A100";
    g.utilization = 88;
    x.gpus.push_back(g);
    return x;
}
}  // namespace

TEMPLATE_TEST_CASE("a run's samples are kept per host and rank, apart from the server's own", "[storage][remote]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("ddp"));
    auto other = s->create_run(named_run("other"));
    for (int i = 0; i < 10; ++i) {
        s->append_system(trainer_sample(r.id, "node-1", 0, 100.0 + i, i));
        s->append_system(trainer_sample(r.id, "node-2", 1, 100.5 + i, 50 + i));
    }
    s->append_system(trainer_sample(other.id, "node-9", 0, 105, 1));
    system_sample own;
    own.time = 105;
    s->append_system(own);
    // A replay of the same (host, rank, time) replaces; it never adds a sample.
    s->append_system(trainer_sample(r.id, "node-1", 0, 104, 99));

    auto check_all = [&] {
        system_query q;
        q.run_id = r.id;
        auto all = s->system_history(q);
        REQUIRE(all.size() == 20);
        CHECK(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.time < b.time; }));
        CHECK(all.front().host == "node-1");
        CHECK(all.front().run_id == r.id);
        CHECK(all[1].host == "node-2");
        CHECK(all[1].rank == 1);
        REQUIRE(all[1].gpus.size() == 1);
        CHECK(all[1].gpus[0].name == "NVIDIA A100");
        CHECK(all[8].time == 104);
        CHECK(all[8].cpu_percent == 99);

        q.host = "node-2";
        auto node2 = s->system_history(q);
        REQUIRE(node2.size() == 10);
        CHECK(node2.front().time == 100.5);
        q.host.clear();
        q.rank = 0;
        q.time_min = 102;
        q.time_max = 106;
        auto rank0 = s->system_history(q);
        REQUIRE(rank0.size() == 5);
        CHECK(rank0.front().time == 102);
        CHECK(rank0.back().time == 106);
        q = {};
        q.run_id = r.id;
        q.limit = 3;
        auto newest = s->system_history(q);
        REQUIRE(newest.size() == 3);
        CHECK(newest.back().time == 109.5);
        CHECK(newest.front().time == 108.5);

        auto server_own = s->system_history({});
        REQUIRE(server_own.size() == 1);
        CHECK(server_own[0].host.empty());
        CHECK(server_own[0].run_id.empty());
        q = {};
        q.run_id = other.id;
        CHECK(s->system_history(q).size() == 1);
    };
    check_all();
    if constexpr (store_traits<TestType>::persistent) {
        s.reopen();
        check_all();
        s->append_system(trainer_sample(r.id, "node-2", 1, 100.5, 7));  // a replay after the reopen
        system_query q;
        q.run_id = r.id;
        q.host = "node-2";
        auto node2 = s->system_history(q);
        REQUIRE(node2.size() == 10);
        CHECK(node2.front().cpu_percent == 7);
    }

    CHECK(s->delete_run(r.id));
    system_query q;
    q.run_id = r.id;
    CHECK(s->system_history(q).empty());
    try {
        s->append_system(trainer_sample("run_nope", "node-1", 0, 1, 1));
        FAIL("a sample for an unknown run was accepted");
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::not_found);
    }
}

TEMPLATE_TEST_CASE("an event with a client id is stored once per run, also across a reopen", "[storage][remote]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("remote"));
    auto other = s->create_run(named_run("other"));
    event e;
    e.run_id = r.id;
    e.type = "warning";
    e.message = "loss spiked";
    e.data_json = R"({"step":7})";
    e.client_id = "ev-1";
    auto first = s->append_event(e);
    CHECK(first.id > 0);
    CHECK(first.client_id == "ev-1");
    e.message = "a replay may differ: the stored one wins";
    auto again = s->append_event(e);
    CHECK(again.id == first.id);
    CHECK(again.message == "loss spiked");
    e.run_id = other.id;  // the same client id on another run is another event
    auto elsewhere = s->append_event(e);
    CHECK(elsewhere.id != first.id);

    auto count = [&](const std::string& run_id, const std::string& type) {
        event_query q;
        q.run_id = run_id;
        auto evs = s->list_events(q);
        return std::count_if(evs.begin(), evs.end(), [&](const event& x) { return x.type == type; });
    };
    CHECK(count(r.id, "warning") == 1);
    if constexpr (store_traits<TestType>::persistent) {
        s.reopen();
        event_query q;
        q.run_id = r.id;
        auto evs = s->list_events(q);
        REQUIRE(evs.size() == 2);
        CHECK(evs[1].client_id == "ev-1");
        e.run_id = r.id;
        auto replayed = s->append_event(e);
        CHECK(replayed.id == first.id);
        CHECK(count(r.id, "warning") == 1);
        event plain;
        plain.run_id = r.id;
        plain.type = "note";
        CHECK(s->append_event(plain).id > elsewhere.id);
        CHECK(s->append_event(plain).client_id.empty());
    }
}

TEMPLATE_TEST_CASE("a checkpoint saved again under its id is stored once; the id on another run conflicts",
                   "[storage][remote]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("remote"));
    auto other = s->create_run(named_run("other"));
    auto in = checkpoint_for(r.id, "/ckpt/10.pt", 10);
    in.id = "ckpt_client_1";
    in.is_best = true;
    auto first = s->add_checkpoint(in);
    auto check_once = [&] {
        auto again = s->add_checkpoint(in);
        CHECK(again.id == first.id);
        CHECK(again.created_at == first.created_at);
        CHECK(s->list_checkpoints(r.id).size() == 1);
        event_query q;
        q.run_id = r.id;
        CHECK(event_types(s->list_events(q)) ==
              std::vector<std::string>{"run_created", "checkpoint_saved", "best_changed"});
    };
    check_once();
    if constexpr (store_traits<TestType>::persistent) {
        s.reopen();
        check_once();
    }
    in.run_id = other.id;
    try {
        s->add_checkpoint(in);
        FAIL("a checkpoint id of another run was accepted");
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::conflict);
    }
    CHECK(s->list_checkpoints(other.id).empty());
}

TEMPLATE_TEST_CASE("system_hosts gives each host and rank of a run with its newest sample time", "[storage][remote]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("ddp"));
    s->append_system(trainer_sample(r.id, "node-b", 1, 10, 1));
    s->append_system(trainer_sample(r.id, "node-b", 1, 30, 1));
    s->append_system(trainer_sample(r.id, "node-a", 1, 20, 1));
    s->append_system(trainer_sample(r.id, "node-z", 0, 5, 1));
    auto check = [&] {
        auto hosts = s->system_hosts(r.id);
        REQUIRE(hosts.size() == 3);
        CHECK(hosts[0].host == "node-z");
        CHECK(hosts[1].host == "node-a");
        CHECK(hosts[1].time == 20);
        CHECK(hosts[2].host == "node-b");
        CHECK(hosts[2].rank == 1);
        CHECK(hosts[2].time == 30);
    };
    check();
    if constexpr (store_traits<TestType>::persistent) {
        s.reopen();
        check();
    }
    CHECK(s->system_hosts("run_nope").empty());
}
