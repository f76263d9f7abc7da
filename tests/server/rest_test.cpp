// Every REST route of docs/API.md against a real server and store: the happy
// path, each error status, and that a rejected write changes nothing.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

#include "server/server_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

TEMPLATE_TEST_CASE("a created run can be read back, listed, updated and deleted", "[server][runs]", TMON_TEST_STORES) {
    served<TestType> s;
    auto created = s.api.post(
        "/api/runs",
        R"({"name":"resnet","config":{"lr":0.001,"layers":[1,2]},"tags":["sweep"],"notes":"n","total_steps":1000})");
    REQUIRE(created.status == 200);
    std::string id = str(created["id"]);
    CHECK(id.starts_with("run_"));
    CHECK(str(created["status"]) == "running");
    CHECK(created["config"]["lr"].GetDouble() == 0.001);
    CHECK(created["config"]["layers"].Size() == 2);
    CHECK(str(created["tags"][0]) == "sweep");
    CHECK(created["total_steps"].GetInt64() == 1000);
    CHECK(created["end_time"].IsNull());
    CHECK(str(created["created_at"]).ends_with("Z"));

    auto got = s.api.get("/api/runs/" + id);
    REQUIRE(got.status == 200);
    CHECK(str(got["name"]) == "resnet");

    auto updated = s.api.put("/api/runs/" + id, R"({"status":"completed","notes":"done"})");
    REQUIRE(updated.status == 200);
    CHECK(str(updated["status"]) == "completed");
    CHECK(str(updated["notes"]) == "done");
    CHECK(updated["end_time"].IsString());

    auto list = s.api.get("/api/runs");
    REQUIRE(list.status == 200);
    CHECK(list["total"].GetUint64() == 1);
    CHECK(str(list["runs"][0]["id"]) == id);

    auto deleted = s.api.del("/api/runs/" + id);
    REQUIRE(deleted.status == 200);
    CHECK(deleted["deleted"].GetBool());
    CHECK(s.api.get("/api/runs/" + id).status == 404);
    CHECK(s.api.del("/api/runs/" + id).status == 404);
}

TEMPLATE_TEST_CASE("run creation rejects bad bodies with 400, 415 or 422 and creates nothing", "[server][runs]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto bad_json = s.api.post("/api/runs", R"({"name": "x",)");
    CHECK(bad_json.status == 400);
    CHECK(bad_json.error_kind() == "bad_request");
    CHECK(bad_json["detail"].IsString());
    CHECK(s.api.post("/api/runs", R"({"name": ""})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name": "  "})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name": 5})").status == 422);
    CHECK(s.api.post("/api/runs", R"({})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name":"a","config":[1]})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name":"a","tags":"x"})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name":"a","total_steps":-1})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name":"a","status":"paused"})").status == 422);
    CHECK(s.api.post("/api/runs", R"({"name":"a","id":"../etc"})").status == 422);
    CHECK(s.api.post("/api/runs", R"(["name"])").status == 422);
    auto unsupported = s.api.post("/api/runs", "name=a", "Content-Type: application/x-www-form-urlencoded\r\n");
    CHECK(unsupported.status == 415);
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 0);
}

TEMPLATE_TEST_CASE("a repeated run id with the same name returns the existing run", "[server][runs]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto a = s.api.post("/api/runs", R"({"name":"exp","id":"exp-1"})");
    auto b = s.api.post("/api/runs", R"({"name":"exp","id":"exp-1"})");
    REQUIRE(a.status == 200);
    REQUIRE(b.status == 200);
    CHECK(str(b["id"]) == "exp-1");
    CHECK(str(a["created_at"]) == str(b["created_at"]));
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 1);
    CHECK(s.api.post("/api/runs", R"({"name":"other","id":"exp-1"})").status == 409);
}

TEMPLATE_TEST_CASE("status transitions follow the rules: completed is final, failed may resume", "[server][runs]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("t");
    CHECK(s.api.put("/api/runs/" + id, R"({"status":"failed"})").status == 200);
    CHECK(s.api.put("/api/runs/" + id, R"({"status":"running"})").status == 200);
    CHECK(s.api.put("/api/runs/" + id, R"({"status":"completed"})").status == 200);
    CHECK(s.api.put("/api/runs/" + id, R"({"status":"completed"})").status == 200);
    auto conflict = s.api.put("/api/runs/" + id, R"({"status":"running"})");
    CHECK(conflict.status == 409);
    CHECK(conflict.error_kind() == "conflict");
    CHECK(s.api.put("/api/runs/" + id, R"({"status":"paused"})").status == 422);
    CHECK(s.api.put("/api/runs/" + id, R"({"name":""})").status == 422);
    CHECK(s.api.put("/api/runs/run_nope", R"({"notes":"x"})").status == 404);
    CHECK(str(s.api.get("/api/runs/" + id)["status"]) == "completed");
}

