// The live WebSocket protocol against a real server: subscriptions, pushes
// after REST and in-process writes, ping/pong, errors that keep the
// connection, token checks, and coalescing for clients that read slowly.
#include <set>
#include <string>

#include "server/server_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

using ws_server = served<memory_store>;

std::string step_body(int step, int keys = 1) {
    std::string m;
    for (int k = 0; k < keys; ++k) m += fmt::format("{}\"metric_{}\":{}", k ? "," : "", k, step + k * 0.001);
    return fmt::format(R"({{"step":{},"metrics":{{{}}}}})", step, m);
}

// A server keeping at most `points_per_run` points per run for a slow peer, and
// one subscriber that reads nothing until the test says so.
struct lagging_subscriber {
    ws_server s;
    std::string id;
    ws_client client;

    explicit lagging_subscriber(std::size_t points_per_run)
        : s(server_config{.ws_points_per_run = points_per_run}), id(s.create_run("lagging")), client(s.srv.port()) {
        client.subscribe(id);
    }
    // Writes steps 0..steps-1 of 200 metrics each, all acknowledged before the client reads.
    void post_steps(int steps) {
        for (int i = 0; i < steps; ++i) REQUIRE(s.post_metrics(id, step_body(i, 200)).status == 200);
    }
};

}  // namespace

TEST_CASE("a subscriber receives a metric_update after a REST write", "[server][ws]") {
    ws_server s;
    auto id = s.create_run("live");
    ws_client ws(s.srv.port());
    REQUIRE(ws.handshake_status() == 101);
    ws.subscribe(id);
    REQUIRE(s.post_metrics(
                 id, R"({"points":[{"step":1,"metrics":{"loss":0.9}},{"step":2,"metrics":{"loss":0.8,"lr":0.1}}]})")
                .status == 200);
    auto m = ws.next_of("metric_update");
    CHECK(str(m["run_id"]) == id);
    CHECK(m["step"].GetInt64() == 2);
    CHECK(m["metrics"]["loss"].GetDouble() == 0.8);
    CHECK(m["metrics"]["lr"].GetDouble() == 0.1);
    CHECK(m["timestamp"].GetDouble() > 0);
    REQUIRE(m["points"].Size() == 2);
    CHECK(m["points"][0]["step"].GetInt64() == 1);
    CHECK(m["points"][0]["metrics"]["loss"].GetDouble() == 0.9);
    CHECK(m["dropped"].GetUint64() == 0);

    REQUIRE(s.api.put("/api/runs/" + id, R"({"status":"completed"})").status == 200);
    auto sc = ws.next_of("status_change");
    CHECK(str(sc["old_status"]) == "running");
    CHECK(str(sc["new_status"]) == "completed");
}

TEST_CASE("a \"*\" subscriber hears about every run, its checkpoints and its events", "[server][ws]") {
    ws_server s;
    ws_client ws(s.srv.port());
    ws.subscribe("*");
    auto id = s.create_run("anything");
    auto created = ws.next_of("run_created");
    CHECK(str(created["run_id"]) == id);
    CHECK(str(created["run"]["name"]) == "anything");
    auto ev = ws.next_of("event");
    CHECK(str(ev["event"]["type"]) == "run_created");

    auto ck = s.api.post("/api/runs/" + id + "/checkpoints",
                         R"({"filepath":"a.pt","step":5,"metrics":{"loss":0.1},"is_best":true})");
    auto saved = ws.next_of("checkpoint_saved");
    CHECK(str(saved["checkpoint_id"]) == str(ck["id"]));
    CHECK(saved["metrics"]["loss"].GetDouble() == 0.1);
    CHECK(str(saved["checkpoint"]["filepath"]) == "a.pt");
    CHECK(str(ws.next_of("best_changed")["checkpoint_id"]) == str(ck["id"]));

    s.api.post("/api/checkpoints/" + str(ck["id"]) + "/load", "");
    auto cmd = ws.next_of("command");
    CHECK(str(cmd["command"]["type"]) == "load_checkpoint");

    s.api.post("/api/v1/metrics/layerwise", fmt::format(R"({{"run_id":"{}","step":3,"layers":[{{"name":"l"}}]}})", id));
    CHECK(ws.next_of("layer_update")["step"].GetInt64() == 3);

    s.api.del("/api/runs/" + id);
    CHECK(str(ws.next_of("run_deleted")["run_id"]) == id);
}

TEST_CASE("an in-process monitor's writes reach WebSocket subscribers and its commands come back",
          "[server][ws][monitor]") {
    ws_server s;
    ws_client ws(s.srv.port());
    ws.subscribe("*");
    std::string id;
    {
        auto run = s.srv.start_run("in-process", R"({"lr":0.01})");
        id = run.run_id();
        auto created = ws.next_of("run_created");
        CHECK(created["run"]["config"]["lr"].GetDouble() == 0.01);
        run.log(7, {{"loss", 0.25}, {"acc", 0.5}});
        run.flush();
        auto m = ws.next_of("metric_update");
        CHECK(str(m["run_id"]) == id);
        CHECK(m["step"].GetInt64() == 7);
        CHECK(m["metrics"]["loss"].GetDouble() == 0.25);

        auto ck = run.checkpoint("ckpt/7.pt", {{"loss", 0.25}});
        CHECK(str(ws.next_of("checkpoint_saved")["checkpoint_id"]) == ck.id);
        CHECK(run.poll_commands().empty());
        REQUIRE(s.api.post("/api/checkpoints/" + ck.id + "/load", "").status == 202);
        auto cmds = run.poll_commands();
        REQUIRE(cmds.size() == 1);
        CHECK(cmds[0].type == "load_checkpoint");
        CHECK(cmds[0].filepath == "ckpt/7.pt");
        CHECK(run.poll_commands().empty());
    }
    auto sc = ws.next_of("status_change");
    CHECK(str(sc["run_id"]) == id);
    CHECK(str(sc["new_status"]) == "completed");
    CHECK(s.api.get("/api/runs/" + id + "/metrics/latest")["metrics"]["acc"].GetDouble() == 0.5);
}

