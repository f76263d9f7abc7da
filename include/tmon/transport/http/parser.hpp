#pragma once
// Incremental HTTP/1.x parser. Bytes arrive in any split; each call to
// parse() completes at most one message, so a connection can stop between
// pipelined requests (to apply back-pressure, or to hand the rest of the buffer
// to a WebSocket after an upgrade). Errors carry the status to answer with.
// The server reads requests with it (request_parser); the remote client reads
// its responses with the same code (response_parser): one HTTP implementation.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tmon/transport/detail/read_buffer.hpp"
#include "tmon/transport/http/message.hpp"
#include "tmon/transport/http/url.hpp"

namespace tmon::http {

struct parser_limits {
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 64 * 1024 * 1024;
    std::size_t max_request_line_bytes = 8 * 1024;  // -> 414; never more than max_header_bytes
    // parse() stops with head_complete before reading a body, so the caller
    // can choose that request's body limit (limit_body) or refuse it.
    bool stop_after_head = false;
};

struct parse_error {
    int status = 0;      // 400, 413, 414, 431, 501, 505
    std::string detail;  // a sentence for the JSON error body
};

// head_complete only with parser_limits::stop_after_head: the header block of
// a request with a body is parsed (see head()); call parse() again to go on.
enum class parse_status { need_more, head_complete, complete, failed };

namespace detail {

constexpr bool is_token_char(char c) noexcept {
    if (c >= 'a' && c <= 'z') return true;
    if (c >= 'A' && c <= 'Z') return true;
    if (c >= '0' && c <= '9') return true;
    return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}

constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Calls f(token) for each comma-separated element of a header list value.
template <class F>
void for_each_list_token(std::string_view value, F&& f) {
    while (!value.empty()) {
        auto comma = value.find(',');
        f(trim_ows(value.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
}

template <class Message>
bool header_has_token(const Message& r, std::string_view name, std::string_view token) {
    bool found = false;
    for (const auto& h : r.headers)
        if (iequals(h.name, name))
            for_each_list_token(h.value, [&](std::string_view t) { found = found || iequals(t, token); });
    return found;
}

}  // namespace detail

// HTTP/1.1 stays open unless "Connection: close"; HTTP/1.0 closes unless "Connection: keep-alive".
template <class Message>
bool wants_keep_alive(const Message& r) {
    if (detail::header_has_token(r, "Connection", "close")) return false;
    if (r.version_minor == 0) return detail::header_has_token(r, "Connection", "keep-alive");
    return true;
}

inline bool is_upgrade_to_websocket(const request& r) {
    return detail::header_has_token(r, "Connection", "upgrade") && iequals(r.header_value("Upgrade"), "websocket");
}

template <class Message>
class basic_parser {
    static constexpr bool is_response = std::is_same_v<Message, received_response>;

public:
    explicit basic_parser(parser_limits limits = {}) : limits_(limits) {}

    // Reading straight into the parser's buffer saves a copy per read:
    // socket.read_some(buffer(p.prepare(n))) then p.commit(got).
    std::span<char> prepare(std::size_t n) { return buf_.prepare(n); }
    void commit(std::size_t n) noexcept { buf_.commit(n); }
    void feed(std::string_view bytes) { buf_.append(bytes); }

    // Completes at most one request from the buffered bytes.
    parse_status parse() {
        while (true) {
            switch (state_) {
                case state::headers:
                    if (!parse_header_block()) return settle();
                    if (state_ == state::fixed_body || state_ == state::chunk_size) {
                        if (limits_.stop_after_head) {
                            after_head_ = state_;
                            state_ = state::head_ready;
                            return parse_status::head_complete;
                        }
                        note_expect_continue();
                    }
                    break;
                case state::head_ready:
                    state_ = after_head_;
                    if (state_ == state::fixed_body) {
                        if (body_remaining_ > body_limit_) {
                            fail(413, "the request body is larger than the server accepts");
                            return parse_status::failed;
                        }
                        current_.body.reserve(std::min<std::size_t>(body_remaining_, 1 << 20));
                    }
                    note_expect_continue();
                    break;
                case state::fixed_body:
                    if (!read_fixed_body()) return settle();
                    break;
                case state::chunk_size:
                    if (!read_chunk_size()) return settle();
                    break;
                case state::chunk_data:
                    if (!read_chunk_data()) return settle();
                    break;
                case state::chunk_data_end:
                    if (!read_chunk_data_end()) return settle();
                    break;
                case state::trailers:
                    if (!read_trailers()) return settle();
                    break;
                case state::until_eof:
                    if (pending().size() > body_limit_ - std::min(body_limit_, current_.body.size())) {
                        fail(413, "the response body is larger than the client accepts");
                        return parse_status::failed;
                    }
                    current_.body.append(pending());
                    consume(pending().size());
                    return parse_status::need_more;
                case state::done: return parse_status::complete;
                case state::failed: return parse_status::failed;
            }
        }
    }

    // The completed message; the parser then starts on the next one.
    Message take() {
        Message out = std::move(current_);
        current_ = Message{};
        state_ = state::headers;
        line_start_ = search_ = 0;
        body_remaining_ = chunked_total_ = trailer_bytes_ = announced_ = 0;
        body_limit_ = limits_.max_body_bytes;
        continue_pending_ = false;
        return out;
    }

    // After head_complete: the request so far (no body yet).
    const Message& head() const noexcept { return current_; }

    // A response framed by the end of the connection (no Content-Length, not
    // chunked) is complete when the peer closes: call this on EOF.
    bool finish_at_eof() noexcept {
        if (state_ != state::until_eof) return false;
        current_.body.append(pending());
        consume(pending().size());
        state_ = state::done;
        return true;
    }
    // After head_complete: this request's body limit instead of max_body_bytes.
    void limit_body(std::size_t max_bytes) noexcept { body_limit_ = max_bytes; }
    // The declared Content-Length, or nullopt for a chunked body or none.
    std::optional<std::size_t> content_length() const noexcept {
        if (state_ == state::head_ready && after_head_ == state::fixed_body) return announced_;
        if (state_ == state::fixed_body) return announced_;
        return std::nullopt;
    }
    // Body bytes the current request has announced so far: its Content-Length,
    // or the sum of the chunk sizes read. What a caller must be ready to hold.
    std::size_t body_announced() const noexcept { return reading_body() || state_ == state::done ? announced_ : 0; }

    const parse_error& error() const noexcept { return error_; }

    // True once per request whose headers asked for "Expect: 100-continue"
    // and whose body has not fully arrived: the caller answers "100 Continue".
    bool take_expect_continue() noexcept { return std::exchange(continue_pending_, false); }

    // Bytes after the last taken request, for the protocol an upgrade switches to.
    std::string take_buffered() {
        std::string out{buf_.data()};
        buf_.consume(out.size());
        return out;
    }

    std::size_t buffered() const noexcept { return buf_.size(); }
    // No byte of a next request has arrived (the connection is idle).
    bool between_requests() const noexcept { return state_ == state::headers && buffered() == 0; }
    bool reading_body() const noexcept {
        return state_ == state::head_ready || state_ == state::fixed_body || state_ == state::chunk_size ||
               state_ == state::chunk_data || state_ == state::chunk_data_end || state_ == state::trailers;
    }

private:
    enum class state {
        headers,
        head_ready,
        fixed_body,
        chunk_size,
        chunk_data,
        chunk_data_end,
        trailers,
        until_eof,
        done,
        failed
    };

    parse_status settle() const noexcept {
        if (state_ == state::failed) return parse_status::failed;
        if (state_ == state::done) return parse_status::complete;
        return parse_status::need_more;
    }

    bool fail(int status, std::string detail) {
        error_ = {status, std::move(detail)};
        state_ = state::failed;
        return false;
    }

    std::string_view pending() const noexcept { return buf_.data(); }
    void consume(std::size_t n) noexcept { buf_.consume(n); }

    // The request line's limit, capped by the header block's so that a long
    // request line is 414 however its bytes were split across reads.
    std::size_t request_line_limit() const noexcept {
        return std::min(limits_.max_request_line_bytes, limits_.max_header_bytes);
    }

    // Finds the blank line ending the header block. line_start_ and search_
    // remember how far earlier calls got, so a byte-at-a-time sender costs
    // O(n), not O(n^2). Lines end with CRLF only: a bare LF is where
    // front-ends and back-ends disagree on framing (request smuggling).
    bool parse_header_block() {
        while (true) {
            std::string_view buf = pending();
            auto nl = buf.find('\n', search_);
            if (nl == std::string_view::npos) {
                if (line_start_ == 0 && buf.size() > request_line_limit())
                    return fail(414, "the request line is longer than the server accepts");
                if (buf.size() > limits_.max_header_bytes)
                    return fail(431, "the request header block is larger than the server accepts");
                search_ = buf.size();
                return false;
            }
            if (line_start_ == 0 && nl > request_line_limit())
                return fail(414, "the request line is longer than the server accepts");
            if (nl + 1 > limits_.max_header_bytes)
                return fail(431, "the request header block is larger than the server accepts");
            if (nl == 0 || buf[nl - 1] != '\r') return fail(400, "header lines must end with CRLF");
            std::string_view line = buf.substr(line_start_, nl - 1 - line_start_);
            if (line.empty()) {
                if (line_start_ == 0) {  // blank lines before a request line are tolerated (RFC 9112 2.2)
                    consume(nl + 1);
                    search_ = 0;
                    continue;
                }
                if (!interpret_headers(buf.substr(0, line_start_))) return false;
                consume(nl + 1);
                line_start_ = search_ = 0;
                return true;
            }
            line_start_ = search_ = nl + 1;
        }
    }

    bool interpret_headers(std::string_view block) {
        auto nl = block.find('\n');
        std::string_view line = block.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if constexpr (is_response) {
            if (!parse_status_line(line)) return false;
        } else {
            if (!parse_request_line(line)) return false;
        }
        block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
        while (!block.empty()) {
            nl = block.find('\n');
            line = block.substr(0, nl);
            block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (!parse_header_line(line, current_.headers)) return false;
        }
        if constexpr (!is_response) {
            std::size_t hosts = 0;
            for (const auto& h : current_.headers) hosts += iequals(h.name, "Host") ? 1 : 0;
            if (hosts > 1) return fail(400, "a request may carry only one Host header");
            if (hosts == 0 && current_.version_minor == 1)
                return fail(400, "an HTTP/1.1 request must carry a Host header");
        } else {
            // RFC 9112 6.3: these never have a body, whatever the headers say.
            if (current_.status < 200 || current_.status == 204 || current_.status == 304) {
                state_ = state::done;
                return true;
            }
        }
        return choose_body_framing();
    }

    // "HTTP/1.1 200 OK" (the reason phrase may be empty).
    bool parse_status_line(std::string_view line) {
        if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[6] != '.' || line[8] != ' ' || line[5] != '1' ||
            (line[7] != '0' && line[7] != '1'))
            return fail(502, "the response does not start with an HTTP/1.x status line");
        int status = 0;
        for (std::size_t i = 9; i < 12; ++i) {
            if (line[i] < '0' || line[i] > '9') return fail(502, "the response status is not a 3-digit number");
            status = status * 10 + (line[i] - '0');
        }
        if (line.size() > 12 && line[12] != ' ') return fail(502, "the response status is not a 3-digit number");
        // 000..099 is no status at all (RFC 9110 15); framing it as a bodiless 1xx would desynchronise the connection.
        if (status < 100) return fail(502, "the response status is below 100");
        std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view{};
        // The reason ends up in the client's log lines: no control characters, as in header values.
        for (char c : reason)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                return fail(502, "the response reason phrase contains a control character");
        current_.version_minor = line[7] - '0';
        current_.status = status;
        current_.reason.assign(reason);
        return true;
    }

    bool parse_request_line(std::string_view line) {
        auto sp1 = line.find(' ');
        auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
            return fail(400, "the request line must be 'METHOD target HTTP/1.x'");
        std::string_view method = line.substr(0, sp1);
        std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::string_view version = line.substr(sp2 + 1);
        if (!detail::is_token(method)) return fail(400, "the request method is not a valid token");
        if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
            version[5] > '9' || version[7] < '0' || version[7] > '9')
            return fail(400, "the request line does not end with an HTTP version");
        if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
            return fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
        current_.version_minor = version[7] - '0';
        current_.method.assign(method);
        return parse_target(target);
    }

    bool parse_target(std::string_view target) {
        if (target.empty()) return fail(400, "the request target is empty");
        for (char c : target)
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
                return fail(400, "the request target contains a control character");
        current_.target.assign(target);
        std::string_view origin = target;
        if (origin.starts_with("http://") || origin.starts_with("https://")) {  // absolute-form
            auto authority = origin.find("//") + 2;
            auto slash = origin.find_first_of("/?", authority);
            origin = slash == std::string_view::npos ? std::string_view{"/"} : origin.substr(slash);
        }
        if (origin == "*") {
            current_.path = "*";
            return true;
        }
        if (origin.front() != '/') return fail(400, "the request target must start with '/'");
        // A fragment ends the target, even before a '?': "/a#b?c" has no query.
        if (auto fragment = origin.find('#'); fragment != std::string_view::npos) origin = origin.substr(0, fragment);
        auto q = origin.find('?');
        std::string_view raw_path = origin.substr(0, q);
        if (q != std::string_view::npos) current_.query.assign(origin.substr(q + 1));
        if (raw_path.find('%') == std::string_view::npos) {
            current_.path.assign(raw_path);
        } else {
            auto decoded = percent_decode(raw_path);
            if (!decoded) return fail(400, "the request path has a malformed percent-escape");
            current_.path = std::move(*decoded);
        }
        return true;
    }

    bool parse_header_line(std::string_view line, std::vector<header>& into) {
        if (line.empty() || line.front() == ' ' || line.front() == '\t')
            return fail(400, "folded header lines are not accepted");
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return fail(400, "a header line has no ':'");
        std::string_view name = line.substr(0, colon);
        if (!detail::is_token(name)) return fail(400, "a header name is not a valid token");
        std::string_view value = detail::trim_ows(line.substr(colon + 1));
        for (char c : value)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                return fail(400, "a header value contains a control character");
        into.push_back(header{std::string{name}, std::string{value}});
        return true;
    }

    bool choose_body_framing() {
        std::string_view te, cl;
        bool has_te = false, has_cl = false;
        for (const auto& h : current_.headers) {
            if (iequals(h.name, "Transfer-Encoding")) {
                if (has_te) return fail(501, "only a single 'Transfer-Encoding: chunked' is supported");
                has_te = true;
                te = h.value;
            } else if (iequals(h.name, "Content-Length")) {
                if (has_cl && cl != h.value) return fail(400, "conflicting Content-Length headers");
                has_cl = true;
                cl = h.value;
            }
        }
        if (has_te) {
            // RFC 9112 6.1: HTTP/1.0 has no chunked coding; a 1.0 request using it is
            // either broken or built to desynchronise a proxy.
            if (current_.version_minor == 0) return fail(400, "an HTTP/1.0 request may not use Transfer-Encoding");
            if (!iequals(te, "chunked")) return fail(501, "only 'Transfer-Encoding: chunked' is supported");
            if (has_cl) return fail(400, "a request may not carry both Content-Length and Transfer-Encoding");
            chunked_total_ = 0;
            state_ = state::chunk_size;
            return true;
        }
        if constexpr (is_response) {
            if (!has_cl) {
                state_ = state::until_eof;
                return true;
            }
        }
        std::size_t length = 0;
        if (has_cl && !parse_decimal(cl, length)) return fail(400, "Content-Length is not a decimal number");
        // With stop_after_head the caller may still change the limit: checked on resuming.
        if (!limits_.stop_after_head && length > body_limit_)
            return fail(413, "the request body is larger than the server accepts");
        body_remaining_ = length;
        announced_ = length;
        if (length == 0) {
            state_ = state::done;
            return true;
        }
        if (!limits_.stop_after_head) current_.body.reserve(std::min<std::size_t>(length, 1 << 20));
        state_ = state::fixed_body;
        return true;
    }

    static bool parse_decimal(std::string_view s, std::size_t& out) noexcept {
        if (s.empty() || s.size() > 18) return false;
        out = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            out = out * 10 + static_cast<std::size_t>(c - '0');
        }
        return true;
    }