TEMPLATE_TEST_CASE("run lists filter by status, name and tag, sort, and page with a total", "[server][runs]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    for (int i = 0; i < 7; ++i) s.create_run(fmt::format("ResNet-{}", i), i % 2 ? R"(,"tags":["odd"])" : "");
    auto mlp = s.create_run("mlp");
    s.api.put("/api/runs/" + mlp, R"({"status":"completed"})");

    auto page = s.api.get("/api/runs?limit=3&offset=2&sort=name_asc");
    REQUIRE(page.status == 200);
    CHECK(page["total"].GetUint64() == 8);
    CHECK(page["limit"].GetUint64() == 3);
    CHECK(page["offset"].GetUint64() == 2);
    REQUIRE(page["runs"].Size() == 3);
    CHECK(str(page["runs"][0]["name"]) == "ResNet-2");

    auto by_name = s.api.get("/api/runs?q=resnet");
    CHECK(by_name["total"].GetUint64() == 7);
    auto by_status = s.api.get("/api/runs?status=completed");
    REQUIRE(by_status["total"].GetUint64() == 1);
    CHECK(str(by_status["runs"][0]["id"]) == mlp);
    CHECK(s.api.get("/api/runs?tag=odd")["total"].GetUint64() == 3);
    auto desc = s.api.get("/api/runs?sort=name_desc&limit=1");
    CHECK(str(desc["runs"][0]["name"]) == "mlp");

    CHECK(s.api.get("/api/runs?limit=0").status == 400);
    CHECK(s.api.get("/api/runs?limit=1001").status == 400);
    CHECK(s.api.get("/api/runs?limit=abc").status == 400);
    CHECK(s.api.get("/api/runs?status=paused").status == 400);
    CHECK(s.api.get("/api/runs?sort=random").status == 400);
}

TEMPLATE_TEST_CASE("metrics are accepted as one point, a batch or a bare array, and read back", "[server][metrics]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("m");
    auto one = s.post_metrics(id, R"({"step":0,"metrics":{"loss":1.5,"lr":0.1},"timestamp":1730000000.5})");
    REQUIRE(one.status == 200);
    CHECK(one["accepted"].GetUint64() == 2);
    auto batch =
        s.post_metrics(id, R"({"points":[{"step":1,"metrics":{"loss":1.0}},{"step":2.0,"metrics":{"loss":0.5}}]})");
    CHECK(batch["accepted"].GetUint64() == 2);
    auto bare = s.post_metrics(id, R"([{"step":3,"metrics":{"loss":0.25,"acc":0.9}}])");
    CHECK(bare["accepted"].GetUint64() == 2);
    // The same (key, step) again replaces the value.
    s.post_metrics(id, R"({"step":3,"metrics":{"loss":0.2}})");

    auto m = s.api.get("/api/runs/" + id + "/metrics");
    REQUIRE(m.status == 200);
    CHECK(str(m["run_id"]) == id);
    const auto& loss = m["series"]["loss"];
    REQUIRE(loss["steps"].Size() == 4);
    CHECK(loss["steps"][3].GetInt64() == 3);
    CHECK(loss["values"][3].GetDouble() == 0.2);
    CHECK(loss["times"][0].GetDouble() == 1730000000.5);
    CHECK(loss["total"].GetUint64() == 4);
    CHECK_FALSE(loss["downsampled"].GetBool());
    CHECK(m["series"]["lr"]["steps"].Size() == 1);

    auto some = s.api.get("/api/runs/" + id + "/metrics?keys=acc&step_min=1");
    CHECK(some["series"].MemberCount() == 1);
    CHECK(some["series"]["acc"]["values"][0].GetDouble() == 0.9);
    auto ranged = s.api.get("/api/runs/" + id + "/metrics?keys=loss&step_min=1&step_max=2");
    CHECK(ranged["series"]["loss"]["steps"].Size() == 2);

    auto rows = s.api.get("/api/runs/" + id + "/metrics?format=rows");
    REQUIRE(rows["metrics"].Size() == 4);
    CHECK(rows["metrics"][0]["step"].GetInt64() == 0);
    CHECK(rows["metrics"][0]["metrics"]["lr"].GetDouble() == 0.1);
    CHECK(rows["metrics"][3]["metrics"]["acc"].GetDouble() == 0.9);

    auto latest = s.api.get("/api/runs/" + id + "/metrics/latest");
    REQUIRE(latest.status == 200);
    CHECK(latest["step"].GetInt64() == 3);
    CHECK(latest["metrics"]["loss"].GetDouble() == 0.2);
    CHECK(latest["metrics"]["lr"].GetDouble() == 0.1);
    CHECK(latest["values"]["lr"]["step"].GetInt64() == 0);

    auto keys = s.api.get("/api/runs/" + id + "/metrics/keys");
    REQUIRE(keys["keys"].Size() == 3);
    CHECK(s.api.get("/api/runs/" + id)["last_step"].GetInt64() == 3);
}