TEST_CASE("unsubscribe stops pushes; ping gets pong; bad messages get an error and the connection stays",
          "[server][ws]") {
    ws_server s;
    auto id = s.create_run("u");
    ws_client ws(s.srv.port());
    ws.send(R"({"type":"ping"})");
    CHECK(str(ws.next()["type"]) == "pong");

    for (const char* bad : {"not json", R"({"type":"dance"})", R"({"type":"subscribe"})", R"([1,2])",
                            R"({"type":"subscribe","run_id":5})"}) {
        INFO(bad);
        ws.send(bad);
        auto e = ws.next();
        CHECK(str(e["type"]) == "error");
        CHECK_FALSE(str(e["message"]).empty());
    }

    ws.subscribe(id);
    s.post_metrics(id, step_body(1));
    CHECK(ws.next_of("metric_update")["step"].GetInt64() == 1);
    ws.send(fmt::format(R"({{"type":"unsubscribe","run_id":"{}"}})", id));
    auto un = ws.next();
    CHECK(str(un["type"]) == "unsubscribed");
    CHECK(str(un["run_id"]) == id);
    // The push for this write would be queued before the pong if it were sent at all.
    REQUIRE(s.post_metrics(id, step_body(2)).status == 200);
    ws.send(R"({"type":"ping"})");
    CHECK(str(ws.next()["type"]) == "pong");
}

TEST_CASE("system updates go to every connection, subscribed or not", "[server][ws]") {
    ws_server s;
    ws_client ws(s.srv.port());
    ws.send(R"({"type":"ping"})");  // a round trip: the server has registered this connection
    REQUIRE(str(ws.next()["type"]) == "pong");
    system_sample x;
    x.time = 1730000000.5;
    x.cpu_percent = 12.5;
    x.gpus.push_back(gpu_sample{0, "NVIDIA H100", 97, 1, 2, 61, 310.2});
    s.srv.recorder().append_system(x);
    auto u = ws.next_of("system_update");
    CHECK(u["cpu_percent"].GetDouble() == 12.5);
    CHECK(u["gpu_utilization"].GetDouble() == 97);
    CHECK(str(u["gpus"][0]["name"]) == "NVIDIA H100");
    CHECK(s.api.get("/api/system/status")["cpu_percent"].GetDouble() == 12.5);
}

TEST_CASE("the WebSocket handshake needs the token when the server has one", "[server][ws][auth]") {
    server_config c;
    c.token = "t0k";
    ws_server s(c);
    CHECK(ws_client(s.srv.port()).handshake_status() == 401);
    CHECK(ws_client(s.srv.port(), "/ws?token=nope").handshake_status() == 401);
    CHECK(ws_client(s.srv.port(), "/ws?token=t0k").handshake_status() == 101);
    ws_client with_header(s.srv.port(), "/ws", "Authorization: Bearer t0k\r\n");
    REQUIRE(with_header.handshake_status() == 101);
    with_header.send(R"({"type":"ping"})");
    CHECK(str(with_header.next()["type"]) == "pong");
}

TEST_CASE("a reader that never reads does not delay another subscriber", "[server][ws][slow]") {
    ws_server s;
    auto id = s.create_run("fast-and-slow");
    ws_client stalled(s.srv.port());
    stalled.subscribe(id);
    ws_client reader(s.srv.port());
    reader.subscribe(id);
    const int steps = 1500;
    for (int i = 0; i < steps; ++i) {
        REQUIRE(s.post_metrics(id, step_body(i, 200)).status == 200);
        // Each write is pushed to the live reader before the next one is made.
        auto m = reader.next_of("metric_update");
        REQUIRE(m["step"].GetInt64() == i);
        REQUIRE(m["points"].Size() == 1);
    }
    CHECK(s.srv.ws_connections() == 2);
}

TEST_CASE("a lagging client gets the points it missed merged into fewer messages", "[server][ws][slow]") {
    lagging_subscriber lagging(1'000'000);
    const int steps = 2000;
    lagging.post_steps(steps);

    std::set<std::int64_t> seen;
    int messages = 0;
    std::uint64_t dropped = 0;
    while (seen.size() < steps) {
        auto m = lagging.client.next_of("metric_update");
        ++messages;
        dropped += m["dropped"].GetUint64();
        for (const auto& p : m["points"].GetArray()) {
            REQUIRE(p["metrics"].MemberCount() == 200);
            seen.insert(p["step"].GetInt64());
        }
    }
    CHECK(dropped == 0);
    CHECK(*seen.rbegin() == steps - 1);
    CHECK(messages < steps);  // some pushes were merged while the socket was busy
}

TEST_CASE("past its per-run cap a lagging client's backlog is cut and the cut is counted", "[server][ws][slow]") {
    lagging_subscriber lagging(10);
    const int steps = 2000;
    lagging.post_steps(steps);

    std::uint64_t points = 0, dropped = 0;
    for (;;) {
        auto m = lagging.client.next_of("metric_update");
        points += m["points"].Size();
        dropped += m["dropped"].GetUint64();
        CHECK(m["points"].Size() <= 10);
        if (m["step"].GetInt64() == steps - 1) break;
    }
    CHECK(dropped > 0);
    CHECK(points + dropped == steps);
}
