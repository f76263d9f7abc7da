#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "monitor/store_fixtures.hpp"
#include "tmon/core/clock.hpp"
#include "tmon/core/error.hpp"
#include "tmon/monitor/monitor.hpp"
#include "tmon/sampler/system_sampler.hpp"

using namespace std::chrono_literals;
using monitor_test::fixture;

static_assert(!tmon::recorder<int>);
static_assert(tmon::recorder<tmon::memory_store>);

namespace {

template <class Store>
tmon::metric_series series(Store& store, const std::string& run_id, const std::string& key) {
    tmon::metric_query q;
    q.run_id = run_id;
    q.key = key;
    return store.query_metrics(q);
}

template <class Store>
std::vector<tmon::event> events_of_type(Store& store, const std::string& run_id, std::string_view type) {
    tmon::event_query q;
    q.run_id = run_id;
    q.limit = 10'000;
    std::vector<tmon::event> out;
    for (auto& e : store.list_events(q))
        if (e.type == type) out.push_back(std::move(e));
    return out;
}

template <class Store>
tmon::run_status status_of(Store& store, const std::string& run_id) {
    auto run = store.get_run(run_id);
    REQUIRE(run);
    return run->status;
}

// What an earlier process left behind: `job` runs under a monitor of its own,
// which then closes as it would when that process exits. Returns the run id.
template <class Fixture, class Job>
std::string earlier_process(Fixture& fx, const char* run_name, Job job) {
    tmon::monitor mon{fx.store, {.run_name = run_name}};
    job(mon);
    return mon.run_id();
}

template <class Fixture>
auto resume_or_create(Fixture& fx, const char* run_name) {
    return tmon::monitor<typename Fixture::store_type>::resume_or_create(fx.store, {.run_name = run_name});
}

struct training_failed : std::runtime_error {
    training_failed() : std::runtime_error("diverged") {}
};

}  // namespace

TEMPLATE_TEST_CASE("constructing a monitor creates a running run with the options given", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store,
                      {.run_name = "resnet", .config_json = R"({"lr":0.1})", .tags = {"sweep"}, .total_steps = 500}};
    auto run = fx.store.get_run(mon.run_id());
    REQUIRE(run);
    CHECK(run->name == "resnet");
    CHECK(run->status == tmon::run_status::running);
    CHECK(run->tags == std::vector<std::string>{"sweep"});
    CHECK(run->total_steps == 500);
    CHECK(run->config_json.find("0.1") != std::string::npos);
}

TEMPLATE_TEST_CASE("a monitor refuses an empty run name", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    using mon_t = tmon::monitor<TestType>;
    CHECK_THROWS_AS(mon_t(fx.store, {.run_name = ""}), tmon::error);
}

TEMPLATE_TEST_CASE("points logged reach the store after flush with exact steps, values and times", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "exact"}};
    double before = tmon::now_seconds();
    for (int step = 0; step < 3000; ++step) {
        mon.log(step, {{"loss", 1.0 / (step + 1)}, {"lr", 0.1 * step}});
        mon.log(step, "accuracy", step * 1e-4);
    }
    mon.flush();
    double after = tmon::now_seconds();

    for (const char* key : {"loss", "lr", "accuracy"}) {
        auto s = series(fx.store, mon.run_id(), key);
        INFO(key);
        REQUIRE(s.points.size() == 3000);
        for (int step = 0; step < 3000; ++step) {
            const auto& p = s.points[static_cast<std::size_t>(step)];
            REQUIRE(p.step == step);
            double expected = key == std::string_view{"loss"} ? 1.0 / (step + 1)
                              : key == std::string_view{"lr"} ? 0.1 * step
                                                              : step * 1e-4;
            REQUIRE(p.value == expected);
            // Stamped by the cycle counter and converted; must fall inside the logging window.
            REQUIRE(p.time >= before - 0.01);
            REQUIRE(p.time <= after + 0.01);
        }
    }
    CHECK(mon.dropped() == 0);
    CHECK(mon.rejected() == 0);
    CHECK(mon.points_written() == 9000);
}