TEMPLATE_TEST_CASE("a metric batch with one bad value is rejected whole with 422", "[server][metrics]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("v");
    const char* bad[] = {
        R"({"points":[{"step":1,"metrics":{"loss":0.5}},{"step":2,"metrics":{"loss":"0.4"}}]})",
        R"({"points":[{"step":1,"metrics":{"loss":0.5}},{"step":-1,"metrics":{"loss":0.4}}]})",
        R"({"points":[{"step":1,"metrics":{"loss":0.5}},{"step":1.5,"metrics":{"loss":0.4}}]})",
        R"({"points":[{"step":1,"metrics":{"loss":0.5}},{"metrics":{"loss":0.4}}]})",
        R"({"points":[{"step":1,"metrics":{"loss":0.5}},{"step":2,"metrics":[0.4]}]})",
        R"({"points":[{"step":1,"metrics":{"loss":0.5}},{"step":2,"metrics":{"loss":null}}]})",
        R"({"step":1,"metrics":{"loss":0.5},"timestamp":"yesterday"})",
        R"({"points":{"step":1}})",
        R"(42)",
    };
    for (const char* body : bad) {
        INFO(body);
        auto r = s.post_metrics(id, body);
        CHECK(r.status == 422);
        CHECK(r.error_kind() == "invalid_argument");
        CHECK(r["detail"].IsString());
    }
    // NaN and Infinity are not JSON: a malformed body.
    CHECK(s.post_metrics(id, R"({"step":1,"metrics":{"loss":NaN}})").status == 400);
    CHECK(s.post_metrics(id, R"({"step":1,"metrics":{"loss":Infinity}})").status == 400);
    CHECK(s.post_metrics(id, R"({"step":1,"metrics":{"loss":1e999}})").status == 400);
    CHECK(s.post_metrics(id, "{\"step\":1,").status == 400);

    auto m = s.api.get("/api/runs/" + id + "/metrics");
    CHECK(m["series"].MemberCount() == 0);
    CHECK(s.post_metrics("run_missing", R"({"step":1,"metrics":{"loss":0.5}})").status == 404);
    CHECK(s.api.get("/api/runs/run_missing/metrics").status == 404);
    CHECK(s.api.get("/api/runs/run_missing/metrics/latest").status == 404);
}

TEMPLATE_TEST_CASE("a large batch is accepted whole and a body over the cap gets 413", "[server][metrics]",
                   TMON_TEST_STORES) {
    server_config c;
    c.limits.max_body_bytes = 4 * 1024 * 1024;
    served<TestType> s(c);
    auto id = s.create_run("big");
    std::string body = R"({"points":[)";
    const int n = 50'000;
    for (int i = 0; i < n; ++i)
        body += fmt::format(R"({}{{"step":{},"metrics":{{"loss":{},"acc":{}}}}})", i ? "," : "", i, 1.0 / (i + 1),
                            i * 1e-5);
    body += "]}";
    REQUIRE(body.size() < c.limits.max_body_bytes);
    auto r = s.post_metrics(id, body);
    REQUIRE(r.status == 200);
    CHECK(r["accepted"].GetUint64() == 2 * n);
    auto m = s.api.get("/api/runs/" + id + "/metrics?keys=loss");
    CHECK(m["series"]["loss"]["total"].GetUint64() == n);

    std::string huge(c.limits.max_body_bytes + 10, ' ');
    auto too_big = s.post_metrics(id, huge);
    CHECK(too_big.status == 413);
}

TEMPLATE_TEST_CASE("max_points downsamples each series but keeps the extremes and the total", "[server][metrics]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("ds");
    std::string body = "[";
    for (int i = 0; i < 5000; ++i) {
        double v = i == 3333 ? 100.0 : (i == 1234 ? -50.0 : std::sin(i * 0.01));
        body += fmt::format(R"({}{{"step":{},"metrics":{{"loss":{}}}}})", i ? "," : "", i, v);
    }
    body += "]";
    REQUIRE(s.post_metrics(id, body).status == 200);
    for (const char* method : {"lttb", "minmax"}) {
        INFO(method);
        auto m = s.api.get(fmt::format("/api/runs/{}/metrics?keys=loss&max_points=200&method={}", id, method));
        REQUIRE(m.status == 200);
        const auto& loss = m["series"]["loss"];
        CHECK(loss["steps"].Size() <= 200);
        CHECK(loss["steps"].Size() >= 100);
        CHECK(loss["total"].GetUint64() == 5000);
        CHECK(loss["downsampled"].GetBool());
        bool has_max = false, has_min = false;
        for (const auto& v : loss["values"].GetArray()) {
            has_max |= v.GetDouble() == 100.0;
            has_min |= v.GetDouble() == -50.0;
        }
        CHECK(has_max);
        CHECK(has_min);
        CHECK(loss["steps"][0].GetInt64() == 0);
        CHECK(loss["steps"][loss["steps"].Size() - 1].GetInt64() == 4999);
    }
    CHECK(s.api.get("/api/runs/" + id + "/metrics?max_points=-3").status == 400);
    CHECK(s.api.get("/api/runs/" + id + "/metrics?method=avg").status == 400);
    CHECK(s.api.get("/api/runs/" + id + "/metrics?step_min=x").status == 400);
}

