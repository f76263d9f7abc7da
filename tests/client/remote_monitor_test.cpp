// monitor<http_client> against a real tmon-server on 127.0.0.1 (in this
// process, real sockets, SQLite in a temp dir): what a trainer in another
// process sees. The process-level outage tests (SIGKILL of the server and of
// the trainer) are tests/client/outage_test.py.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "server/test_client.hpp"
#include "support/temp_dir.hpp"
#include "tmon/client.hpp"
#include "tmon/server.hpp"

using namespace std::chrono_literals;
using tmon::test::api_client;
using tmon::test::str;

namespace {

// A server that can be stopped and started again on the same port and file,
// like an operator restarting tmon-server.
struct restartable_server {
    tmon::test::temp_dir dir;
    std::uint16_t port = 0;
    std::unique_ptr<tmon::server<tmon::sqlite_store>> srv;

    restartable_server() {
        start();
        port = srv->port();
    }
    void start() {
        tmon::server_config c;
        c.port = port;
        c.db_path = dir.file("tmon.db");
        c.sample_period = 0ms;
        srv = std::make_unique<tmon::server<tmon::sqlite_store>>(c);
    }
    void stop() { srv.reset(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
    api_client api() const { return api_client(port); }
};

tmon::http_client_options fast_options(const restartable_server& s, const tmon::test::temp_dir& journal_dir) {
    tmon::http_client_options o;
    o.url = s.url();
    o.journal_dir = journal_dir.path();
    o.batch_interval = 20ms;
    o.backoff_min = 50ms;
    o.backoff_max = 200ms;
    o.command_poll_interval = 50ms;
    o.request_timeout = 2000ms;
    o.drain_timeout = 5000ms;
    return o;
}

double loss_at(std::int64_t step) {
    return 1.0 / (1.0 + static_cast<double>(step)) + 1e-9 * static_cast<double>(step % 7);
}

// Every step of `key` in the store, checked to be exactly what loss_at logged.
std::size_t count_exact(api_client& api, const std::string& run_id, const std::string& key, std::int64_t first,
                        std::int64_t last) {
    auto r = api.get("/api/runs/" + run_id + "/metrics?keys=" + key);
    REQUIRE(r.status == 200);
    // Read with tmon's own reader: exact (from_chars) doubles, where RapidJSON's
    // default parse may be off by an ulp.
    rapidjson::Document doc;
    REQUIRE(tmon::detail::parse_document(doc, r.body));
    const auto& series = doc["series"];
    if (!series.HasMember(key.c_str())) return 0;
    const auto& steps = series[key.c_str()]["steps"];
    const auto& values = series[key.c_str()]["values"];
    std::size_t exact = 0;
    std::int64_t expect = first;
    for (rapidjson::SizeType i = 0; i < steps.Size(); ++i, ++expect) {
        REQUIRE(steps[i].GetInt64() == expect);  // no gap, no duplicate
        REQUIRE(values[i].GetDouble() == loss_at(expect));
        ++exact;
    }
    CHECK(expect == last + 1);
    return exact;
}

}  // namespace

TEST_CASE("remote monitor: every logged point reaches the server exactly once, and the run ends completed",
          "[client]") {
    restartable_server server;
    tmon::test::temp_dir journal_dir;
    tmon::http_client client(fast_options(server, journal_dir));
    std::string run_id;
    {
        tmon::monitor mon{client, {.run_name = "remote-basic", .total_steps = 5000}};
        run_id = mon.run_id();
        for (std::int64_t step = 0; step < 5000; ++step) mon.log(step, {{"loss", loss_at(step)}, {"lr", 0.1}});
        auto ck = mon.checkpoint("ckpt/final.bin", {{"loss", loss_at(4999)}});
        CHECK(ck.id.starts_with("ckpt_"));
    }
    REQUIRE(client.wait_sent(20s));
    auto api = server.api();
    CHECK(count_exact(api, run_id, "loss", 0, 4999) == 5000);
    auto run = api.get("/api/runs/" + run_id);
    CHECK(str(run["status"]) == "completed");
    CHECK(str(run["name"]) == "remote-basic");
    auto cks = api.get("/api/runs/" + run_id + "/checkpoints");
    CHECK(cks["checkpoints"].Size() == 1);
    auto s = client.stats();
    CHECK(s.sent_points == 10000);
    CHECK(s.queued_points == 0);
    CHECK(s.dropped_points == 0);
    CHECK(s.connected);
    CHECK(std::filesystem::file_size(journal_dir.path() / (run_id + ".r0.journal")) == 0);
}

TEST_CASE(
    "remote monitor: with the server down, log() goes on, the journal holds everything, and it all arrives "
    "once the server is back",
    "[client]") {
    restartable_server server;
    tmon::test::temp_dir journal_dir;
    server.stop();
    tmon::http_client client(fast_options(server, journal_dir));
    std::string run_id;
    {
        tmon::monitor mon{client, {.run_name = "remote-outage"}};
        run_id = mon.run_id();
        for (std::int64_t step = 0; step < 3000; ++step) mon.log(step, "loss", loss_at(step));
        mon.flush();
        std::this_thread::sleep_for(300ms);
        auto s = client.stats();
        CHECK_FALSE(s.connected);
        CHECK(s.retries >= 1);
        CHECK(s.queued_points == 3000);
        CHECK_FALSE(s.last_error.empty());
        server.start();
        for (std::int64_t step = 3000; step < 4000; ++step) mon.log(step, "loss", loss_at(step));
    }
    REQUIRE(client.wait_sent(20s));
    auto api = server.api();
    CHECK(count_exact(api, run_id, "loss", 0, 3999) == 4000);
    CHECK(str(api.get("/api/runs/" + run_id)["status"]) == "completed");
}

TEST_CASE(
    "remote monitor: a full journal drops whole batches, counts exactly what it dropped, and says so in the "
    "run's event log",
    "[client]") {
    restartable_server server;
    tmon::test::temp_dir journal_dir;
    server.stop();
    auto opts = fast_options(server, journal_dir);
    opts.journal_max_bytes = 64 * 1024;
    tmon::http_client client(opts);
    std::string run_id;
    const std::int64_t logged = 20000;
    std::uint64_t dropped = 0;
    {
        tmon::monitor mon{client, {.run_name = "remote-cap", .max_batch = 256}};
        run_id = mon.run_id();
        for (std::int64_t step = 0; step < logged; ++step) {
            mon.log(step, "loss", loss_at(step));
            if (step % 256 == 255) mon.flush();
        }
        mon.flush();
        dropped = client.stats().dropped_points;
        CHECK(dropped > 0);
        CHECK(dropped < static_cast<std::uint64_t>(logged));
        server.start();
    }
    REQUIRE(client.wait_sent(20s));
    auto api = server.api();
    auto r = api.get("/api/runs/" + run_id + "/metrics?keys=loss");
    REQUIRE(r.status == 200);
    auto stored = r["series"]["loss"]["steps"].Size();
    CHECK(stored + dropped == static_cast<std::uint64_t>(logged));
    CHECK(client.stats().dropped_points == dropped);
    // One event tells the user how many points are missing.
    auto ev = api.get("/api/runs/" + run_id + "/events?limit=100");
    bool reported = false;
    for (const auto& e : ev["events"].GetArray())
        if (str(e["type"]) == "points_dropped") reported = e["data"]["dropped_points"].GetUint64() == dropped;
    CHECK(reported);
}

TEST_CASE(
    "remote monitor: a trainer restarted with the same run id sends what the previous process left in its "
    "journal first",
    "[client]") {
    restartable_server server;
    tmon::test::temp_dir journal_dir;
    server.stop();
    auto opts = fast_options(server, journal_dir);
    opts.run_id = "run_restart0001";
    opts.drain_timeout = 100ms;
    {
        tmon::http_client first(opts);
        tmon::monitor mon{first, {.run_name = "remote-restart"}};
        for (std::int64_t step = 0; step < 500; ++step) mon.log(step, "loss", loss_at(step));
    }  // the server never answered: everything stays journaled
    server.start();
    tmon::http_client second(opts);
    {
        auto mon = tmon::monitor<tmon::http_client>::resume_or_create(second, {.run_name = "remote-restart"});
        CHECK(mon.is_resumed());
        CHECK(mon.run_id() == "run_restart0001");
        for (std::int64_t step = 500; step < 700; ++step) mon.log(step, "loss", loss_at(step));
    }
    REQUIRE(second.wait_sent(20s));
    auto api = server.api();
    CHECK(count_exact(api, "run_restart0001", "loss", 0, 699) == 700);
    CHECK(str(api.get("/api/runs/run_restart0001")["status"]) == "completed");
}

TEST_CASE("remote monitor: a command from the dashboard reaches poll_commands() and is acknowledged in the event log",
          "[client]") {
    restartable_server server;
    tmon::test::temp_dir journal_dir;
    tmon::http_client client(fast_options(server, journal_dir));
    tmon::monitor mon{client, {.run_name = "remote-commands"}};
    auto ck = mon.checkpoint("ckpt/a.bin");
    REQUIRE(client.wait_sent(10s));
    auto api = server.api();
    auto load = api.post("/api/checkpoints/" + ck.id + "/load", "{}");
    REQUIRE(load.status == 202);
    std::vector<tmon::command> got;
    for (int i = 0; i < 200 && got.empty(); ++i) {
        got = mon.poll_commands();
        if (got.empty()) std::this_thread::sleep_for(20ms);
    }
    REQUIRE(got.size() == 1);
    CHECK(got[0].type == "load_checkpoint");
    CHECK(got[0].checkpoint_id == ck.id);
    CHECK(mon.poll_commands().empty());  // handed out once
    REQUIRE(client.wait_sent(10s));
    auto ev = api.get("/api/runs/" + mon.run_id() + "/events?limit=100");
    bool acked = false;
    for (const auto& e : ev["events"].GetArray()) acked = acked || str(e["type"]) == "command_acknowledged";
    CHECK(acked);
}

TEST_CASE("remote client: clear errors for a bad URL, a bad run id, and a non-zero rank without the run's id",
          "[client]") {
    tmon::test::temp_dir journal_dir;
    auto make = [&](tmon::http_client_options o) {
        o.journal_dir = journal_dir.path();
        return std::make_unique<tmon::http_client>(std::move(o));
    };
    CHECK_THROWS_WITH(make({.url = "https://example.org"}), Catch::Contains("https:// server URLs are not supported"));
    CHECK_THROWS_WITH(make({.url = "ftp://x"}), Catch::Contains("must start with http://"));
    CHECK_THROWS_WITH(make({.url = "http://host:port"}), Catch::Contains("port is not a number"));
    CHECK_THROWS_WITH(make({.url = "http://127.0.0.1:9", .run_id = "../../etc"}),
                      Catch::Contains("the run id must be"));
    auto rank1 = make({.url = "http://127.0.0.1:9", .rank = 1});
    CHECK_THROWS_WITH((tmon::monitor{*rank1, {.run_name = "x"}}), Catch::Contains("give it the run id"));
}

TEST_CASE("remote client: a record the server refuses is dropped alone, not with the batch it was merged into",
          "[client]") {
    restartable_server server;
    tmon::test::temp_dir journal_dir;
    server.stop();  // so the three records are merged into one post
    tmon::http_client client(fast_options(server, journal_dir));
    auto run = client.create_run({.name = "remote-reject"});
    auto points = [](std::string key, std::int64_t from) {
        std::vector<tmon::metric_point> v;
        for (std::int64_t s = from; s < from + 10; ++s) v.push_back({key, s, 1.0, loss_at(s)});
        return v;
    };
    client.append_metrics(run.id, points("loss", 0));
    client.append_metrics(run.id, points(std::string(300, 'k'), 10));  // over the server's key limit: 422
    client.append_metrics(run.id, points("loss", 20));
    server.start();
    REQUIRE(client.wait_sent(20s));
    auto api = server.api();
    auto r = api.get("/api/runs/" + run.id + "/metrics?keys=loss");
    CHECK(r["series"]["loss"]["steps"].Size() == 20);
    CHECK(client.stats().rejected_records == 1);
    CHECK(client.stats().last_error.find("422") != std::string::npos);
}

TEST_CASE("remote client: list_runs pages through the server's runs and reports how many match in all", "[client]") {
    restartable_server server;
    auto api = server.api();
    for (int i = 0; i < 7; ++i)
        REQUIRE(api.post("/api/runs", fmt::format(R"({{"name":"listed-{}","tags":["{}"]}})", i, i % 2 ? "odd" : "even"))
                    .status == 200);
    tmon::test::temp_dir journal_dir;
    tmon::http_client client(fast_options(server, journal_dir));
    auto page = client.list_runs({.limit = 3, .offset = 0});
    CHECK(page.runs.size() == 3);
    CHECK(page.total == 7);
    auto odd = client.list_runs({.tag = "odd", .limit = 2});
    CHECK(odd.runs.size() == 2);
    CHECK(odd.total == 3);
    auto by_name = client.list_runs({.sort = tmon::run_sort::name_desc, .limit = 1});
    REQUIRE(by_name.runs.size() == 1);
    CHECK(by_name.runs[0].name == "listed-6");
    auto last = client.list_runs({.limit = 3, .offset = 6});
    CHECK(last.runs.size() == 1);
    CHECK(last.total == 7);
}
