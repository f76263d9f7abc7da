// The routes remote trainers use (docs/API.md, "Remote trainers") against a
// real server and store: heartbeats and identity headers, per-run system
// samples, events and checkpoints replayed by client id, commands and their
// acknowledgements, and liveness on the run object.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "server/server_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

// The test client adds its own Host header only when the extra headers name none
// ("X-Tmon-Host:" counts as one), so these bring it.
std::string identity(std::string_view headers) { return fmt::format("Host: 127.0.0.1\r\n{}", headers); }
const std::string node1 = identity("X-Tmon-Host: node-1\r\nX-Tmon-Rank: 0\r\n");

std::size_t count_events(api_client& api, const std::string& run_id, std::string_view type) {
    auto evs = api.get(fmt::format("/api/runs/{}/events?limit=1000", run_id));
    REQUIRE(evs.status == 200);
    std::size_t n = 0;
    for (const auto& e : evs["events"].GetArray()) n += str(e["type"]) == type;
    return n;
}

template <class F>
bool eventually(F&& f, std::chrono::seconds within = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return f();
}

}  // namespace

TEMPLATE_TEST_CASE("a heartbeat names the run's host and rank; bad identity headers are a 400", "[server][remote]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    std::string id = s.create_run("remote");
    auto fresh = s.api.get("/api/runs/" + id);
    CHECK_FALSE(fresh["stale"].GetBool());
    CHECK(str(fresh["last_seen"]).ends_with("Z"));
    CHECK(fresh["hosts"].Size() == 0);

    auto hb = s.api.post("/api/runs/" + id + "/heartbeat", "{}", node1);
    REQUIRE(hb.status == 200);
    CHECK(str(hb["run_id"]) == id);
    CHECK_FALSE(hb["stale"].GetBool());
    CHECK(str(hb["last_seen"]).ends_with("Z"));
    // Body fields override the headers; an empty body is a heartbeat too.
    CHECK(s.api.post("/api/runs/" + id + "/heartbeat", R"({"host":"node-2","rank":3})", node1).status == 200);
    auto empty_body =
        s.api.call("POST", "/api/runs/" + id + "/heartbeat", "", identity("X-Tmon-Host: node-0\r\nX-Tmon-Rank: 1\r\n"));
    CHECK(empty_body.status == 200);

    auto run = s.api.get("/api/runs/" + id);
    REQUIRE(run["hosts"].Size() == 3);
    CHECK(str(run["hosts"][0]["host"]) == "node-1");  // by rank, then host
    CHECK(run["hosts"][0]["rank"].GetInt() == 0);
    CHECK(str(run["hosts"][1]["host"]) == "node-0");
    CHECK(run["hosts"][2]["rank"].GetInt() == 3);
    CHECK(str(run["hosts"][2]["last_seen"]).ends_with("Z"));
    auto listed = s.api.get("/api/runs");
    CHECK(listed["runs"][0]["hosts"].Size() == 3);
    CHECK_FALSE(listed["runs"][0]["stale"].GetBool());

    CHECK(s.api.post("/api/runs/run_nope/heartbeat", "{}", node1).status == 404);
    auto bad_host = s.api.post("/api/runs/" + id + "/heartbeat", "{}", identity("X-Tmon-Host: node 1/evil\r\n"));
    CHECK(bad_host.status == 400);
    CHECK(str(bad_host["detail"]).find("X-Tmon-Host") != std::string::npos);
    auto long_host = s.api.post("/api/runs/" + id + "/heartbeat", "{}",
                                identity(fmt::format("X-Tmon-Host: {}\r\n", std::string(256, 'a'))));
    CHECK(long_host.status == 400);
    auto bad_rank =
        s.api.post("/api/runs/" + id + "/heartbeat", "{}", identity("X-Tmon-Host: n1\r\nX-Tmon-Rank: 70000\r\n"));
    CHECK(bad_rank.status == 400);
    CHECK(str(bad_rank["detail"]).find("X-Tmon-Rank") != std::string::npos);
    auto negative = s.api.post("/api/runs/" + id + "/heartbeat", "{}", "X-Tmon-Rank: -1\r\n");
    CHECK(negative.status == 400);
    CHECK(str(negative["detail"]).find("X-Tmon-Rank") != std::string::npos);
    auto listing = s.api.get("/api/runs", "X-Tmon-Rank: one\r\n");  // any request
    CHECK(listing.status == 400);
    CHECK(str(listing["detail"]).find("X-Tmon-Rank") != std::string::npos);
    CHECK(s.api.post("/api/runs/" + id + "/heartbeat", R"({"host":"a b"})").status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/heartbeat", R"({"rank":"0"})").status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/heartbeat", R"([1])").status == 422);
    CHECK(s.api.get("/api/runs/" + id)["hosts"].Size() == 3);  // nothing refused was recorded
}