TEMPLATE_TEST_CASE("exports hold every point, never downsampled", "[server][exports]", TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("exp");
    std::string body = "[";
    const int steps = 3000;
    for (int i = 0; i < steps; ++i)
        body += fmt::format(R"({}{{"step":{},"metrics":{{"loss":{},"a,b":{}}}}})", i ? "," : "", i, i * 0.5, i);
    body += "]";
    REQUIRE(s.post_metrics(id, body).status == 200);

    auto csv = s.api.get("/api/runs/" + id + "/export?format=csv");
    REQUIRE(csv.status == 200);
    CHECK(csv.header("Content-Type").starts_with("text/csv"));
    CHECK(csv.header("Content-Disposition").starts_with("attachment"));
    CHECK(csv.body.starts_with("step,timestamp,key,value\n"));
    auto lines = std::count(csv.body.begin(), csv.body.end(), '\n');
    CHECK(lines == 1 + 2 * steps);
    CHECK(csv.body.find("\"a,b\"") != std::string::npos);

    auto jsonl = s.api.get("/api/runs/" + id + "/export?format=jsonl");
    CHECK(std::count(jsonl.body.begin(), jsonl.body.end(), '\n') == 2 * steps);
    auto json = s.api.get("/api/runs/" + id + "/export?format=json");
    REQUIRE(json.status == 200);
    CHECK(json["points"].Size() == 2 * steps);
    CHECK(str(json["run"]["name"]) == "exp");
    CHECK(s.api.get("/api/runs/" + id + "/export?format=xml").status == 400);
    CHECK(s.api.get("/api/runs/run_none/export").status == 404);
}

TEMPLATE_TEST_CASE("checkpoints are saved, listed newest first, marked best, loaded and deleted",
                   "[server][checkpoints]", TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("ck");
    auto a = s.api.post("/api/runs/" + id + "/checkpoints",
                        R"({"filepath":"ckpt/a.pt","step":100,"metrics":{"loss":0.5},"metadata":{"epoch":1}})");
    REQUIRE(a.status == 200);
    std::string a_id = str(a["id"]);
    CHECK(str(a["run_id"]) == id);
    CHECK(a["metrics"]["loss"].GetDouble() == 0.5);
    CHECK(a["metadata"]["epoch"].GetInt() == 1);
    CHECK_FALSE(a["is_best"].GetBool());
    auto b = s.api.post("/api/runs/" + id + "/checkpoints", R"({"filepath":"ckpt/b.pt","step":200,"is_best":true})");
    std::string b_id = str(b["id"]);
    CHECK(b["is_best"].GetBool());

    auto list = s.api.get("/api/runs/" + id + "/checkpoints");
    REQUIRE(list["total"].GetUint64() == 2);
    CHECK(str(list["checkpoints"][0]["id"]) == b_id);

    auto best = s.api.post("/api/checkpoints/" + a_id + "/mark_best", "");
    REQUIRE(best.status == 200);
    CHECK(best["is_best"].GetBool());
    CHECK_FALSE(s.api.get("/api/checkpoints/" + b_id)["is_best"].GetBool());

    auto load = s.api.post("/api/checkpoints/" + a_id + "/load", "");
    REQUIRE(load.status == 202);
    CHECK(str(load["command"]["type"]) == "load_checkpoint");
    CHECK(str(load["command"]["filepath"]) == "ckpt/a.pt");
    auto cmd_id = load["command"]["id"].GetInt64();
    auto cmds = s.api.get("/api/runs/" + id + "/commands?after=0");
    REQUIRE(cmds["commands"].Size() == 1);
    CHECK(cmds["commands"][0]["id"].GetInt64() == cmd_id);
    CHECK(str(cmds["commands"][0]["checkpoint_id"]) == a_id);
    CHECK(s.api.get(fmt::format("/api/runs/{}/commands?after={}", id, cmd_id))["commands"].Size() == 0);

    CHECK(s.api.del("/api/checkpoints/" + b_id).status == 200);
    CHECK(s.api.get("/api/checkpoints/" + b_id).status == 404);
    CHECK(s.api.del("/api/checkpoints/" + b_id).status == 404);
    CHECK(s.api.post("/api/checkpoints/ckpt_nope/mark_best", "").status == 404);
    CHECK(s.api.post("/api/checkpoints/ckpt_nope/load", "").status == 404);
    CHECK(s.api.post("/api/runs/run_nope/checkpoints", R"({"filepath":"x"})").status == 404);
    CHECK(s.api.post("/api/runs/" + id + "/checkpoints", R"({"step":1})").status == 422);
    CHECK(s.api.post("/api/runs/" + id + "/checkpoints", R"({"filepath":"x","is_best":"yes"})").status == 422);
    CHECK(s.api.get("/api/runs/" + id + "/checkpoints")["total"].GetUint64() == 1);
}

