// A bulk JSON body (metric batch, layer report) that cannot be JSON is refused
// from its first bytes: the server answers while most of it is still unsent,
// with the very answer the route gives for the whole body, then closes.
#include <string>

#include <catch2/catch.hpp>

#include "server/server_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

std::string post_head(std::string_view path, std::size_t length, std::string_view extra = "") {
    return fmt::format(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\n\r\n", path,
        extra, length);
}

constexpr std::size_t huge = 32u << 20;  // announced; never sent

}  // namespace

TEST_CASE("a 32 MB metric batch of junk is refused at its first byte with the route's own answer",
          "[server][hardening]") {
    served<memory_store> s;
    std::string id = s.create_run("r");
    const std::string path = fmt::format("/api/runs/{}/metrics", id);
    for (std::string_view start : {"xxxx", " \r\n\t<html>", "\xff\xfe{", "'single'", "NaN"}) {
        INFO(start);
        // What the route says once it has read a whole (small) body that starts so.
        auto whole = s.api.post(path, std::string(start) + "...");
        REQUIRE(whole.status == 400);

        blocking_client c(s.srv.port());
        auto early = c.request(post_head(path, huge) + std::string(start));
        REQUIRE(early);
        CHECK(early->status == 400);
        CHECK(early->body == whole.body);
        CHECK(early->header("Connection") == "close");
        CHECK(c.wait_closed());
    }
    CHECK(s.api.get(fmt::format("/api/runs/{}/metrics/keys", id)).status == 200);  // still serving

    // The layerwise report, the other bulk route (8 MiB at most).
    blocking_client c(s.srv.port());
    auto layers = c.request(post_head("/api/v1/metrics/layerwise", 4u << 20) + "junk");
    REQUIRE(layers);
    CHECK(layers->status == 400);
    CHECK(layers->body.find("not valid JSON") != std::string::npos);
}

TEST_CASE("a bulk body that may still be JSON, or that another check refuses first, is read as before",
          "[server][hardening]") {
    server_config c;
    c.token = "s3cret";
    served<memory_store> s(c);
    std::string id = s.create_run("r");
    const std::string path = fmt::format("/api/runs/{}/metrics", id);
    const std::string auth = "Authorization: Bearer s3cret\r\n";

    SECTION("a JSON start sent in pieces is accepted") {
        std::string body = R"(  [{"step":1,"metrics":{"loss":0.5}}])";
        blocking_client raw(s.srv.port());
        REQUIRE(raw.send(post_head(path, body.size(), auth) + body.substr(0, 3)));
        auto r = raw.request(body.substr(3));
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->header("Connection") == "keep-alive");
    }
    SECTION("a scalar start is the route's to judge (422 for a well-formed scalar)") {
        blocking_client raw(s.srv.port());
        REQUIRE(raw.send(post_head(path, 4, auth) + "tr"));
        auto r = raw.request("ue");
        REQUIRE(r);
        CHECK(r->status == 422);
    }
    SECTION("without the token, junk is still 401 once read") {
        std::string junk(64 * 1024, 'x');
        blocking_client raw(s.srv.port());
        REQUIRE(raw.send(post_head(path, junk.size()) + junk.substr(0, 10)));
        auto r = raw.request(junk.substr(10));
        REQUIRE(r);
        CHECK(r->status == 401);
    }
    SECTION("junk that is not declared JSON is still 415 once read") {
        std::string junk(64 * 1024, 'x');
        blocking_client raw(s.srv.port());
        REQUIRE(raw.send(fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}Content-Type: text/plain\r\n"
                                     "Content-Length: {}\r\n\r\n",
                                     path, auth, junk.size()) +
                         junk.substr(0, 10)));
        auto r = raw.request(junk.substr(10));
        REQUIRE(r);
        CHECK(r->status == 415);
    }
}
