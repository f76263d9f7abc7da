// Hostile requests against a real server: each must get a clear JSON error,
// store nothing, and leave the server serving. One TEST_CASE per finding of
// the hardening review (SECURITY.md lists the limits these exercise).
#include <string>

#include "server/server_fixture.hpp"
#include "transport/log_capture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_config(std::size_t depth) {
    std::string s = R"({"name":"deep","config":)";
    for (std::size_t i = 0; i < depth; ++i) s += R"({"a":)";
    s += "1";
    s += std::string(depth, '}');
    return s + "}";
}

template <class Served>
void check_still_serving(Served& s) {
    auto health = s.api.get("/health");
    REQUIRE(health.status == 200);
}

}  // namespace

TEMPLATE_TEST_CASE("deeply nested JSON is a 400 on every write route, and the server keeps serving",
                   "[server][hardening]", TMON_TEST_STORES) {
    served<TestType> s;
    std::string id = s.create_run("r");
    std::string deep(1'000'000, '[');
    for (std::string path :
         {std::string("/api/runs"), "/api/runs/" + id + "/metrics", std::string("/api/runs/nope/metrics"),
          std::string("/api/v1/metrics/layerwise"), "/api/runs/" + id + "/checkpoints"}) {
        INFO(path);
        auto r = s.api.post(path, deep);
        CHECK(r.status == 400);
        CHECK(r.error_kind() == "bad_request");
        CHECK(str(r["detail"]).find("nested deeper than 64") != std::string::npos);
    }
    CHECK(s.api.post("/api/runs/" + id + "/metrics", nested_arrays(100)).status == 400);
    check_still_serving(s);
}

TEMPLATE_TEST_CASE("a config nested past the limit is refused; one within it survives a restart", "[server][hardening]",
                   TMON_TEST_STORES) {
    temp_dir dir;
    server_config c;
    c.port = 0;
    c.db_path = dir.file("tmon.db");
    std::string id;
    {
        server<TestType, asio_transport, no_sampler> srv(c);
        api_client api(srv.port());
        auto too_deep = api.post("/api/runs", nested_config(90'000));
        CHECK(too_deep.status == 400);
        CHECK(api.post("/api/runs", nested_config(64)).status == 400);  // 64 objects + the body's own
        auto ok = api.post("/api/runs", nested_config(62));
        REQUIRE(ok.status == 200);
        id = str(ok["id"]);
        auto runs = api.get("/api/runs");
        CHECK(runs["total"].GetUint64() == 1);
    }
    if constexpr (!std::is_same_v<TestType, memory_store>) {
        server<TestType, asio_transport, no_sampler> srv(c);
        api_client api(srv.port());
        auto back = api.get("/api/runs/" + id);
        REQUIRE(back.status == 200);
        CHECK(back["config"]["a"]["a"].IsObject());
    }
}

TEMPLATE_TEST_CASE("invalid UTF-8 in a name or a metric key is a 422 and stores nothing", "[server][hardening]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto bad_name = s.api.post("/api/runs", "{\"name\":\"bad\xff\xfe\"}");
    CHECK(bad_name.status == 422);
    CHECK(str(bad_name["detail"]).find("UTF-8") != std::string::npos);
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 0);

    std::string id = s.create_run("r");
    auto bad_key = s.post_metrics(id, "{\"step\":1,\"metrics\":{\"lo\xc3\x28ss\":1}}");
    CHECK(bad_key.status == 422);
    auto keys = s.api.get("/api/runs/" + id + "/metrics/keys");
    REQUIRE(keys.status == 200);
    CHECK(keys.body.find("lo") == std::string::npos);
    // Valid multi-byte text is kept as sent.
    auto ok = s.post_metrics(id, "{\"step\":1,\"metrics\":{\"\xce\xbb_loss\":1}}");
    CHECK(ok.status == 200);
}

TEMPLATE_TEST_CASE("write routes take only application/json bodies (415 otherwise)", "[server][hardening]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    std::string body = R"({"name":"x"})";
    for (std::string ct :
         {"Content-Type: text/plain;charset=json\r\n", "Content-Type: multipart/form-data; boundary=json\r\n",
          "Content-Type: application/jsonp\r\n", "Content-Type: text/plain\r\n"}) {
        INFO(ct);
        auto r = s.api.post("/api/runs", body, ct);
        CHECK(r.status == 415);
        CHECK(r.error_kind() == "unsupported_media_type");
    }
    // No Content-Type at all: what a no-cors fetch with a Blob body sends.
    auto none = s.api.call("POST", "/api/runs", body, "Content-Type: \r\n");
    CHECK(none.status == 415);
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 0);
    CHECK(s.api.post("/api/runs", body, "Content-Type: Application/JSON; charset=utf-8\r\n").status == 200);
}