TEMPLATE_TEST_CASE("the event log records what happened to a run, readable incrementally", "[server][events]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto id = s.create_run("ev");
    s.api.put("/api/runs/" + id, R"({"status":"completed"})");
    auto ev = s.api.get("/api/runs/" + id + "/events");
    REQUIRE(ev.status == 200);
    REQUIRE(ev["events"].Size() >= 2);
    CHECK(str(ev["events"][0]["type"]) == "run_created");
    CHECK(str(ev["events"][0]["run_id"]) == id);
    CHECK(str(ev["events"][0]["timestamp"]).ends_with("Z"));
    auto first = ev["events"][0]["id"].GetInt64();
    auto after = s.api.get(fmt::format("/api/runs/{}/events?after={}", id, first));
    CHECK(after["events"].Size() == ev["events"].Size() - 1);
    auto other = s.create_run("other");
    CHECK(s.api.get("/api/events?limit=1000")["events"].Size() > ev["events"].Size());
    CHECK(s.api.get("/api/events?limit=1")["events"].Size() == 1);
    CHECK(s.api.get("/api/runs/run_nope/events").status == 404);
    CHECK(s.api.get("/api/events?after=x").status == 400);
    (void)other;
}

TEMPLATE_TEST_CASE("layer statistics are accepted with 202, create their run, and read back as snapshots and a heatmap",
                   "[server][layers]", TMON_TEST_STORES) {
    served<TestType> s;
    for (int step : {100, 200, 300}) {
        auto r =
            s.api.post("/api/v1/metrics/layerwise", fmt::format(R"({{"run_id":"exp1","step":{},"timestamp":1730000000.5,
            "layers":[{{"name":"conv1","activations":{{"mean":0.1,"std":1.0,"min":-3,"max":4,"histogram":{{"counts":[1,5,9],"min":-3,"max":4}}}},
                        "gradients":{{"mean":0,"std":{},"min":-1,"max":1}}}},
                      {{"name":"fc","gradients":{{"mean":0,"std":{},"min":-1,"max":1}}}}]}})",
                                                                step, step / 100.0, step / 10.0));
        REQUIRE(r.status == 202);
        CHECK(str(r["status"]) == "accepted");
        CHECK(r["layers"].GetUint64() == 2);
    }
    auto run = s.api.get("/api/runs/exp1");
    REQUIRE(run.status == 200);
    CHECK(str(run["name"]) == "exp1");

    auto index = s.api.get("/api/runs/exp1/layers");
    REQUIRE(index["steps"].Size() == 3);
    REQUIRE(index["layers"].Size() == 2);
    CHECK(str(index["layers"][0]) == "conv1");

    auto snap = s.api.get("/api/runs/exp1/layers/250");
    REQUIRE(snap.status == 200);
    CHECK(snap["step"].GetInt64() == 200);
    CHECK(snap["layers"][0]["activations"]["histogram"]["counts"].Size() == 3);
    CHECK(snap["layers"][0]["gradients"]["std"].GetDouble() == 2.0);
    CHECK(s.api.get("/api/runs/exp1/layers/50").status == 404);
    CHECK(s.api.get("/api/runs/exp1/layers/abc").status == 400);

    auto heat = s.api.get("/api/runs/exp1/layers/heatmap?stat=gradients.std&max_steps=2");
    REQUIRE(heat.status == 200);
    CHECK(heat["steps"].Size() == 2);
    CHECK(heat["steps"][1].GetInt64() == 300);
    REQUIRE(heat["values"].Size() == 2);
    CHECK(heat["values"][1][1].GetDouble() == 30.0);
    auto act = s.api.get("/api/runs/exp1/layers/heatmap?stat=activations.mean");
    CHECK(act["values"][1][0].IsNull());
    CHECK(s.api.get("/api/runs/exp1/layers/heatmap?stat=weights.norm").status == 400);

    CHECK(s.api.post("/api/v1/metrics/layerwise", R"({"run_id":"exp1","layers":[]})").status == 422);
    CHECK(s.api
              .post("/api/v1/metrics/layerwise",
                    R"({"run_id":"exp1","step":1,"layers":[{"name":"x","gradients":{"std":"big"}}]})")
              .status == 422);
}

