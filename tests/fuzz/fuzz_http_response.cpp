// http::response_parser on arbitrary bytes, as what a server (or a proxy, or a
// man in the middle) sends the remote client on one connection.
//
// The stream is parsed several times: whole, a byte at a time, and in reads of
// random sizes (half through prepare/commit, as client_connection reads), each
// under the client's limits and under tiny ones; at the end of the stream the
// parser is told the connection closed (finish_at_eof), as the client does.
// Besides "no crash, no sanitizer report, no exception":
//   - every way of cutting the stream gives the same responses and outcome;
//   - a response's status is 100..999 (RFC 9110 15: 600..999 is "invalid", the
//     client treats it as 5xx; below 100 is not an HTTP status), its reason
//     and header values hold no control characters, header names are tokens;
//   - 1xx, 204 and 304 have no body; otherwise a Content-Length response's
//     body is exactly that long and a chunked body as long as its chunks;
//     no body is longer than the limit or than the bytes that arrived;
//   - a failure carries a status and a sentence, and stays failed whatever
//     arrives next (more bytes, the end of the connection).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "tmon/transport/http/parser.hpp"

namespace {

using namespace tmon;
using fuzz::split;

using fuzz::append_field;

// Everything about a response the client could see, as one string to compare.
std::string describe(const http::received_response& r) {
    std::string out;
    out += std::to_string(r.status);
    out += '/';
    out += std::to_string(r.version_minor);
    out += '|';
    append_field(out, r.reason);
    for (const auto& h : r.headers) {
        append_field(out, h.name);
        append_field(out, h.value);
    }
    out += "T|";
    for (const auto& h : r.trailers) {
        append_field(out, h.name);
        append_field(out, h.value);
    }
    append_field(out, r.body);
    out += http::wants_keep_alive(r) ? 'k' : 'c';
    return out;
}

bool is_ctl(char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; }

bool has_token(const http::received_response& r, std::string_view name, std::string_view token) {
    return http::detail::header_has_token(r, name, token);
}

// Independent reading of the one Content-Length a framed response may carry.
bool content_length_of(const http::received_response& r, std::size_t& out) {
    bool found = false;
    for (const auto& h : r.headers) {
        if (!http::iequals(h.name, "Content-Length")) continue;
        std::size_t v = 0;
        if (h.value.empty()) return false;
        for (char c : h.value) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<std::size_t>(c - '0');
        }
        if (found && v != out) return false;
        out = v;
        found = true;
    }
    return found;
}

void check_response(const http::received_response& r, const http::parser_limits& limits, std::size_t arrived,
                    std::size_t announced, bool at_eof) {
    TMON_FUZZ_CHECK(r.status >= 100 && r.status <= 999);
    TMON_FUZZ_CHECK(r.version_minor == 0 || r.version_minor == 1);
    for (char c : r.reason) TMON_FUZZ_CHECK(!is_ctl(c));
    for (const auto* list : {&r.headers, &r.trailers}) {
        for (const auto& h : *list) {
            TMON_FUZZ_CHECK(http::detail::is_token(h.name));
            for (char c : h.value) TMON_FUZZ_CHECK(!is_ctl(c));
            TMON_FUZZ_CHECK(h.value.empty() || (h.value.front() != ' ' && h.value.back() != ' '));
        }
    }
    TMON_FUZZ_CHECK(r.body.size() <= arrived);
    TMON_FUZZ_CHECK(r.body.size() <= limits.max_body_bytes);
    const bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
    const bool chunked = has_token(r, "Transfer-Encoding", "chunked");
    std::size_t length = 0;
    const bool has_length = content_length_of(r, length);
    if (bodiless) {
        TMON_FUZZ_CHECK(r.body.empty() && r.trailers.empty() && !at_eof);
    } else if (chunked) {
        TMON_FUZZ_CHECK(!at_eof);
        TMON_FUZZ_CHECK(r.version_minor == 1 && !has_length);
        TMON_FUZZ_CHECK(r.body.size() == announced);
    } else if (has_length) {
        TMON_FUZZ_CHECK(!at_eof);
        TMON_FUZZ_CHECK(r.body.size() == length && announced == length);
        TMON_FUZZ_CHECK(r.trailers.empty());
    } else {
        // Neither: the body runs to the end of the connection, so this is the
        // last response on it (the client closes after it).
        TMON_FUZZ_CHECK(at_eof);
        TMON_FUZZ_CHECK(r.trailers.empty());
    }
}