TEST_CASE("a cross-site page can neither write nor open the live socket", "[server][hardening]") {
    served<memory_store> s;
    // What a browser on the dashboard's own page sends.
    std::string self = fmt::format("Host: 127.0.0.1:{0}\r\nOrigin: http://127.0.0.1:{0}\r\n", s.srv.port());
    auto evil = s.api.post("/api/runs", R"({"name":"planted"})", "Origin: http://evil.example\r\n");
    CHECK(evil.status == 403);
    CHECK(evil.error_kind() == "forbidden");
    CHECK(s.api.post("/api/runs", R"({"name":"x"})", "Origin: null\r\n").status == 403);
    std::string id = s.create_run("r");
    CHECK(s.api.call("DELETE", "/api/runs/" + id, "", "Origin: http://evil.example\r\n").status == 403);
    CHECK(s.api
              .post("/api/runs/" + id + "/checkpoints", R"({"filepath":"/tmp/evil.pt"})",
                    "Origin: http://evil.example\r\n")
              .status == 403);
    auto ckpt = s.api.post("/api/runs/" + id + "/checkpoints", R"({"filepath":"/ckpt/good.pt"})");
    REQUIRE(ckpt.status == 200);
    std::string ckpt_id = str(ckpt["id"]);
    // Queuing a load_checkpoint for the trainer is the dangerous one (torch.load of a chosen file).
    CHECK(s.api.post("/api/checkpoints/" + ckpt_id + "/load", "", "Origin: http://evil.example\r\n").status == 403);
    CHECK(s.api.get("/api/runs/" + id + "/commands")["commands"].Size() == 0);
    CHECK(s.api.get("/api/runs/" + id + "/checkpoints").body.find("evil") == std::string::npos);
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 1);
    // The dashboard's own page (same origin) and clients without Origin are unaffected.
    CHECK(s.api.post("/api/runs", R"({"name":"mine"})", self).status == 200);
    CHECK(s.api.post("/api/runs", R"({"name":"curl"})").status == 200);

    CHECK(ws_client(s.srv.port(), "/ws", "Origin: http://evil.example\r\n").handshake_status() == 403);
    CHECK(ws_client(s.srv.port(), "/ws", "Origin: http://localhost\r\n").handshake_status() == 101);
    CHECK(ws_client(s.srv.port()).handshake_status() == 101);
}

TEST_CASE("--cors-origin names the one other page allowed to write", "[server][hardening]") {
    server_config c;
    c.cors_origin = "https://dash.example";
    served<memory_store> s(c);
    CHECK(s.api.post("/api/runs", R"({"name":"x"})", "Origin: https://dash.example\r\n").status == 200);
    CHECK(s.api.post("/api/runs", R"({"name":"x"})", "Origin: https://other.example\r\n").status == 403);
    CHECK(ws_client(s.srv.port(), "/ws", "Origin: https://dash.example\r\n").handshake_status() == 101);
}