TEMPLATE_TEST_CASE("health, version, unknown routes and wrong methods answer as the contract says", "[server][misc]",
                   TMON_TEST_STORES) {
    served<TestType> s;
    auto h = s.api.get("/health");
    REQUIRE(h.status == 200);
    CHECK(str(h["status"]) == "ok");
    CHECK(str(h["version"]) == "0.1.0");
    CHECK(str(h["storage"]) != "custom");
    CHECK(h["uptime_s"].GetDouble() >= 0);
    auto v = s.api.get("/api/version");
    CHECK(v["api_version"].GetInt() == 1);

    auto missing = s.api.get("/api/nothing/here");
    CHECK(missing.status == 404);
    CHECK(missing.error_kind() == "not_found");
    auto wrong = s.api.call("PATCH", "/api/runs", "");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("Allow").find("POST") != std::string_view::npos);
    CHECK(s.api.del("/api/runs").status == 405);

    CHECK(s.api.get("/api/system/status").status == 404);
    CHECK(s.api.get("/api/system/status").error_kind() == "no_samples");
    CHECK(s.api.get("/api/system/history")["samples"].Size() == 0);
}

TEST_CASE("GET metrics?limit=N returns the newest N points of each key, ascending; a bad limit is a 400 naming it",
          "[server][metrics]") {
    served<memory_store> s;
    auto id = s.create_run("limited");
    std::string body = R"({"points":[)";
    for (int i = 0; i < 50; ++i)
        body += fmt::format(R"({}{{"step":{},"metrics":{{"loss":{},"acc":{}}}}})", i ? "," : "", i, i, i * 2);
    body += "]}";
    REQUIRE(s.post_metrics(id, body).status == 200);
    auto r = s.api.get("/api/runs/" + id + "/metrics?limit=5");
    REQUIRE(r.status == 200);
    for (const char* key : {"loss", "acc"}) {
        const auto& steps = r["series"][key]["steps"];
        REQUIRE(steps.Size() == 5);
        CHECK(steps[0].GetInt64() == 45);
        CHECK(steps[4].GetInt64() == 49);
    }
    auto rows = s.api.get("/api/runs/" + id + "/metrics?limit=2&format=rows");
    CHECK(rows["metrics"].Size() == 2);
    auto bad = s.api.get("/api/runs/" + id + "/metrics?limit=zero");
    CHECK(bad.status == 400);
    CHECK(std::string(bad["detail"].GetString()).find("limit") != std::string::npos);
}

TEST_CASE("a query parameter a route does not take, or one given twice, is a 400 naming it; nothing is written",
          "[server][query]") {
    served<memory_store> s;
    auto id = s.create_run("strict");
    REQUIRE(s.post_metrics(id, R"({"step":1,"metrics":{"loss":1}})").status == 200);
    auto detail = [](const api_reply& r) { return std::string(r["detail"].GetString()); };

    auto typo = s.api.get("/api/runs?limt=5");
    REQUIRE(typo.status == 400);
    CHECK(typo.error_kind() == "bad_request");
    CHECK(detail(typo).find("'limt'") != std::string::npos);
    CHECK(detail(typo).find("accepts status, q, tag, sort, limit, offset") != std::string::npos);

    auto twice = s.api.get("/api/runs?limit=5&limit=6");
    REQUIRE(twice.status == 400);
    CHECK(detail(twice).find("'limit' is given more than once") != std::string::npos);

    for (const std::string& path : std::vector<std::string>{
             "/api/runs/" + id + "?verbose=1", "/api/runs/" + id + "/metrics?step=3",
             "/api/runs/" + id + "/metrics/latest?keys=loss", "/api/runs/" + id + "/metrics/keys?x=1",
             "/api/runs/" + id + "/checkpoints?limit=1", "/api/runs/" + id + "/layers?stat=x",
             "/api/runs/" + id + "/export?fmt=csv", "/api/system/status?host=a", "/api/system/history?host=a",
             "/api/events?run_id=" + id, "/api/version?x=1", "/health?x"}) {
        INFO(path);
        auto r = s.api.get(path);
        CHECK(r.status == 400);
        CHECK(detail(r).find("unknown query parameter") != std::string::npos);
    }
    CHECK(detail(s.api.get("/api/runs/" + id + "?verbose=1")).find("takes no query parameters") != std::string::npos);

    // Writes are refused before they happen.
    CHECK(s.api.post("/api/runs/" + id + "/metrics?step=2", R"({"step":2,"metrics":{"loss":2}})").status == 400);
    CHECK(s.api.put("/api/runs/" + id + "?force=1", R"({"status":"completed"})").status == 400);
    CHECK(s.api.del("/api/runs/" + id + "?cascade=1").status == 400);
    CHECK(s.api.post("/api/runs?dry_run=1", R"({"name":"other"})").status == 400);
    CHECK(s.api.get("/api/runs/" + id + "/metrics")["series"]["loss"]["steps"].Size() == 1);
    CHECK(str(s.api.get("/api/runs/" + id)["status"]) == "running");
    CHECK(s.api.get("/api/runs")["runs"].Size() == 1);

    // Every parameter the routes document is still taken, and token everywhere.
    for (const std::string& path : std::vector<std::string>{
             "/api/runs?status=running&q=str&tag=&sort=name_asc&limit=5&offset=0&token=",
             "/api/runs/" + id +
                 "/metrics?keys=loss&step_min=0&step_max=9&time_min=0&time_max=1e12"
                 "&max_points=10&method=lttb&format=series",
             "/api/runs/" + id + "/metrics?limit=1&format=rows", "/api/runs/" + id + "/events?after=0&limit=5",
             "/api/events?after=0&limit=5", "/api/runs/" + id + "/commands?after=0",
             "/api/runs/" + id + "/system?host=a&rank=0&time_min=0&time_max=1&limit=5",
             "/api/system/history?time_min=0&time_max=1&limit=5", "/api/runs/" + id + "/export?format=jsonl",
             "/api/version?token=x"}) {
        INFO(path);
        CHECK(s.api.get(path).status == 200);
    }
}