    void note_expect_continue() {
        continue_pending_ =
            current_.version_minor == 1 && iequals(current_.header_value("Expect"), "100-continue") && buffered() == 0;
    }

    bool read_fixed_body() {
        std::string_view buf = pending();
        std::size_t n = std::min(buf.size(), body_remaining_);
        current_.body.append(buf.data(), n);
        consume(n);
        body_remaining_ -= n;
        if (body_remaining_ > 0) return false;
        state_ = state::done;
        return true;
    }

    // Reads one CRLF-terminated line (without the terminator), or false if incomplete.
    bool take_line(std::string_view& line, std::size_t max_len) {
        std::string_view buf = pending();
        auto nl = buf.find('\n');
        if (nl == std::string_view::npos) {
            if (buf.size() > max_len) fail(400, "a chunk-size or trailer line is too long");
            return false;
        }
        if (nl > max_len) return fail(400, "a chunk-size or trailer line is too long");
        if (nl == 0 || buf[nl - 1] != '\r') return fail(400, "chunk-size and trailer lines must end with CRLF");
        line_.assign(buf.data(), nl - 1);
        consume(nl + 1);
        line = line_;
        return true;
    }

    bool read_chunk_size() {
        std::string_view line;
        if (!take_line(line, 1024)) return false;
        line = detail::trim_ows(line.substr(0, line.find(';')));
        if (line.empty() || line.size() > 15) return fail(400, "a chunk size is not a hexadecimal number");
        std::size_t size = 0;
        for (char c : line) {
            int v = hex_value(c);
            if (v < 0) return fail(400, "a chunk size is not a hexadecimal number");
            size = size * 16 + static_cast<std::size_t>(v);
        }
        if (size > body_limit_ - std::min(body_limit_, chunked_total_))
            return fail(413, "the request body is larger than the server accepts");
        chunked_total_ += size;
        announced_ = chunked_total_;
        body_remaining_ = size;
        state_ = size == 0 ? state::trailers : state::chunk_data;
        return true;
    }