TEST_CASE("on a loopback address only loopback names reach the server (DNS rebinding gets 421)",
          "[server][hardening]") {
    served<memory_store> s;
    for (std::string path : {"/api/runs", "/", "/health"}) {
        INFO(path);
        auto r = s.api.get(path, "Host: rebind.attacker.example\r\n");
        CHECK(r.status == 421);
    }
    blocking_client raw(s.srv.port());
    REQUIRE(
        raw.send("GET /ws HTTP/1.1\r\nHost: rebind.attacker.example:8000\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n"));
    auto refused = raw.read_response();
    REQUIRE(refused);
    CHECK(refused->status == 421);
    CHECK(s.api.get("/api/runs", "Host: localhost:8000\r\n").status == 200);
    CHECK(s.api.get("/api/runs", "Host: [::1]:8000\r\n").status == 200);
    CHECK(s.api.get("/api/runs", "Host: 127.0.0.1\r\n").status == 200);

    server_config c;
    c.allowed_hosts = {"tmon.internal"};
    served<memory_store> proxied(c);
    CHECK(proxied.api.get("/api/runs", "Host: tmon.internal\r\n").status == 200);
    CHECK(proxied.api.get("/api/runs", "Host: tmon.internal:443\r\n").status == 200);
    CHECK(proxied.api.get("/api/runs", "Host: other.internal\r\n").status == 421);
}