TEMPLATE_TEST_CASE("a trainer's system samples are stored per run, host and rank, once per time", "[server][remote]",
                   TMON_TEST_STORES) {
    server_config c;
    c.requests.samples_per_post = 3;
    served<TestType> s(c);
    std::string id = s.create_run("ddp");
    std::string sample =
        R"({"timestamp":1000.5,"cpu_percent":12.5,"memory_percent":40,"memory_used":1024,"memory_total":4096,)"
        R"("process_rss":512,"gpus":[{"index":0,"name":"A100","utilization":90,"memory_used":10,"memory_total":80,)"
        R"("temperature":60,"power":250}]})";
    auto one = s.api.post("/api/runs/" + id + "/system", sample, node1);
    REQUIRE(one.status == 200);
    CHECK(one["accepted"].GetUint64() == 1);
    CHECK(s.api.post("/api/runs/" + id + "/system", sample, node1).status == 200);  // a replay
    auto batch = s.api.post("/api/runs/" + id + "/system",
                            R"({"host":"node-2","rank":1,"samples":[{"timestamp":1000.5,"cpu_percent":1},)"
                            R"({"timestamp":1001.5,"cpu_percent":2},{"timestamp":1002,"host":"node-3","rank":2}]})");
    REQUIRE(batch.status == 200);
    CHECK(batch["accepted"].GetUint64() == 3);

    auto all = s.api.get("/api/runs/" + id + "/system");
    REQUIRE(all.status == 200);
    REQUIRE(all["samples"].Size() == 4);
    const auto& first = all["samples"][0];
    CHECK(first["timestamp"].GetDouble() == 1000.5);
    CHECK(str(first["host"]) == "node-1");
    CHECK(first["rank"].GetInt() == 0);
    CHECK(first["cpu_percent"].GetDouble() == 12.5);
    CHECK(first["process_rss"].GetUint64() == 512);
    CHECK(str(first["gpus"][0]["name"]) == "A100");
    CHECK(str(all["samples"][3]["host"]) == "node-3");
    CHECK(s.api.get("/api/runs/" + id + "/system?host=node-2")["samples"].Size() == 2);
    CHECK(s.api.get("/api/runs/" + id + "/system?rank=0")["samples"].Size() == 1);
    CHECK(s.api.get("/api/runs/" + id + "/system?time_min=1001")["samples"].Size() == 2);
    auto newest = s.api.get("/api/runs/" + id + "/system?limit=1");
    REQUIRE(newest["samples"].Size() == 1);
    CHECK(newest["samples"][0]["timestamp"].GetDouble() == 1002);
    CHECK(s.api.get("/api/system/history")["samples"].Size() == 0);  // the server's own samples only
    auto run = s.api.get("/api/runs/" + id);
    CHECK(run["hosts"].Size() == 3);

    auto no_time = s.api.post("/api/runs/" + id + "/system", R"({"cpu_percent":1})", node1);
    CHECK(no_time.status == 422);
    CHECK(str(no_time["detail"]).find("timestamp") != std::string::npos);
    auto no_host = s.api.post("/api/runs/" + id + "/system", R"({"timestamp":5})");
    CHECK(no_host.status == 422);
    CHECK(str(no_host["detail"]).find("host") != std::string::npos);
    CHECK(s.api.post("/api/runs/" + id + "/system", R"({"timestamp":5,"cpu_percent":"x"})", node1).status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/system", R"({"timestamp":5,"memory_used":-1})", node1).status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/system", R"({"timestamp":5,"gpus":{}})", node1).status == 422);
    std::string four = R"({"samples":[{"timestamp":1},{"timestamp":2},{"timestamp":3},{"timestamp":4}]})";
    CHECK(s.api.post("/api/runs/" + id + "/system", four, node1).status == 422);
    // Refused whole: the first sample is not stored either.
    std::string half_bad = R"({"samples":[{"timestamp":7},{"cpu_percent":1}]})";
    CHECK(s.api.post("/api/runs/" + id + "/system", half_bad, node1).status == 422);
    CHECK(s.api.post("/api/runs/run_nope/system", sample, node1).status == 404);
    CHECK(s.api.get("/api/runs/run_nope/system").status == 404);
    CHECK(s.api.get("/api/runs/" + id + "/system?rank=x").status == 400);
    CHECK(s.api.get("/api/runs/" + id + "/system?host=a%20b").status == 400);
    CHECK(s.api.get("/api/runs/" + id + "/system")["samples"].Size() == 4);
}