TEMPLATE_TEST_CASE("the background flusher writes points without an explicit flush", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "background", .flush_interval = 5ms}};
    for (int step = 0; step < 100; ++step) mon.log(step, "loss", step);
    std::size_t seen = 0;
    for (int i = 0; i < 500 && seen < 100; ++i) {
        std::this_thread::sleep_for(10ms);
        seen = series(fx.store, mon.run_id(), "loss").points.size();
    }
    CHECK(seen == 100);
}

TEMPLATE_TEST_CASE("a full queue drops and counts points instead of blocking the caller", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "full", .queue_capacity = 8, .start_flusher = false}};
    for (int step = 0; step < 20; ++step) mon.log(step, "loss", step);
    CHECK(mon.dropped() == 12);
    CHECK(mon.rejected() == 0);

    mon.flush();
    auto s = series(fx.store, mon.run_id(), "loss");
    REQUIRE(s.points.size() == 8);
    CHECK(s.points.front().step == 0);
    CHECK(s.points.back().step == 7);

    // Room again after the drain.
    mon.log(20, "loss", 20);
    mon.flush();
    CHECK(series(fx.store, mon.run_id(), "loss").points.size() == 9);
    CHECK(mon.dropped() == 12);
}

TEMPLATE_TEST_CASE("empty keys and keys over the length limit are rejected and counted", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "keys"}};
    std::string longest(tmon::max_metric_key_length, 'k');
    std::string too_long(tmon::max_metric_key_length + 1, 'k');
    mon.log(1, longest, 1.0);
    mon.log(1, too_long, 2.0);
    mon.log(1, "", 3.0);
    mon.flush();
    CHECK(mon.rejected() == 2);
    auto s = series(fx.store, mon.run_id(), longest);
    REQUIRE(s.points.size() == 1);
    CHECK(s.points[0].value == 1.0);
    CHECK(series(fx.store, mon.run_id(), too_long).points.empty());
}

TEMPLATE_TEST_CASE("non-finite values are rejected and reported once per key in the run's event log", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "diverging"}};
    mon.log(1, "loss", 0.5);
    mon.log(2, "loss", std::numeric_limits<double>::quiet_NaN());
    mon.log(3, "loss", std::numeric_limits<double>::infinity());
    mon.log(3, "grad_norm", -std::numeric_limits<double>::infinity());
    mon.log(4, "loss", 0.25);
    mon.flush();

    CHECK(mon.rejected() == 3);
    auto loss = series(fx.store, mon.run_id(), "loss");
    REQUIRE(loss.points.size() == 2);
    CHECK(loss.points[0].step == 1);
    CHECK(loss.points[1].step == 4);
    CHECK(series(fx.store, mon.run_id(), "grad_norm").points.empty());

    auto events = events_of_type(fx.store, mon.run_id(), "non_finite_value");
    REQUIRE(events.size() == 2);
    CHECK(events[0].data_json.find(R"("key":"loss")") != std::string::npos);
    CHECK(events[0].data_json.find(R"("value":"nan")") != std::string::npos);
    CHECK(events[0].data_json.find(R"("step":2)") != std::string::npos);
    CHECK(events[1].data_json.find(R"("key":"grad_norm")") != std::string::npos);
    CHECK(events[1].data_json.find(R"("value":"-inf")") != std::string::npos);
}

TEMPLATE_TEST_CASE("the destructor flushes queued points and marks the run completed", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    std::string id;
    {
        tmon::monitor mon{fx.store, {.run_name = "done", .flush_interval = 10s}};
        id = mon.run_id();
        for (int step = 0; step < 50; ++step) mon.log(step, "loss", step);
    }
    CHECK(status_of(fx.store, id) == tmon::run_status::completed);
    CHECK(series(fx.store, id, "loss").points.size() == 50);
    auto run = fx.store.get_run(id);
    CHECK(run->end_time.has_value());
}

