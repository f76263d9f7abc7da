#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tmon/transport/http/parser.hpp"

using namespace tmon::http;

namespace {

std::vector<request> parse_all(request_parser& p) {
    std::vector<request> out;
    while (p.parse() == parse_status::complete) out.push_back(p.take());
    return out;
}

std::vector<request> feed_in_pieces(std::string_view bytes, std::size_t split) {
    request_parser p;
    p.feed(bytes.substr(0, split));
    auto out = parse_all(p);
    p.feed(bytes.substr(split));
    auto rest = parse_all(p);
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

parse_error error_for(std::string_view bytes, parser_limits limits = {}) {
    request_parser p(limits);
    p.feed(bytes);
    while (true) {
        auto s = p.parse();
        if (s == parse_status::failed) return p.error();
        if (s == parse_status::need_more) return {};
        p.take();
    }
}

constexpr std::string_view post_with_body =
    "POST /api/runs/r%201/metrics?limit=5&q=a%20b HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "{\"loss\":0.42}";

}  // namespace

TEST_CASE("a request split at every possible point parses the same", "[transport]") {
    for (std::size_t split = 0; split <= post_with_body.size(); ++split) {
        auto reqs = feed_in_pieces(post_with_body, split);
        INFO("split at " << split);
        REQUIRE(reqs.size() == 1);
        CHECK(reqs[0].method == "POST");
        CHECK(reqs[0].target == "/api/runs/r%201/metrics?limit=5&q=a%20b");
        CHECK(reqs[0].path == "/api/runs/r 1/metrics");
        CHECK(reqs[0].query == "limit=5&q=a%20b");
        CHECK(reqs[0].header_value("content-type") == "application/json");
        CHECK(reqs[0].body == "{\"loss\":0.42}");
    }
}

TEST_CASE("a request fed one byte at a time parses", "[transport]") {
    request_parser p;
    std::vector<request> reqs;
    for (char c : post_with_body) {
        p.feed(std::string_view{&c, 1});
        auto got = parse_all(p);
        reqs.insert(reqs.end(), got.begin(), got.end());
    }
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].body == "{\"loss\":0.42}");
}

TEST_CASE("pipelined requests in one buffer come out in order", "[transport]") {
    std::string bytes =
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    request_parser p;
    p.feed(bytes);
    auto reqs = parse_all(p);
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].path == "/a");
    CHECK(reqs[1].path == "/b");
    CHECK(reqs[1].body == "abc");
    CHECK(reqs[2].path == "/c");
    CHECK(p.between_requests());
}

TEST_CASE("a chunked body is reassembled and its trailers kept apart from the headers", "[transport]") {
    std::string bytes =
        "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n"
        "7\r\n, world\r\n"
        "0\r\nX-Checksum: abc\r\n\r\n"
        "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
    for (std::size_t split = 0; split <= bytes.size(); ++split) {
        auto reqs = feed_in_pieces(bytes, split);
        INFO("split at " << split);
        REQUIRE(reqs.size() == 2);
        CHECK(reqs[0].body == "hello, world");
        CHECK(reqs[0].header_value("X-Checksum").empty());
        REQUIRE(reqs[0].trailers.size() == 1);
        CHECK(reqs[0].trailers[0].name == "X-Checksum");
        CHECK(reqs[0].trailers[0].value == "abc");
        CHECK(reqs[1].path == "/next");
    }
}

