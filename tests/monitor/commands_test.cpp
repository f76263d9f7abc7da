#include <catch2/catch.hpp>

#include "tmon/monitor/monitor.hpp"
#include "tmon/server/detail/server_state.hpp"
#include "tmon/server/server_recorder.hpp"
#include "tmon/server/server_recorder_impl.hpp"
#include "tmon/storage/memory_store.hpp"

static_assert(tmon::recorder<tmon::server_recorder<tmon::memory_store>>);
static_assert(tmon::detail::recorder_checks::has_poll_commands<tmon::server_recorder<tmon::memory_store>>);
static_assert(!tmon::detail::recorder_checks::has_poll_commands<tmon::memory_store>);

TEST_CASE("a monitor inside a server receives each dashboard command for its run once", "[monitor]") {
    tmon::memory_store store;
    tmon::detail::server_state<tmon::memory_store> state{store};
    tmon::server_recorder<tmon::memory_store> rec{state};
    tmon::monitor mon{rec, {.run_name = "served"}};
    tmon::monitor other{rec, {.run_name = "neighbour"}};

    CHECK(mon.poll_commands().empty());
    auto ckpt = mon.checkpoint("step_10.bin", {{"loss", 0.5}}, "{}", 10);
    tmon::command load;
    load.run_id = mon.run_id();
    load.type = "load_checkpoint";
    load.checkpoint_id = ckpt.id;
    load.filepath = ckpt.filepath;
    state.commands().push(load);

    auto got = mon.poll_commands();
    REQUIRE(got.size() == 1);
    CHECK(got[0].type == "load_checkpoint");
    CHECK(got[0].checkpoint_id == ckpt.id);
    CHECK(got[0].filepath == "step_10.bin");
    CHECK(mon.poll_commands().empty());
    CHECK(other.poll_commands().empty());

    tmon::command stop;
    stop.run_id = mon.run_id();
    stop.type = "stop";
    state.commands().push(stop);
    got = mon.poll_commands();
    REQUIRE(got.size() == 1);
    CHECK(got[0].type == "stop");
}

TEST_CASE("points logged through a server's recorder reach its store", "[monitor]") {
    tmon::memory_store store;
    tmon::detail::server_state<tmon::memory_store> state{store};
    tmon::server_recorder<tmon::memory_store> rec{state};
    tmon::monitor mon{rec, {.run_name = "served-points"}};
    for (int step = 0; step < 100; ++step) mon.log(step, "loss", step);
    mon.flush();
    tmon::metric_query q;
    q.run_id = mon.run_id();
    q.key = "loss";
    CHECK(store.query_metrics(q).points.size() == 100);
}