struct outcome {
    std::string responses;  // describe() of each completed response, in order
    int final_status = 0;   // 0: no error; else the error status
    bool at_eof = false;    // the last response was framed by the end of the connection
};

outcome parse_stream(std::string_view stream, http::parser_limits limits, split how, std::uint64_t seed) {
    http::response_parser p(limits);
    outcome out;
    std::size_t read_no = 0, arrived = 0;
    auto take = [&](bool at_eof) {
        auto announced = p.body_announced();
        auto resp = p.take();
        check_response(resp, limits, arrived, announced, at_eof);
        out.responses += describe(resp);
        out.responses += '\n';
    };
    auto failed = [&] {
        out.final_status = p.error().status;
        TMON_FUZZ_CHECK(out.final_status >= 400 && out.final_status < 600);
        TMON_FUZZ_CHECK(!p.error().detail.empty());
        // failed is sticky: more bytes, or the end of the connection, change nothing
        TMON_FUZZ_CHECK(p.parse() == http::parse_status::failed);
        p.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        TMON_FUZZ_CHECK(p.parse() == http::parse_status::failed);
        TMON_FUZZ_CHECK(!p.finish_at_eof());
        TMON_FUZZ_CHECK(p.error().status == out.final_status);
        return out;
    };
    for (std::string_view piece : fuzz::cut(stream, how, seed)) {
        if (++read_no % 2 == 0) {  // the client's path: read straight into the parser's buffer
            auto room = p.prepare(piece.size() + 7);
            std::memcpy(room.data(), piece.data(), piece.size());
            p.commit(piece.size());
        } else {
            p.feed(piece);
        }
        arrived += piece.size();
        while (true) {
            auto st = p.parse();
            TMON_FUZZ_CHECK(st != http::parse_status::head_complete);  // the client never asks for it
            if (st == http::parse_status::failed) return failed();
            if (st == http::parse_status::need_more) break;
            take(false);
        }
        TMON_FUZZ_CHECK(p.buffered() <= arrived);
    }
    // The connection ends: a close-delimited response completes, anything else
    // is cut short (the client's transfer_error).
    if (p.finish_at_eof()) {
        TMON_FUZZ_CHECK(p.parse() == http::parse_status::complete);
        take(true);
        out.at_eof = true;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view stream(reinterpret_cast<const char*>(data), size);
    const std::uint64_t seed = fuzz::hash_bytes(stream);
    const http::parser_limits limit_sets[] = {
        {.max_header_bytes = 64 * 1024, .max_body_bytes = 256u << 20},  // client_connection's
        {.max_header_bytes = 96, .max_body_bytes = 24},
    };
    for (const auto& limits : limit_sets) {
        outcome whole = parse_stream(stream, limits, split::whole, seed);
        outcome bytewise = size <= 16384 ? parse_stream(stream, limits, split::bytewise, seed) : whole;
        outcome random = parse_stream(stream, limits, split::random, seed);
        TMON_FUZZ_CHECK(whole.responses == bytewise.responses);
        TMON_FUZZ_CHECK(whole.final_status == bytewise.final_status);
        TMON_FUZZ_CHECK(whole.at_eof == bytewise.at_eof);
        TMON_FUZZ_CHECK(whole.responses == random.responses);
        TMON_FUZZ_CHECK(whole.final_status == random.final_status);
        TMON_FUZZ_CHECK(whole.at_eof == random.at_eof);
    }
    return 0;
}