TEMPLATE_TEST_CASE("a trainer's event is stored once per client id", "[server][remote]", TMON_TEST_STORES) {
    served<TestType> s;
    std::string id = s.create_run("remote");
    std::string other = s.create_run("other");
    std::string body = R"({"id":"ev-1","type":"warning","message":"loss spiked","data":{"step":7}})";
    auto first = s.api.post("/api/runs/" + id + "/events", body, node1);
    REQUIRE(first.status == 200);
    CHECK(str(first["client_id"]) == "ev-1");
    CHECK(str(first["type"]) == "warning");
    CHECK(first["data"]["step"].GetInt() == 7);
    auto again = s.api.post("/api/runs/" + id + "/events", body, node1);
    REQUIRE(again.status == 200);
    CHECK(again["id"].GetInt64() == first["id"].GetInt64());
    CHECK(count_events(s.api, id, "warning") == 1);
    CHECK(s.api.post("/api/runs/" + other + "/events", body).status == 200);
    CHECK(count_events(s.api, other, "warning") == 1);
    auto plain = s.api.post("/api/runs/" + id + "/events", R"({"type":"note"})");
    REQUIRE(plain.status == 200);
    CHECK_FALSE(plain.json.HasMember("client_id"));

    CHECK(s.api.post("/api/runs/" + id + "/events", R"({"id":"a b","type":"x"})").status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/events", R"({"message":"no type"})").status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/events", fmt::format(R"({{"type":"{}"}})", std::string(65, 't'))).status ==
          422);
    CHECK(s.api.post("/api/runs/" + id + "/events", R"({"type":"x","data":[1]})").status == 422);
    CHECK(s.api.post("/api/runs/run_nope/events", R"({"type":"x"})").status == 404);
    CHECK(s.api.post("/api/runs/" + id + "/events", R"({"type":"x"})", "Content-Type: text/plain\r\n").status == 415);
}

TEMPLATE_TEST_CASE("a checkpoint replayed by id is stored once; its id on another run is a 409", "[server][remote]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    std::string id = s.create_run("remote");
    std::string other = s.create_run("other");
    std::string body = R"({"id":"ckpt_c1","filepath":"/ckpt/1.pt","step":10,"metrics":{"loss":0.5}})";
    auto first = s.api.post("/api/runs/" + id + "/checkpoints", body);
    REQUIRE(first.status == 200);
    auto again = s.api.post("/api/runs/" + id + "/checkpoints", body);
    REQUIRE(again.status == 200);
    CHECK(str(again["id"]) == "ckpt_c1");
    CHECK(str(again["created_at"]) == str(first["created_at"]));
    CHECK(s.api.get("/api/runs/" + id + "/checkpoints")["checkpoints"].Size() == 1);
    CHECK(count_events(s.api, id, "checkpoint_saved") == 1);
    auto conflict = s.api.post("/api/runs/" + other + "/checkpoints", body);
    CHECK(conflict.status == 409);
    CHECK(s.api.get("/api/runs/" + other + "/checkpoints")["checkpoints"].Size() == 0);
}