TEMPLATE_TEST_CASE("a monitor destroyed while an exception unwinds marks the run failed", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    std::string id;
    auto train = [&] {
        tmon::monitor mon{fx.store, {.run_name = "crash"}};
        id = mon.run_id();
        mon.log(1, "loss", 1.0);
        throw training_failed{};
    };
    CHECK_THROWS_AS(train(), training_failed);
    CHECK(status_of(fx.store, id) == tmon::run_status::failed);
    CHECK(series(fx.store, id, "loss").points.size() == 1);
}

TEMPLATE_TEST_CASE("fail() keeps the exception's text in the event log and the destructor leaves the run failed",
                   "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    std::string id;
    auto train = [&] {
        tmon::monitor mon{fx.store, {.run_name = "crash-with-reason"}};
        id = mon.run_id();
        try {
            mon.log(1, "loss", 1.0);
            throw training_failed{};
        } catch (const std::exception& e) {
            mon.fail(e.what());
            throw;
        }
    };
    CHECK_THROWS_AS(train(), training_failed);
    CHECK(status_of(fx.store, id) == tmon::run_status::failed);
    auto events = fx.store.list_events({.run_id = id});
    bool found = false;
    for (const auto& e : events) found = found || (e.type == "run_failed" && e.message == "diverged");
    CHECK(found);
}

TEMPLATE_TEST_CASE("a monitor created inside a catch block still marks a normal end completed", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    std::string id;
    try {
        throw training_failed{};
    } catch (const training_failed&) {
        // An exception is in flight here but nothing unwinds the monitor.
        tmon::monitor mon{fx.store, {.run_name = "in-catch"}};
        id = mon.run_id();
    }
    CHECK(status_of(fx.store, id) == tmon::run_status::completed);
}

TEMPLATE_TEST_CASE("a run given a terminal status is left alone by the destructor", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    std::string cancelled_here, cancelled_elsewhere;
    {
        tmon::monitor mon{fx.store, {.run_name = "stopped"}};
        cancelled_here = mon.run_id();
        mon.set_status(tmon::run_status::cancelled);
    }
    {
        tmon::monitor mon{fx.store, {.run_name = "stopped-from-dashboard"}};
        cancelled_elsewhere = mon.run_id();
        tmon::run_update u;
        u.status = tmon::run_status::cancelled;
        fx.store.update_run(mon.run_id(), u);
    }
    CHECK(status_of(fx.store, cancelled_here) == tmon::run_status::cancelled);
    CHECK(status_of(fx.store, cancelled_elsewhere) == tmon::run_status::cancelled);
}

TEMPLATE_TEST_CASE("set_status refuses a transition the status rules forbid", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "rules"}};
    mon.set_status(tmon::run_status::completed);
    CHECK_THROWS_AS(mon.set_status(tmon::run_status::failed), tmon::error);
    CHECK(status_of(fx.store, mon.run_id()) == tmon::run_status::completed);
}

TEMPLATE_TEST_CASE("checkpoint flushes queued points first and defaults to the last step logged", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "ckpt", .start_flusher = false}};
    for (int step = 0; step < 10; ++step) mon.log(step, "loss", 10 - step);
    auto c = mon.checkpoint("/tmp/ckpt/step_9.bin", {{"loss", 1.0}, {"accuracy", 0.5}}, R"({"epoch":3})");
    CHECK(series(fx.store, mon.run_id(), "loss").points.size() == 10);
    CHECK(c.run_id == mon.run_id());
    CHECK(c.step == 9);
    CHECK(c.filepath == "/tmp/ckpt/step_9.bin");
    CHECK(c.metrics_json.find(R"("loss":1)") != std::string::npos);
    CHECK(c.metrics_json.find(R"("accuracy":0.5)") != std::string::npos);
    CHECK(c.metadata_json.find("epoch") != std::string::npos);

    auto explicit_step = mon.checkpoint("/tmp/ckpt/other.bin", {}, "{}", 42);
    CHECK(explicit_step.step == 42);
    CHECK(fx.store.list_checkpoints(mon.run_id()).size() == 2);
}

