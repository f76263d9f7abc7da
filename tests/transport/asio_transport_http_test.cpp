#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tmon/core/error.hpp"
#include "tmon/transport/asio_transport.hpp"
#include "tmon/transport/http/router.hpp"
#include "transport/blocking_client.hpp"
#include "transport/transport_fixture.hpp"

using namespace std::chrono_literals;
using tmon::test::blocking_client;
using tmon::test::json;
using tmon::test::loopback_config;
using tmon::test::reply_to;

namespace {

// A real transport on 127.0.0.1:0 serving a small route table.
struct http_server {
    tmon::http::router routes;
    std::mutex mutex;
    std::vector<tmon::respond_fn> parked;  // answered later by the test, from its own thread
    tmon::asio_transport transport;        // last: stops before what its handlers use is destroyed

    explicit http_server(tmon::transport_config config = loopback_config()) {
        using tmon::http::request;
        using tmon::http::route_params;
        tmon::test::add_hello_and_echo(routes)
            .get("/runs/{id}",
                 [](request& req, const route_params& p, tmon::respond_fn respond) {
                     respond(json("{\"id\":\"" + std::string{p["id"]} + "\",\"remote\":\"" + req.remote + "\"}"));
                 })
            .get("/later",
                 [this](request&, const route_params&, tmon::respond_fn respond) {
                     std::lock_guard lock(mutex);
                     parked.push_back(std::move(respond));
                 })
            .get("/forgotten", [](request&, const route_params&, tmon::respond_fn) {})
            .get("/throws", [](request&, const route_params&, tmon::respond_fn) -> void {
                throw std::runtime_error("handler bug");
            });
        tmon::test::serve(transport, routes, config);
    }

    std::size_t parked_count() {
        std::lock_guard lock(mutex);
        return parked.size();
    }
    void wait_parked(std::size_t n) {
        tmon::test::wait_until([&] { return parked_count() >= n; });
        REQUIRE(parked_count() == n);
    }
};

}  // namespace

