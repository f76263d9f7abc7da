// The client reads responses with the server's own parser (one HTTP
// implementation): status line, Content-Length, chunked, close-delimited.
#include <catch2/catch.hpp>

#include <string>

#include "tmon/transport/http/parser.hpp"

using namespace tmon::http;

namespace {
received_response parse_one(std::string_view bytes, std::size_t split) {
    response_parser p;
    p.feed(bytes.substr(0, split));
    if (p.parse() == parse_status::complete) return p.take();
    p.feed(bytes.substr(split));
    REQUIRE(p.parse() == parse_status::complete);
    return p.take();
}
}  // namespace

TEST_CASE("response parser: status, reason, headers and a Content-Length body, however the bytes split",
          "[client][http]") {
    std::string wire =
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
    for (std::size_t split = 0; split <= wire.size(); ++split) {
        auto r = parse_one(wire, split);
        CHECK(r.status == 201);
        CHECK(r.reason == "Created");
        CHECK(r.header_value("content-type") == "application/json");
        CHECK(r.body == "{\"ok\":true}");
    }
}

TEST_CASE("response parser: keep-alive responses back to back, chunked bodies, 204 without a body", "[client][http]") {
    response_parser p;
    p.feed(
        "HTTP/1.1 204 No Content\r\n\r\n"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    REQUIRE(p.parse() == parse_status::complete);
    auto a = p.take();
    CHECK(a.status == 204);
    CHECK(a.body.empty());
    REQUIRE(p.parse() == parse_status::complete);
    auto b = p.take();
    CHECK(b.status == 200);
    CHECK(b.body == "hello world");
    CHECK(wants_keep_alive(b));
    REQUIRE(p.parse() == parse_status::complete);
    auto c = p.take();
    CHECK(c.status == 503);
    CHECK(c.header_value("Retry-After") == "3");
    CHECK_FALSE(wants_keep_alive(c));
}

TEST_CASE("response parser: a body without length ends with the connection", "[client][http]") {
    response_parser p;
    p.feed("HTTP/1.0 200 OK\r\n\r\nsome bytes");
    CHECK(p.parse() == parse_status::need_more);
    p.feed(" and more");
    CHECK(p.parse() == parse_status::need_more);
    REQUIRE(p.finish_at_eof());
    auto r = p.take();
    CHECK(r.body == "some bytes and more");
    CHECK_FALSE(wants_keep_alive(r));
}

TEST_CASE("response parser: what is not an HTTP response is refused, not guessed at", "[client][http]") {
    for (std::string bad : {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/2 200\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
                            // found by fuzz_http_response: no status below 100, no control character in the
                            // reason (it is logged), as in header values
                            "HTTP/1.1 099 Low\r\nContent-Length: 1\r\n\r\nx", "HTTP/1.1 000 \r\n\r\n",
                            "HTTP/1.1 200 O\x1b[2JK\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 O\rK\r\n\r\n"}) {
        response_parser p;
        p.feed(bad);
        INFO(bad);
        CHECK(p.parse() == parse_status::failed);
    }
}

TEST_CASE("response parser: a tab in the reason and statuses up to 999 are read", "[client][http]") {
    for (std::string ok : {"HTTP/1.1 200 O\tK\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 100 \r\n\r\n",
                           "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"}) {
        response_parser p;
        p.feed(ok);
        INFO(ok);
        CHECK(p.parse() == parse_status::complete);
    }
}