    bool read_chunk_data() {
        std::string_view buf = pending();
        std::size_t n = std::min(buf.size(), body_remaining_);
        current_.body.append(buf.data(), n);
        consume(n);
        body_remaining_ -= n;
        if (body_remaining_ > 0) return false;
        state_ = state::chunk_data_end;
        return true;
    }

    bool read_chunk_data_end() {
        std::string_view line;
        if (!take_line(line, 2)) return false;
        if (!line.empty()) return fail(400, "chunk data is not followed by CRLF");
        state_ = state::chunk_size;
        return true;
    }

    // Trailers are kept apart from the headers: they arrive after the
    // application's checks on the headers (auth, content type) would have run.
    bool read_trailers() {
        while (true) {
            std::string_view line;
            if (!take_line(line, limits_.max_header_bytes)) return false;
            if (line.empty()) {
                state_ = state::done;
                return true;
            }
            trailer_bytes_ += line.size();
            if (trailer_bytes_ > limits_.max_header_bytes)
                return fail(431, "the request trailers are larger than the server accepts");
            if (!parse_header_line(line, current_.trailers)) return false;
        }
    }

    static int hex_value(char c) noexcept { return http::detail::hex_value(c); }

    parser_limits limits_;
    std::size_t body_limit_ = limits_.max_body_bytes;
    tmon::detail::read_buffer buf_;
    std::size_t line_start_ = 0;  // offset of the header line being looked at
    std::size_t search_ = 0;      // offset to look for its end from
    state state_ = state::headers;
    Message current_;
    parse_error error_;
    std::size_t body_remaining_ = 0;
    std::size_t chunked_total_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t announced_ = 0;       // see body_announced()
    state after_head_ = state::done;  // where head_ready resumes
    bool continue_pending_ = false;
    std::string line_;
};

using request_parser = basic_parser<request>;
using response_parser = basic_parser<received_response>;

}  // namespace tmon::http