TEMPLATE_TEST_CASE("commands are queued, polled and acknowledged once into the event log", "[server][remote]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    std::string id = s.create_run("remote");
    auto queued = s.api.post("/api/runs/" + id + "/commands", R"({"type":"stop","payload":{"why":"test"}})");
    REQUIRE(queued.status == 202);
    auto cmd_id = queued["command"]["id"].GetInt64();
    CHECK(str(queued["command"]["type"]) == "stop");
    CHECK(queued["command"]["payload"]["why"] == "test");
    auto polled = s.api.get("/api/runs/" + id + "/commands?after=0");
    REQUIRE(polled["commands"].Size() == 1);
    CHECK(polled["commands"][0]["id"].GetInt64() == cmd_id);
    auto second = s.api.post("/api/runs/" + id + "/commands", R"({"type":"custom_thing"})");
    CHECK(second["command"]["id"].GetInt64() > cmd_id);
    CHECK(s.api.get(fmt::format("/api/runs/{}/commands?after={}", id, cmd_id))["commands"].Size() == 1);

    std::string ack_path = fmt::format("/api/runs/{}/commands/{}/ack", id, cmd_id);
    auto ack = s.api.post(ack_path, R"({"status":"ok","message":"stopping"})", node1);
    REQUIRE(ack.status == 200);
    CHECK(ack["acknowledged"].GetBool());
    CHECK(ack["command_id"].GetInt64() == cmd_id);
    CHECK(s.api.post(ack_path, R"({"status":"ok","message":"stopping"})", node1).status == 200);
    CHECK(count_events(s.api, id, "command_acknowledged") == 1);
    auto evs = s.api.get("/api/runs/" + id + "/events?limit=1000");
    std::string message;
    for (const auto& e : evs["events"].GetArray())
        if (str(e["type"]) == "command_acknowledged") {
            message = str(e["message"]);
            CHECK(str(e["data"]["command_type"]) == "stop");
            CHECK(str(e["data"]["host"]) == "node-1");
            CHECK(e["data"]["command_id"].GetInt64() == cmd_id);
        }
    CHECK(message.find("stop acknowledged by node-1 rank 0: ok") != std::string::npos);

    auto unknown = s.api.post(fmt::format("/api/runs/{}/commands/{}/ack", id, 12345), R"({"status":"failed"})");
    REQUIRE(unknown.status == 200);
    CHECK_FALSE(unknown["acknowledged"].GetBool());
    CHECK(count_events(s.api, id, "command_acknowledged") == 2);

    CHECK(s.api.post(ack_path, R"({"status":"maybe"})").status == 422);
    CHECK(s.api.post(fmt::format("/api/runs/{}/commands/abc/ack", id), R"({"status":"ok"})").status == 400);
    CHECK(s.api.post("/api/runs/run_nope/commands/1/ack", R"({"status":"ok"})").status == 404);
    CHECK(s.api.post("/api/runs/" + id + "/commands", R"({"payload":{}})").status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/commands", R"({"type":""})").status == 422);
    CHECK(s.api.post("/api/runs/run_nope/commands", R"({"type":"stop"})").status == 404);
}

TEMPLATE_TEST_CASE("cancelling a run sends its trainer a stop command, interrupting it an interrupt",
                   "[server][remote]", TMON_TEST_STORES) {
    served<TestType> s;
    std::string a = s.create_run("a");
    std::string b = s.create_run("b");
    CHECK(s.api.put("/api/runs/" + a, R"({"status":"cancelled"})").status == 200);
    CHECK(s.api.put("/api/runs/" + b, R"({"status":"interrupted"})").status == 200);
    auto stop = s.api.get("/api/runs/" + a + "/commands?after=0");
    REQUIRE(stop["commands"].Size() == 1);
    CHECK(str(stop["commands"][0]["type"]) == "stop");
    auto interrupt = s.api.get("/api/runs/" + b + "/commands?after=0");
    REQUIRE(interrupt["commands"].Size() == 1);
    CHECK(str(interrupt["commands"][0]["type"]) == "interrupt");
    CHECK(s.api.put("/api/runs/" + a, R"({"notes":"no status change"})").status == 200);
    CHECK(s.api.get("/api/runs/" + a + "/commands?after=0")["commands"].Size() == 1);
}

TEST_CASE("command ids keep increasing and client ids stay unique across a server restart", "[server][remote]") {
    temp_dir dir;
    server_config c;
    c.port = 0;
    c.db_path = dir.file("tmon.db");
    std::int64_t before = 0;
    std::string id;
    {
        server<sqlite_store, asio_transport, no_sampler> srv(c);
        api_client api(srv.port());
        id = str(api.post("/api/runs", R"({"name":"r","id":"run_restart"})")["id"]);
        before = api.post("/api/runs/" + id + "/commands", R"({"type":"stop"})")["command"]["id"].GetInt64();
        CHECK(api.post("/api/runs/" + id + "/events", R"({"id":"e1","type":"note"})").status == 200);
        CHECK(api.post(fmt::format("/api/runs/{}/commands/{}/ack", id, before), R"({"status":"ok"})")["acknowledged"]
                  .GetBool());
        CHECK(api.post("/api/runs/" + id + "/system", R"({"timestamp":10,"host":"node-7","rank":2})").status == 200);
    }
    server<sqlite_store, asio_transport, no_sampler> srv(c);
    api_client api(srv.port());
    auto after = api.post("/api/runs/" + id + "/commands", R"({"type":"stop"})")["command"]["id"].GetInt64();
    CHECK(after > before);
    CHECK(api.post("/api/runs/" + id + "/events", R"({"id":"e1","type":"note"})").status == 200);
    CHECK(count_events(api, id, "note") == 1);
    // The old command is gone with the old queue: acknowledged false, and still logged once.
    auto late = api.post(fmt::format("/api/runs/{}/commands/{}/ack", id, before), R"({"status":"ok"})");
    CHECK_FALSE(late["acknowledged"].GetBool());
    CHECK(count_events(api, id, "command_acknowledged") == 1);
    auto run = api.get("/api/runs/" + id);  // hosts come back from the stored samples
    REQUIRE(run["hosts"].Size() == 1);
    CHECK(str(run["hosts"][0]["host"]) == "node-7");
    CHECK(run["hosts"][0]["rank"].GetInt() == 2);
}

TEMPLATE_TEST_CASE("a silent trainer's run turns stale and its next write clears it", "[server][remote]",
                   TMON_TEST_STORES) {
    server_config c;
    c.liveness.stale_after_s = 1;
    served<TestType> s(c);
    std::string id = s.create_run("silent");
    std::string done = s.create_run("done");
    CHECK(s.api.put("/api/runs/" + done, R"({"status":"completed"})").status == 200);
    REQUIRE(eventually([&] { return s.api.get("/api/runs/" + id)["stale"].GetBool(); }));
    CHECK(count_events(s.api, id, "run_stale") == 1);
    CHECK_FALSE(s.api.get("/api/runs/" + done)["stale"].GetBool());
    CHECK(count_events(s.api, done, "run_stale") == 0);
    CHECK(s.api.post("/api/runs/" + id + "/metrics", R"({"step":1,"metrics":{"loss":1}})").status == 200);
    CHECK_FALSE(s.api.get("/api/runs/" + id)["stale"].GetBool());
    CHECK(count_events(s.api, id, "run_alive") == 1);
}

TEST_CASE("with mark_stale_interrupted a silent trainer's run is interrupted", "[server][remote]") {
    server_config c;
    c.liveness.stale_after_s = 1;
    c.liveness.mark_stale_interrupted = true;
    served<memory_store> s(c);
    std::string id = s.create_run("silent");
    REQUIRE(eventually([&] { return str(s.api.get("/api/runs/" + id)["status"]) == "interrupted"; }));
    CHECK(count_events(s.api, id, "status_changed") == 1);
    CHECK(count_events(s.api, id, "run_stale") == 0);
    CHECK_FALSE(s.api.get("/api/runs/" + id)["stale"].GetBool());
}
