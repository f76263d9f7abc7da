// http::request_parser on arbitrary bytes, as one connection's stream.
//
// The stream is parsed several times: whole, a byte at a time, and in reads of
// random sizes (some through prepare/commit, as the transport reads), each
// under the default limits and under small ones. Besides "no crash, no
// sanitizer report, no exception", every way of cutting the stream must give
// the same requests and the same final outcome: an incremental parser's answer
// cannot depend on where the reads ended.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "tmon/transport/http/parser.hpp"
#include "tmon/transport/ws/handshake.hpp"

namespace {

using namespace tmon;
using fuzz::split;

using fuzz::append_field;

// Everything about a request the app could see, as one string to compare.
std::string describe(const http::request& r) {
    std::string out;
    append_field(out, r.method);
    append_field(out, r.target);
    append_field(out, r.path);
    append_field(out, r.query);
    out += std::to_string(r.version_minor);
    for (const auto& h : r.headers) {
        append_field(out, h.name);
        append_field(out, h.value);
    }
    append_field(out, r.body);
    out += http::wants_keep_alive(r) ? 'k' : 'c';
    out += http::is_upgrade_to_websocket(r) ? 'u' : '-';
    return out;
}

void check_request(const http::request& r, const http::parser_limits& limits) {
    TMON_FUZZ_CHECK(!r.method.empty());
    TMON_FUZZ_CHECK(!r.target.empty());
    TMON_FUZZ_CHECK(r.version_minor == 0 || r.version_minor == 1);
    TMON_FUZZ_CHECK(r.body.size() <= limits.max_body_bytes);
    for (char c : r.target) TMON_FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
    for (const auto& h : r.headers) {
        TMON_FUZZ_CHECK(!h.name.empty());
        for (char c : h.value) TMON_FUZZ_CHECK(c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
    }
    // What the transport does next with a request that asks for a WebSocket.
    if (auto refusal = ws::check_upgrade_request(r)) {
        TMON_FUZZ_CHECK(refusal->status >= 400 && refusal->status < 500);
    } else {
        auto head = ws::switching_protocols_head(r);
        TMON_FUZZ_CHECK(head.starts_with("HTTP/1.1 101 ") && head.ends_with("\r\n\r\n"));
    }
}

struct outcome {
    std::string requests;  // describe() of each completed request, in order
    int final_status = 0;  // 0: waiting for more bytes; else the error status
};

outcome parse_stream(std::string_view stream, http::parser_limits limits, split how, std::uint64_t seed) {
    http::request_parser p(limits);
    outcome out;
    std::size_t read_no = 0;
    for (std::string_view piece : fuzz::cut(stream, how, seed)) {
        if (++read_no % 2 == 0) {  // the transport's path: read straight into the parser's buffer
            auto room = p.prepare(piece.size() + 7);
            std::memcpy(room.data(), piece.data(), piece.size());
            p.commit(piece.size());
        } else {
            p.feed(piece);
        }
        while (true) {
            auto st = p.parse();
            if (st == http::parse_status::need_more) break;
            if (st == http::parse_status::failed) {
                out.final_status = p.error().status;
                TMON_FUZZ_CHECK(out.final_status >= 400 && out.final_status < 600);
                TMON_FUZZ_CHECK(!p.error().detail.empty());
                // failed is sticky
                TMON_FUZZ_CHECK(p.parse() == http::parse_status::failed);
                return out;
            }
            (void)p.take_expect_continue();
            auto req = p.take();
            check_request(req, limits);
            out.requests += describe(req);
            out.requests += '\n';
        }
        (void)p.take_expect_continue();
        (void)p.reading_body();
        (void)p.between_requests();
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view stream(reinterpret_cast<const char*>(data), size);
    const std::uint64_t seed = fuzz::hash_bytes(stream);
    const http::parser_limits limit_sets[] = {
        {},  // the server's defaults
        {.max_header_bytes = 96, .max_body_bytes = 24},
    };
    for (const auto& limits : limit_sets) {
        outcome whole = parse_stream(stream, limits, split::whole, seed);
        outcome bytewise = size <= 16384 ? parse_stream(stream, limits, split::bytewise, seed) : whole;
        outcome random = parse_stream(stream, limits, split::random, seed);
        TMON_FUZZ_CHECK(whole.requests == bytewise.requests);
        TMON_FUZZ_CHECK(whole.final_status == bytewise.final_status);
        TMON_FUZZ_CHECK(whole.requests == random.requests);
        TMON_FUZZ_CHECK(whole.final_status == random.final_status);
    }
    return 0;
}