TEST_CASE("a request guard off loopback leaves names to the token unless hosts are listed", "[server][hardening]") {
    request_guard open_bind("0.0.0.0", {}, "");
    CHECK_FALSE(open_bind.loopback_only());
    CHECK(open_bind.host_allowed("gpu-node-7:8000"));
    request_guard listed("0.0.0.0", {"tmon.example"}, "");
    CHECK(listed.host_allowed("tmon.example:8000"));
    CHECK_FALSE(listed.host_allowed("evil.example"));
    request_guard local("127.0.0.1", {}, "");
    CHECK(local.origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000"));
    CHECK(local.origin_allowed("https://LOCALHOST:8000", "localhost:8000"));
    CHECK_FALSE(local.origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000"));
    CHECK_FALSE(local.origin_allowed("http://127.0.0.1:8000.evil.example", "127.0.0.1:8000"));
}

TEMPLATE_TEST_CASE("names, keys, tags, notes and paths have length limits (422)", "[server][hardening]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto long_name = s.api.post("/api/runs", fmt::format(R"({{"name":"{}"}})", std::string(513, 'n')));
    CHECK(long_name.status == 422);
    CHECK(str(long_name["detail"]).find("longer than 512 bytes") != std::string::npos);
    CHECK(s.api.post("/api/runs", fmt::format(R"({{"name":"n","tags":["{}"]}})", std::string(129, 't'))).status == 422);
    std::string many_tags = R"({"name":"n","tags":[)";
    for (int i = 0; i < 65; ++i) many_tags += fmt::format(R"({}"t{}")", i ? "," : "", i);
    CHECK(s.api.post("/api/runs", many_tags + "]}").status == 422);
    CHECK(s.api.post("/api/runs", fmt::format(R"({{"name":"n","notes":"{}"}})", std::string(65 * 1024, 'x'))).status ==
          422);
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 0);

    std::string id = s.create_run("r");
    auto long_key = s.post_metrics(id, fmt::format(R"({{"step":1,"metrics":{{"{}":1}}}})", std::string(257, 'k')));
    CHECK(long_key.status == 422);
    CHECK(s.post_metrics(id, fmt::format(R"({{"step":1,"metrics":{{"{}":1}}}})", std::string(256, 'k'))).status == 200);
    auto long_path =
        s.api.post("/api/runs/" + id + "/checkpoints", fmt::format(R"({{"filepath":"/{}"}})", std::string(4096, 'p')));
    CHECK(long_path.status == 422);
}

TEST_CASE("a limit can be changed through server_config.requests", "[server][hardening]") {
    server_config c;
    c.requests.json_depth = 4;
    c.requests.name_bytes = 8;
    served<memory_store> s(c);
    CHECK(s.api.post("/api/runs", R"({"name":"123456789"})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name":"n","config":{"a":{"b":{"c":{}}}}})").status == 400);
    CHECK(s.api.post("/api/runs", R"({"name":"n","config":{"a":{"b":{}}}})").status == 200);
}

TEST_CASE("WebSocket subscriptions: ids are checked, missing runs are errors, and a connection has a cap",
          "[server][hardening]") {
    server_config c;
    c.requests.ws_subscriptions = 3;
    served<memory_store> s(c);
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(s.create_run(fmt::format("r{}", i)));
    ws_client ws(s.srv.port());
    REQUIRE(ws.handshake_status() == 101);

    ws.send(R"({"type":"subscribe","run_id":"no_such_run"})");
    auto missing = ws.next_of("error");
    CHECK(str(missing["message"]).find("does not exist") != std::string::npos);

    ws.send(fmt::format(R"({{"type":"subscribe","run_id":"{}"}})", std::string(2000, 'a')));
    CHECK(str(ws.next_of("error")["message"]).find("1 to 128") != std::string::npos);
    ws.send(R"({"type":"subscribe","run_id":"../etc"})");
    ws.next_of("error");

    for (int i = 0; i < 3; ++i) ws.subscribe(ids[i]);
    ws.subscribe(ids[0]);  // again: no new slot
    ws.send(fmt::format(R"({{"type":"subscribe","run_id":"{}"}})", ids[3]));
    CHECK(str(ws.next_of("error")["message"]).find("at most 3 runs") != std::string::npos);
    ws.subscribe("*");  // "*" is not counted

    ws.send(nested_arrays(200'000).substr(0, 900'000));
    CHECK(str(ws.next_of("error")["message"]).find("nested deeper") != std::string::npos);
    ws.send(R"({"type":"ping"})");
    ws.next_of("pong");
    check_still_serving(s);
}

TEST_CASE("each route has its own body limit: megabytes only for metric batches", "[server][hardening]") {
    served<memory_store> s;
    std::string id = s.create_run("r");
    auto big_run = s.api.post("/api/runs", R"({"name":"x","notes":")" + std::string(2u << 20, 'n') + R"("})");
    CHECK(big_run.status == 413);
    CHECK(big_run.error_kind() == "too_large");
    auto big_layers = s.api.post("/api/v1/metrics/layerwise", std::string(9u << 20, ' '));
    CHECK(big_layers.status == 413);

    std::string batch = "[";
    for (int i = 0; i < 60'000; ++i)
        batch += fmt::format(R"({}{{"step":{},"metrics":{{"loss":0.5,"acc":0.25}}}})", i ? "," : "", i);
    batch += "]";
    REQUIRE(batch.size() > (1u << 20));
    auto ok = s.post_metrics(id, batch);
    REQUIRE(ok.status == 200);
    CHECK(ok["accepted"].GetUint64() == 120'000);
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 1);

    server_config c;
    c.requests.metrics_body_bytes = 1u << 20;
    served<memory_store> tight(c);
    std::string tight_id = tight.create_run("r");
    CHECK(tight.post_metrics(tight_id, batch).status == 413);
}

TEST_CASE("full-run exports past concurrent_exports are refused with 503 and Retry-After", "[server][hardening]") {
    server_config c;
    c.requests.concurrent_exports = 0;
    served<memory_store> none(c);
    std::string id = none.create_run("r");
    auto busy = none.api.get("/api/runs/" + id + "/export?format=json");
    CHECK(busy.status == 503);
    CHECK(busy.header("Retry-After") == "2");

    served<memory_store> one;  // the default: slots are given back after each export
    std::string id1 = one.create_run("r");
    REQUIRE(one.post_metrics(id1, R"({"step":1,"metrics":{"loss":1}})").status == 200);
    for (int i = 0; i < 4; ++i) CHECK(one.api.get("/api/runs/" + id1 + "/export?format=csv").status == 200);
}

TEST_CASE("a percent-encoded newline in a path cannot forge a log line", "[server][hardening]") {
    served<memory_store> s;
    log_capture logs;
    auto r = s.api.get("/api/runs/x%0a2026-01-01T00:00:00Z%20error%20[server]%20forged/metrics");
    CHECK(r.status == 404);
    bool forged = false, escaped = false;
    for (const auto& line : logs.lines()) {
        if (line.find('\n') != std::string::npos && line.find('\n') + 1 < line.size()) forged = true;
        if (line.find("x\\x0a2026") != std::string::npos) escaped = true;
    }
    CHECK_FALSE(forged);
    CHECK(escaped);
}