TEMPLATE_TEST_CASE("mark_best moves the best flag to the checkpoint named", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "best"}};
    auto a = mon.checkpoint("a.bin", {{"val_loss", 0.5}}, "{}", 100);
    auto b = mon.checkpoint("b.bin", {{"val_loss", 0.4}}, "{}", 200);
    mon.mark_best(a.id);
    auto marked = mon.mark_best(b.id);
    CHECK(marked.is_best);
    CHECK_FALSE(fx.store.get_checkpoint(a.id)->is_best);
    CHECK(fx.store.get_checkpoint(b.id)->is_best);
    CHECK_THROWS_AS(mon.mark_best("ckpt_doesnotexist"), tmon::error);
}

TEMPLATE_TEST_CASE("resume_or_create continues an interrupted run and reports its newest checkpoint", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    auto first_id = earlier_process(fx, "long-job", [](auto& mon) {
        mon.log(100, "loss", 1.0);
        mon.checkpoint("step_200.bin", {}, "{}", 200);
        mon.checkpoint("step_100.bin", {}, "{}", 100);  // written later, but an older step
        mon.set_status(tmon::run_status::interrupted);
    });
    auto mon = resume_or_create(fx, "long-job");
    CHECK(mon.is_resumed());
    CHECK(mon.run_id() == first_id);
    CHECK(status_of(fx.store, first_id) == tmon::run_status::running);
    auto last = mon.last_checkpoint();
    REQUIRE(last);
    CHECK(last->filepath == "step_200.bin");
    CHECK(last->step == 200);

    mon.log(201, "loss", 0.5);
    mon.flush();
    CHECK(series(fx.store, first_id, "loss").points.size() == 2);
}

TEMPLATE_TEST_CASE("resume_or_create continues a run that crashed without ending", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    // A killed process never updates its run: it stays "running" in the store.
    tmon::new_run r;
    r.name = "killed";
    auto orphan = fx.store.create_run(r);
    auto mon = resume_or_create(fx, "killed");
    CHECK(mon.is_resumed());
    CHECK(mon.run_id() == orphan.id);
    CHECK_FALSE(mon.last_checkpoint());
}

TEMPLATE_TEST_CASE("resume_or_create creates a new run when the last one with that name completed", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    auto finished = earlier_process(fx, "nightly", [](auto&) {});
    // A name containing it is not it.
    earlier_process(fx, "nightly-v2", [](auto& other) { other.set_status(tmon::run_status::interrupted); });
    auto mon = resume_or_create(fx, "nightly");
    CHECK_FALSE(mon.is_resumed());
    CHECK(mon.run_id() != finished);
    CHECK_FALSE(mon.last_checkpoint());
    CHECK(status_of(fx.store, finished) == tmon::run_status::completed);
    CHECK(status_of(fx.store, mon.run_id()) == tmon::run_status::running);
}

TEMPLATE_TEST_CASE("producers on several threads lose nothing when the queue is large enough", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    constexpr int threads = 4, per_thread = 5000;
    tmon::monitor mon{fx.store, {.run_name = "threads", .queue_capacity = threads * per_thread}};
    std::vector<std::thread> producers;
    for (int t = 0; t < threads; ++t) {
        producers.emplace_back([&mon, t] {
            std::string key = "worker_" + std::to_string(t);
            for (int step = 0; step < per_thread; ++step) mon.log(step, key, t * 1e6 + step);
        });
    }
    for (auto& p : producers) p.join();
    mon.flush();
    CHECK(mon.dropped() == 0);
    for (int t = 0; t < threads; ++t) {
        auto s = series(fx.store, mon.run_id(), "worker_" + std::to_string(t));
        REQUIRE(s.points.size() == per_thread);
        for (int step = 0; step < per_thread; ++step) {
            REQUIRE(s.points[static_cast<std::size_t>(step)].step == step);
            REQUIRE(s.points[static_cast<std::size_t>(step)].value == t * 1e6 + step);
        }
    }
}