TEST_CASE("keep-alive follows HTTP/1.0 and 1.1 defaults and the Connection header", "[transport]") {
    auto first = [](std::string raw) {
        request_parser p;
        p.feed(raw);
        REQUIRE(p.parse() == parse_status::complete);
        return p.take();
    };
    CHECK(wants_keep_alive(first("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
    CHECK_FALSE(wants_keep_alive(first("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    CHECK_FALSE(wants_keep_alive(first("GET / HTTP/1.0\r\n\r\n")));
    CHECK(wants_keep_alive(first("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")));
    CHECK_FALSE(wants_keep_alive(first("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n")));
}

TEST_CASE("malformed requests are answered with 400", "[transport]") {
    CHECK(error_for("GARBAGE\r\n\r\n").status == 400);
    CHECK(error_for("GET /\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.1 extra\r\n\r\n").status == 400);
    CHECK(error_for("G(T / HTTP/1.1\r\nHost: x\r\n\r\n").status == 400);
    CHECK(error_for("GET nope HTTP/1.1\r\nHost: x\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTQ/1.1\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n folded\r\n\r\n").status == 400);
    CHECK(error_for("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").status ==
          400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n").status == 400);
    CHECK(error_for("GET / HTTP/2.0\r\n\r\n").status == 505);
}

TEST_CASE("a header block over the limit is 431, whether or not it has ended", "[transport]") {
    parser_limits limits{.max_header_bytes = 256, .max_body_bytes = 1024};
    std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(300, 'a') + "\r\n\r\n";
    CHECK(error_for(big, limits).status == 431);
    CHECK(error_for(big.substr(0, 290), limits).status == 431);  // still arriving
    CHECK(error_for("GET / HTTP/1.1\r\nHost: x\r\nX-Small: a\r\n\r\n", limits).status == 0);
}

TEST_CASE("a body over the limit is 413 before it is read, chunked or not", "[transport]") {
    parser_limits limits{.max_header_bytes = 1024, .max_body_bytes = 10};
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", limits).status == 413);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999\r\n\r\n", limits).status == 413);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999999999\r\n\r\n", limits).status ==
          400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", limits).status == 0);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n", limits)
              .status == 413);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n", limits)
              .status == 413);
}

TEST_CASE("a transfer coding other than chunked is 501", "[transport]") {
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status == 501);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n").status == 501);
}

TEST_CASE("Expect: 100-continue is signalled once, before the body arrives", "[transport]") {
    request_parser p;
    p.feed("POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    CHECK(p.parse() == parse_status::need_more);
    CHECK(p.take_expect_continue());
    CHECK_FALSE(p.take_expect_continue());
    p.feed("data");
    REQUIRE(p.parse() == parse_status::complete);
    CHECK(p.take().body == "data");
}

TEST_CASE("bytes after an upgrade request are handed back untouched", "[transport]") {
    request_parser p;
    p.feed("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85garbage");
    REQUIRE(p.parse() == parse_status::complete);
    auto req = p.take();
    CHECK(is_upgrade_to_websocket(req));
    CHECK(p.take_buffered() == "\x81\x85garbage");
}

TEST_CASE("absolute-form targets and OPTIONS * are understood", "[transport]") {
    request_parser p;
    p.feed("GET http://example.com:8000/api/runs?x=1 HTTP/1.1\r\nHost: x\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    auto reqs = parse_all(p);
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].path == "/api/runs");
    CHECK(reqs[0].query == "x=1");
    CHECK(reqs[1].path == "*");
}

TEST_CASE("a trailer cannot add or override a header the application checked", "[transport]") {
    request_parser p;
    p.feed(
        "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\nAuthorization: Bearer forged\r\nContent-Type: text/evil\r\n\r\n");
    REQUIRE(p.parse() == parse_status::complete);
    auto req = p.take();
    CHECK(req.header_value("Authorization").empty());
    CHECK(req.header_value("Content-Type").empty());
    CHECK(req.trailers.size() == 2);
}

TEST_CASE("line endings must be CRLF: a bare LF anywhere in the framing is 400", "[transport]") {
    CHECK(error_for("GET / HTTP/1.1\nHost: x\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.1\r\nHost: x\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.1\r\nHost: x\r\n\n").status == 400);
    CHECK(error_for("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\n\r\n").status == 400);
    // A blank CRLF line before the request line is still tolerated (RFC 9112 2.2).
    CHECK(error_for("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").status == 0);
}

TEST_CASE("an HTTP/1.1 request needs exactly one Host; HTTP/1.0 may omit it", "[transport]") {
    CHECK(error_for("GET / HTTP/1.1\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status == 400);
    CHECK(error_for("GET / HTTP/1.0\r\n\r\n").status == 0);
    CHECK(error_for("GET / HTTP/1.1\r\nhost: a\r\n\r\n").status == 0);
}

TEST_CASE("an HTTP/1.0 request with Transfer-Encoding is 400", "[transport]") {
    CHECK(error_for("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").status == 400);
    CHECK(error_for("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").status ==
          0);
}

TEST_CASE("a request line over its limit is 414, whether or not it has ended; a big header block stays 431",
          "[transport]") {
    parser_limits limits{.max_header_bytes = 1024, .max_body_bytes = 1024, .max_request_line_bytes = 100};
    std::string long_line = "GET /" + std::string(200, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(error_for(long_line, limits).status == 414);
    CHECK(error_for(long_line.substr(0, 150), limits).status == 414);
    for (std::size_t split = 0; split <= long_line.size(); ++split) {
        request_parser p(limits);
        p.feed(std::string_view{long_line}.substr(0, split));
        auto first = p.parse();
        if (first == parse_status::failed) {
            CHECK(p.error().status == 414);
            continue;
        }
        p.feed(std::string_view{long_line}.substr(split));
        REQUIRE(p.parse() == parse_status::failed);
        CHECK(p.error().status == 414);
    }
    CHECK(error_for("GET /short HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'h') + "\r\n\r\n", limits).status ==
          431);
    CHECK(error_for("GET /" + std::string(80, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n", limits).status == 0);
    // With the default limits a 10 KB target is 414 too.
    CHECK(error_for("GET /" + std::string(10'000, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n").status == 414);
}

TEST_CASE("with stop_after_head, a request with a body pauses after its head for the caller's body limit",
          "[transport]") {
    parser_limits limits{.max_header_bytes = 1024, .max_body_bytes = 10, .stop_after_head = true};
    SECTION("a Content-Length over the chosen limit is 413 before any body byte is read") {
        request_parser p(limits);
        p.feed("POST /small?q=1 HTTP/1.1\r\nHost: x\r\nX-Kind: a\r\nContent-Length: 8\r\n\r\n");
        REQUIRE(p.parse() == parse_status::head_complete);
        CHECK(p.head().path == "/small");
        CHECK(p.head().query == "q=1");
        CHECK(p.head().header_value("X-Kind") == "a");
        CHECK(p.head().body.empty());
        REQUIRE(p.content_length());
        CHECK(*p.content_length() == 8);
        CHECK(p.body_announced() == 8);
        p.limit_body(4);
        REQUIRE(p.parse() == parse_status::failed);
        CHECK(p.error().status == 413);
    }
    SECTION("the caller may allow more than max_body_bytes") {
        request_parser p(limits);
        p.feed("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n01234567890123456789");
        REQUIRE(p.parse() == parse_status::head_complete);
        p.limit_body(100);
        REQUIRE(p.parse() == parse_status::complete);
        CHECK(p.take().body == "01234567890123456789");
    }
    SECTION("without a new limit, max_body_bytes applies") {
        request_parser p(limits);
        p.feed("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n");
        REQUIRE(p.parse() == parse_status::head_complete);
        REQUIRE(p.parse() == parse_status::failed);
        CHECK(p.error().status == 413);
    }
    SECTION("a chunked body is held to the chosen limit and announces its chunks") {
        request_parser p(limits);
        p.feed("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        REQUIRE(p.parse() == parse_status::head_complete);
        CHECK_FALSE(p.content_length());
        p.limit_body(5);
        CHECK(p.parse() == parse_status::need_more);
        CHECK(p.body_announced() == 3);
        p.feed("3\r\ndef\r\n");
        REQUIRE(p.parse() == parse_status::failed);
        CHECK(p.error().status == 413);
    }
    SECTION("a request without a body does not stop") {
        request_parser p(limits);
        p.feed("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(p.parse() == parse_status::complete);
    }
    SECTION("100 Continue is signalled only once the body is accepted") {
        request_parser p(limits);
        p.feed("POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
        REQUIRE(p.parse() == parse_status::head_complete);
        CHECK_FALSE(p.take_expect_continue());
        CHECK(p.parse() == parse_status::need_more);
        CHECK(p.take_expect_continue());
    }
}

TEST_CASE("a fragment ends the target, even before a '?'", "[transport]") {
    request_parser p;
    p.feed("GET /a#b?c HTTP/1.1\r\nHost: x\r\n\r\nGET /d?e=1#f HTTP/1.1\r\nHost: x\r\n\r\n");
    auto reqs = parse_all(p);
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].path == "/a");
    CHECK(reqs[0].query.empty());
    CHECK(reqs[1].path == "/d");
    CHECK(reqs[1].query == "e=1");
}