TEST_CASE("a keep-alive connection serves several requests", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    for (int i = 0; i < 3; ++i) {
        auto r = reply_to(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(r.status == 200);
        CHECK(r.body == R"({"hello":"world"})");
        CHECK(r.header("Content-Type") == "application/json");
        CHECK(r.header("Connection") == "keep-alive");
        CHECK_FALSE(r.header("Date").empty());
    }
}

TEST_CASE("an HTTP/1.0 request without keep-alive gets its answer and a closed connection", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    auto r = reply_to(c, "GET /hello HTTP/1.0\r\n\r\n");
    CHECK(r.status == 200);
    CHECK(r.header("Connection") == "close");
    CHECK(c.wait_closed());
}

TEST_CASE("pipelined requests are answered in order", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    REQUIRE(
        c.send("GET /runs/a HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
               "GET /runs/b HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto a = c.read_response();
    auto echo = c.read_response();
    auto b = c.read_response();
    REQUIRE((a && echo && b));
    CHECK(a->body.find("\"id\":\"a\"") != std::string::npos);
    CHECK(a->body.find("\"remote\":\"127.0.0.1:") != std::string::npos);
    CHECK(echo->body == "hello");
    CHECK(b->body.find("\"id\":\"b\"") != std::string::npos);
}

TEST_CASE("a response answered later from another thread still goes out before the ones behind it", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    REQUIRE(c.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    srv.wait_parked(1);
    std::thread answer([&] { srv.parked[0](json(R"({"late":true})")); });
    answer.join();
    auto first = c.read_response();
    auto second = c.read_response();
    REQUIRE((first && second));
    CHECK(first->body == R"({"late":true})");
    CHECK(second->body == R"({"hello":"world"})");
}

TEST_CASE("a handler that never answers or throws yields a 500, and the connection goes on", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    auto forgotten = reply_to(c, "GET /forgotten HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(forgotten.status == 500);
    auto threw = reply_to(c, "GET /throws HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(threw.status == 500);
    CHECK(threw.body.find("\"error\":\"internal\"") != std::string::npos);
    CHECK(reply_to(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);
}

TEST_CASE("unknown paths are 404 and wrong methods 405 with Allow", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    auto missing = reply_to(c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(missing.status == 404);
    CHECK(missing.body.find("\"error\":\"not_found\"") != std::string::npos);
    auto wrong = reply_to(c, "DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("Allow") == "GET, HEAD");
}

TEST_CASE("HEAD answers like GET without the body", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    REQUIRE(c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto head = c.read_response(true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("Content-Length") == "17");
    // Had a body been sent, it would be read here instead of the next response.
    auto next = reply_to(c, "GET /runs/x HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(next.body.find("\"id\":\"x\"") != std::string::npos);
}

TEST_CASE("malformed and oversized requests get a JSON error with the right status, then a close", "[transport]") {
    auto config = loopback_config();
    config.limits.max_body_bytes = 1000;
    config.limits.max_header_bytes = 1024;
    http_server srv(config);
    struct bad_case {
        std::string request;
        int status;
        const char* kind;
    };
    std::vector<bad_case> cases = {
        {"BROKEN\r\n\r\n", 400, "bad_request"},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'), 413, "too_large"},
        {"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n", 431, "header_too_large"},
        {"GET /" + std::string(2000, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"},
        {"GET /hello HTTP/1.1\nHost: x\n\n", 400, "bad_request"},
        {"GET /hello HTTP/1.1\r\n\r\n", 400, "bad_request"},
        {"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request"},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + std::string(1024, 'c') +
             "\r\n",
         413, "too_large"},
    };
    for (const auto& bad : cases) {
        INFO(bad.request.substr(0, 60));
        blocking_client c(srv.transport.port());
        auto r = reply_to(c, bad.request);
        CHECK(r.status == bad.status);
        CHECK(r.header("Content-Type") == "application/json");
        CHECK(r.body.find(std::string{"\"error\":\""} + bad.kind + "\"") != std::string::npos);
        CHECK(r.body.find("\"detail\":\"") != std::string::npos);
        CHECK(r.header("Connection") == "close");
        CHECK(c.wait_closed());
    }
}

TEST_CASE("a chunked upload and Expect: 100-continue are served", "[transport]") {
    http_server srv;
    blocking_client c(srv.transport.port());
    auto chunked = reply_to(
        c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    CHECK(chunked.body == "abcde");

    REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
    auto interim = c.read_response(true);
    REQUIRE(interim);
    CHECK(interim->status == 100);
    REQUIRE(c.send("body"));
    auto final_reply = c.read_response();
    REQUIRE(final_reply);
    CHECK(final_reply->body == "body");
}

TEST_CASE("CORS: preflight is answered and responses carry the origin", "[transport]") {
    auto config = loopback_config();
    config.cors_origin = "*";
    http_server srv(config);
    blocking_client c(srv.transport.port());
    auto pre =
        reply_to(c,
                 "OPTIONS /hello HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\nAccess-Control-Request-Method: POST\r\n"
                 "Access-Control-Request-Headers: content-type\r\n\r\n");
    CHECK(pre.status == 204);
    CHECK(pre.header("Access-Control-Allow-Origin") == "*");
    CHECK(pre.header("Access-Control-Allow-Headers") == "Content-Type, Authorization");
    CHECK(pre.header("Access-Control-Allow-Methods").find("POST") != std::string_view::npos);
    auto r = reply_to(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(r.header("Access-Control-Allow-Origin") == "*");
}

TEST_CASE("the CORS preflight answers a fixed header allow-list, whatever the client asks for", "[transport]") {
    auto config = loopback_config();
    config.cors_origin = "http://dashboard";
    http_server srv(config);
    blocking_client c(srv.transport.port());
    auto pre = reply_to(c,
                        "OPTIONS /api/runs HTTP/1.1\r\nHost: x\r\nOrigin: http://evil\r\n"
                        "Access-Control-Request-Method: DELETE\r\n"
                        "Access-Control-Request-Headers: x-admin-override, cookie\r\n\r\n");
    CHECK(pre.status == 204);
    CHECK(pre.header("Access-Control-Allow-Headers") == "Content-Type, Authorization");
    CHECK(pre.header("Access-Control-Allow-Origin") == "http://dashboard");
}

TEST_CASE("a slowloris sending its headers a byte at a time is cut off while still sending", "[transport]") {
    auto config = loopback_config();
    config.limits.header_timeout = 300ms;
    http_server srv(config);
    blocking_client c(srv.transport.port());
    std::string trickle = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(400, 's');
    bool cut_off = false;
    for (char byte : trickle) {
        if (!c.send(std::string_view{&byte, 1})) {
            cut_off = true;
            break;
        }
        std::this_thread::sleep_for(30ms);
    }
    CHECK(cut_off);
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout", "[transport]") {
    auto config = loopback_config();
    config.limits.idle_timeout = 200ms;
    http_server srv(config);
    blocking_client c(srv.transport.port());
    REQUIRE(c.request("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(c.wait_closed());
}

TEST_CASE("over the connection cap a new client gets 503 while existing ones keep working", "[transport]") {
    auto config = loopback_config();
    config.limits.max_connections = 2;
    http_server srv(config);
    blocking_client a(srv.transport.port());
    blocking_client b(srv.transport.port());
    REQUIRE(reply_to(a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);
    REQUIRE(reply_to(b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);

    blocking_client over(srv.transport.port());
    auto refused = reply_to(over, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(refused.status == 503);
    CHECK(refused.body.find("\"error\":\"unavailable\"") != std::string::npos);
    CHECK(over.wait_closed());

    CHECK(reply_to(a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);
    CHECK(reply_to(b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);
}

TEST_CASE("a port already in use is reported as unavailable with the address", "[transport]") {
    http_server first;
    tmon::asio_transport second;
    auto config = loopback_config();
    config.port = first.transport.port();
    try {
        second.start(config, {});
        FAIL("start succeeded on a port in use");
    } catch (const tmon::error& e) {
        CHECK(e.code() == tmon::errc::unavailable);
        std::string expected = "cannot bind 127.0.0.1:" + std::to_string(config.port) + ": ";
        CHECK(std::string{e.what()}.starts_with(expected));
        CHECK(std::string{e.what()}.find("in use") != std::string::npos);
    }
}

TEST_CASE("stop closes open connections and a stopped transport can be destroyed", "[transport]") {
    auto srv = std::make_unique<http_server>();
    blocking_client c(srv->transport.port());
    REQUIRE(c.request("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    srv->transport.stop();
    CHECK(srv->transport.port() == 0);
    CHECK(c.wait_closed());
    srv.reset();
}