TEST_CASE("a body field the route does not take is a 422 naming it, and changes nothing", "[server][runs]") {
    served<memory_store> s;
    auto id = s.create_run("typo");
    auto detail = [](const api_reply& r) { return std::string(r["detail"].GetString()); };
    auto update = s.api.put("/api/runs/" + id, R"({"stauts":"completed"})");
    REQUIRE(update.status == 422);
    CHECK(detail(update).find("unknown field 'stauts' in a run update") != std::string::npos);
    CHECK(detail(update).find("status") != std::string::npos);
    CHECK(str(s.api.get("/api/runs/" + id)["status"]) == "running");
    auto create = s.api.post("/api/runs", R"({"name":"second","confg":{"lr":0.1}})");
    REQUIRE(create.status == 422);
    CHECK(detail(create).find("unknown field 'confg' in a new run") != std::string::npos);
    CHECK(s.api.get("/api/runs")["total"].GetUint64() == 1);
    // The fields the routes do take still pass together.
    CHECK(s.api
              .post("/api/runs", R"({"name":"third","id":"third_1","config":{"lr":0.1},"tags":["a"],"notes":"n",)"
                                 R"("total_steps":10,"status":"running"})")
              .status == 200);
    CHECK(s.api
              .put("/api/runs/third_1", R"({"name":"3rd","status":"completed","config":{},"tags":[],"notes":"",)"
                                        R"("total_steps":12})")
              .status == 200);

    auto ckpt = s.api.post("/api/runs/" + id + "/checkpoints", R"({"filepath":"/ckpt/a.pt","best":true})");
    REQUIRE(ckpt.status == 422);
    CHECK(detail(ckpt).find("unknown field 'best' in a checkpoint") != std::string::npos);
    CHECK(s.api.get("/api/runs/" + id + "/checkpoints")["checkpoints"].Size() == 0);
    auto cmd = s.api.post("/api/runs/" + id + "/commands", R"({"type":"stop","paylaod":{}})");
    REQUIRE(cmd.status == 422);
    CHECK(detail(cmd).find("unknown field 'paylaod' in a command") != std::string::npos);
    CHECK(s.api.get("/api/runs/" + id + "/commands")["commands"].Size() == 0);
    CHECK(s.api
              .post("/api/runs/" + id + "/checkpoints",
                    R"({"id":"ckpt_1","filepath":"/ckpt/b.pt","step":3,"metrics":{},"metadata":{},"is_best":true})")
              .status == 200);
    CHECK(s.api.post("/api/runs/" + id + "/commands", R"({"type":"note","payload":{"x":1}})").status == 202);
}

TEST_CASE("progress is last_step / total_steps clamped to [0, 1]; a run past its plan shows 1 and its real last step",
          "[server][runs]") {
    served<memory_store> s;
    auto id = s.create_run("planned", R"(,"total_steps":100)");
    REQUIRE(s.post_metrics(id, R"({"step":42,"metrics":{"loss":1}})").status == 200);
    CHECK(s.api.get("/api/runs/" + id)["progress"].GetDouble() == Approx(0.42));
    REQUIRE(s.post_metrics(id, R"({"step":9999,"metrics":{"loss":1}})").status == 200);
    auto run = s.api.get("/api/runs/" + id);
    CHECK(run["progress"].GetDouble() == 1.0);
    CHECK(run["last_step"].GetInt64() == 9999);
    auto listed = s.api.get("/api/runs");
    CHECK(listed["runs"][0]["progress"].GetDouble() == 1.0);
}