TEMPLATE_TEST_CASE("log_layers snapshots reach the store", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "layers"}};
    tmon::layer_stat fc1;
    fc1.name = "fc1";
    fc1.parameters = tmon::tensor_stats{
        .mean = 0.1, .std = 0.2, .min = -1, .max = 1, .histogram = {1, 2, 3}, .hist_min = -1.0, .hist_max = 1.0};
    mon.log_layers(10, {fc1});
    mon.flush();
    auto snap = fx.store.get_layers(mon.run_id(), 10);
    REQUIRE(snap);
    REQUIRE(snap->layers.size() == 1);
    CHECK(snap->layers[0].name == "fc1");
    REQUIRE(snap->layers[0].parameters);
    CHECK(snap->layers[0].parameters->std == 0.2);
    CHECK(snap->layers[0].parameters->histogram == std::vector<double>{1, 2, 3});
}

TEMPLATE_TEST_CASE("a store that refuses a batch is counted and never throws into the training loop", "[monitor]",
                   TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "orphaned"}};
    // The dashboard deletes the run while training goes on: the store refuses its points.
    REQUIRE(fx.store.delete_run(mon.run_id()));
    mon.log(1, "loss", 1.0);
    REQUIRE_NOTHROW(mon.flush());
    CHECK(mon.write_errors() >= 1);
    CHECK(mon.points_written() == 0);
    mon.log(2, "loss", 1.0);
    REQUIRE_NOTHROW(mon.flush());
}

TEMPLATE_TEST_CASE("system samples land in the store's history with system_sampler", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    double before = tmon::now_seconds();
    tmon::monitor<TestType, tmon::system_sampler> mon{fx.store, {.run_name = "sampled", .sample_period = 20ms}};
    std::vector<tmon::system_sample> history;
    for (int i = 0; i < 500 && history.size() < 2; ++i) {
        std::this_thread::sleep_for(10ms);
        history = fx.store.system_history(tmon::system_query{.time_min = before});
    }
    REQUIRE(history.size() >= 2);
    CHECK(history.back().memory_total > 0);
    CHECK(history.back().process_rss > 0);
    CHECK(history.back().time >= before);
}

TEMPLATE_TEST_CASE("a monitor without a sampler writes no system samples", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    double before = tmon::now_seconds();
    {
        tmon::monitor mon{fx.store, {.run_name = "quiet", .sample_period = 1ms}};
        mon.log(1, "loss", 1);
        mon.flush();
    }
    CHECK(fx.store.system_history(tmon::system_query{.time_min = before}).empty());
}

TEMPLATE_TEST_CASE("a recorder without commands gives none to poll", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    tmon::monitor mon{fx.store, {.run_name = "commands"}};
    if constexpr (!tmon::detail::recorder_checks::has_poll_commands<TestType>) {
        CHECK(mon.poll_commands().empty());
    }
}

TEMPLATE_TEST_CASE("a moved monitor keeps logging to the same run and ends it once", "[monitor]", TMON_TEST_STORES) {
    fixture<TestType> fx;
    std::string id;
    {
        tmon::monitor a{fx.store, {.run_name = "moved"}};
        id = a.run_id();
        a.log(1, "loss", 1);
        auto b = std::move(a);
        b.log(2, "loss", 2);
    }
    CHECK(status_of(fx.store, id) == tmon::run_status::completed);
    CHECK(series(fx.store, id, "loss").points.size() == 2);
}
