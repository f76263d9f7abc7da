#include <catch2/catch.hpp>

#include <string>

#include "tmon/transport/http/query.hpp"
#include "tmon/transport/http/router.hpp"

using namespace tmon::http;

namespace {

response call(const router& r, std::string method, std::string path) {
    request req;
    req.method = std::move(method);
    req.path = std::move(path);
    response out;
    out.status = 0;
    r(std::move(req), [&](response resp) { out = std::move(resp); });
    return out;
}

router sample_routes() {
    router r;
    auto reply_with = [](std::string text) {
        return [text](request& req, const route_params& p, tmon::respond_fn respond) {
            response resp;
            resp.body = text + "|" + std::string{p.get("run_id")} + "|" + std::string{p.get("name")} + "|" + req.method;
            respond(std::move(resp));
        };
    };
    r.get("/api/runs", reply_with("list"))
        .post("/api/runs", reply_with("create"))
        .get("/api/runs/compare", reply_with("compare"))
        .get("/api/runs/{run_id}", reply_with("one"))
        .del("/api/runs/{run_id}", reply_with("delete"))
        .get("/api/runs/{run_id}/metrics/latest", reply_with("latest"))
        .get("/api/runs/{run_id}/metrics/{name}", reply_with("series"))
        .get("/assets/{name...}", reply_with("asset"));
    return r;
}

}  // namespace

TEST_CASE("path parameters are captured by name", "[transport]") {
    auto r = sample_routes();
    CHECK(call(r, "GET", "/api/runs/abc/metrics/latest").body == "latest|abc||GET");
    CHECK(call(r, "GET", "/api/runs/abc/metrics/loss").body == "series|abc|loss|GET");
    CHECK(call(r, "GET", "/api/runs/abc").body == "one|abc||GET");
    CHECK(call(r, "DELETE", "/api/runs/abc").body == "delete|abc||DELETE");
    CHECK(call(r, "GET", "/assets/js/app.js").body == "asset||js/app.js|GET");
}

TEST_CASE("a literal segment beats a parameter whatever the registration order", "[transport]") {
    auto r = sample_routes();
    CHECK(call(r, "GET", "/api/runs/compare").body == "compare|||GET");
}

TEST_CASE("an unknown path is 404 and a known path with the wrong method is 405 with Allow", "[transport]") {
    auto r = sample_routes();
    auto missing = call(r, "GET", "/api/nothing");
    CHECK(missing.status == 404);
    CHECK(missing.body.find("\"error\":\"not_found\"") != std::string::npos);
    CHECK(call(r, "GET", "/api/runs/abc/metrics").status == 404);
    CHECK(call(r, "GET", "/api/runs/").status == 404);

    auto wrong = call(r, "PUT", "/api/runs/abc");
    CHECK(wrong.status == 405);
    std::string allow;
    for (auto& h : wrong.headers)
        if (h.name == "Allow") allow = h.value;
    CHECK(allow == "GET, HEAD, DELETE");
    CHECK(wrong.body.find("method_not_allowed") != std::string::npos);
}

TEST_CASE("HEAD is routed to the GET handler", "[transport]") {
    auto r = sample_routes();
    CHECK(call(r, "HEAD", "/api/runs").body == "list|||HEAD");
}

TEST_CASE("a query string becomes decoded key/value pairs", "[transport]") {
    auto q = parse_query("status=running&q=res%20net+v2&limit=5&flag&run_id=a&run_id=b&bad=%zz");
    CHECK(q.get("status") == "running");
    CHECK(q.get("q") == "res net v2");
    CHECK(q.get("limit") == "5");
    CHECK(q.has("flag"));
    CHECK(q.get("flag") == "");
    CHECK_FALSE(q.get("missing").has_value());
    CHECK(q.get_or("missing", "x") == "x");
    CHECK(q.get_all("run_id") == std::vector<std::string_view>{"a", "b"});
    CHECK(q.get("bad") == "%zz");
    CHECK(parse_query("").empty());
}