TEST_CASE("the system sampler's samples are served as status and history", "[server][system]") {
    server_config c;
    c.sample_period = std::chrono::milliseconds(20);
    served<memory_store, system_sampler> s(c);
    api_reply status;
    for (int i = 0; i < 500; ++i) {  // polls until the sampler thread has written once
        status = s.api.get("/api/system/status");
        if (status.status == 200) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(status.status == 200);
    CHECK(status["memory_total"].GetUint64() > 0);
    CHECK(status["cpu_percent"].GetDouble() >= 0);
    CHECK(status["gpus"].IsArray());
    auto hist = s.api.get("/api/system/history?limit=1");
    CHECK(hist["samples"].Size() == 1);
    CHECK(s.api.get("/api/system/history?limit=0").status == 400);
}

TEST_CASE("with a token every API route needs it, by header or query", "[server][auth]") {
    server_config c;
    c.token = "s3cret";
    served<memory_store> s(c);
    api_client anon(s.srv.port());
    auto denied = anon.get("/api/runs");
    CHECK(denied.status == 401);
    CHECK(denied.error_kind() == "unauthorized");
    CHECK(anon.get("/health").status == 401);
    CHECK(anon.post("/api/runs", R"({"name":"x"})").status == 401);
    CHECK(anon.get("/api/runs", "Authorization: Bearer wrong\r\n").status == 401);
    CHECK(anon.get("/api/runs?token=wrong").status == 401);
    CHECK(anon.get("/api/runs?token=s3cret").status == 200);
    CHECK(anon.get("/api/runs", "Authorization: Bearer s3cret\r\n").status == 200);
    CHECK(s.api.post("/api/runs", R"({"name":"x"})").status == 200);
    // The dashboard's files hold no data and load without it.
    CHECK(anon.get("/").status == 200);
}

TEST_CASE("the embedded dashboard is served gzip-encoded with ETags and 304s; other paths are JSON 404s",
          "[server][static]") {
    served<memory_store> s;
    auto index = s.api.get("/", "Accept-Encoding: gzip, deflate\r\n");
    REQUIRE(index.status == 200);
    CHECK(index.header("Content-Type").starts_with("text/html"));
    CHECK(index.header("Content-Encoding") == "gzip");
    CHECK(index.header("Cache-Control") == "no-cache");
    std::string etag(index.header("ETag"));
    REQUIRE_FALSE(etag.empty());
    auto plain = s.api.get("/");
    CHECK(plain.header("Content-Encoding").empty());
    CHECK(plain.body.find("<") != std::string::npos);
    CHECK(plain.body.find("html") != std::string::npos);
    auto again = s.api.get("/", "If-None-Match: " + etag + "\r\n");
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    // Only "/" is the page: typos and other tools' paths get a JSON 404.
    for (const char* path : {"/runs/some-run", "/docs", "/ws/training/x", "/metrics", "/api2/runs"}) {
        INFO(path);
        auto r = s.api.get(path);
        CHECK(r.status == 404);
        CHECK(r.header("Content-Type").starts_with("application/json"));
        CHECK(r.error_kind() == "not_found");
    }
    for (const auto& a : dashboard::assets) {
        if (!a.path.starts_with("/assets/")) continue;
        auto r = s.api.get(std::string(a.path), "Accept-Encoding: gzip\r\n");
        CHECK(r.status == 200);
        CHECK(r.header("Cache-Control").find("immutable") != std::string_view::npos);
        CHECK(r.body.size() == a.gzip.size());
    }
    CHECK(s.api.get("/assets/missing-file.js").status == 404);
    CHECK(s.api.get("/../etc/passwd").status >= 400);
}

TEST_CASE("static_dir serves files from disk and never a path outside it", "[server][static]") {
    temp_dir site;
    std::filesystem::create_directories(site.path() / "www" / "assets");
    { std::ofstream(site.path() / "www" / "index.html") << "<html>disk index</html>"; }
    { std::ofstream(site.path() / "www" / "assets" / "app-1.js") << "console.log(1)"; }
    { std::ofstream(site.path() / "secret.txt") << "top secret"; }
    server_config c;
    c.static_dir = (site.path() / "www").string();
    served<memory_store> s(c);
    auto index = s.api.get("/");
    REQUIRE(index.status == 200);
    CHECK(index.body == "<html>disk index</html>");
    auto js = s.api.get("/assets/app-1.js");
    CHECK(js.body == "console.log(1)");
    CHECK(js.header("Content-Type").starts_with("text/javascript"));
    auto cached = s.api.get("/assets/app-1.js", fmt::format("If-None-Match: {}\r\n", js.header("ETag")));
    CHECK(cached.status == 304);
    CHECK(s.api.get("/some/page").status == 404);
    for (const char* path :
         {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"}) {
        INFO(path);
        auto r = s.api.get(path);
        CHECK(r.body.find("top secret") == std::string::npos);
    }
}

TEST_CASE("a server can serve a store its caller owns, and REST writes land in it", "[server][misc]") {
    memory_store store;
    server<memory_store, asio_transport, no_sampler> srv(store, server_config{.host = "127.0.0.1", .port = 0});
    api_client api(srv.port());
    auto run = api.post("/api/runs", R"({"name":"borrowed"})");
    REQUIRE(run.status == 200);
    REQUIRE(api.post("/api/runs/" + str(run["id"]) + "/metrics", R"({"step":1,"metrics":{"loss":0.5}})").status == 200);
    CHECK(&srv.store() == &store);
    auto latest = store.latest_metrics(str(run["id"]));
    REQUIRE(latest.size() == 1);
    CHECK(latest[0].value == 0.5);
    srv.stop();
    srv.stop();  // idempotent
    CHECK(store.get_run(str(run["id"]))->name == "borrowed");
}
