#pragma once
// Serialises a response head. The body is written separately (gathered), so a
// large body is never copied; small bodies may be appended by the caller.
#include <charconv>
#include <ctime>
#include <string>
#include <string_view>

#include "tmon/transport/http/message.hpp"

namespace tmon::http {

constexpr std::string_view reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 421: return "Misdirected Request";
        case 422: return "Unprocessable Content";
        case 426: return "Upgrade Required";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: break;
    }
    if (status < 200) return "Informational";
    if (status < 300) return "Success";
    if (status < 400) return "Redirection";
    if (status < 500) return "Client Error";
    return "Server Error";
}

// 1xx, 204 and 304 never carry a body (RFC 9110 6.4.1).
constexpr bool status_allows_body(int status) noexcept { return status >= 200 && status != 204 && status != 304; }

struct write_options {
    bool keep_alive = true;
    bool head_only = false;        // HEAD: the same head as GET, no body
    std::string_view cors_origin;  // empty: no CORS headers
    bool chunked = false;          // a streamed body in HTTP/1.1: Transfer-Encoding: chunked
};

namespace detail {

// "Date" changes once a second; formatting it per response would cost more
// than the rest of the head, so each thread caches the last one.
inline std::string_view http_date_now() {
    struct cache {
        std::time_t second = -1;
        char text[40] = {};
        std::size_t size = 0;
    };
    thread_local cache c;
    std::time_t now = std::time(nullptr);
    if (now != c.second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        c.size = std::strftime(c.text, sizeof c.text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        c.second = now;
    }
    return {c.text, c.size};
}

inline void append_number(std::string& out, std::size_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
}

}  // namespace detail

inline void append_cors_headers(std::string& out, std::string_view origin) {
    if (origin.empty()) return;
    out += "Access-Control-Allow-Origin: ";
    out += origin;
    out += "\r\n";
    if (origin != "*") out += "Vary: Origin\r\n";
}

inline void append_response_head(std::string& out, const response& r, const write_options& opt) {
    out += "HTTP/1.1 ";
    detail::append_number(out, static_cast<std::size_t>(r.status));
    out += ' ';
    out += reason_phrase(r.status);
    out += "\r\nServer: tmon\r\nDate: ";
    out += detail::http_date_now();
    out += "\r\n";
    if (status_allows_body(r.status)) {
        if (!r.content_type.empty() && (!r.body.empty() || r.stream || opt.head_only)) {
            out += "Content-Type: ";
            out += r.content_type;
            out += "\r\n";
        }
        if (!r.stream) {
            out += "Content-Length: ";
            detail::append_number(out, r.body.size());
            out += "\r\n";
        } else if (opt.chunked) {
            out += "Transfer-Encoding: chunked\r\n";
        }  // else HTTP/1.0: the close ends the body
    }
    out += opt.keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    append_cors_headers(out, opt.cors_origin);
    for (const auto& h : r.headers) {
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
    }
    out += "\r\n";
}

// Whether `body` bytes follow the head on the wire (a stream's are written as they come).
inline bool response_sends_body(const response& r, const write_options& opt) noexcept {
    return !opt.head_only && status_allows_body(r.status) && !r.stream && !r.body.empty();
}

}  // namespace tmon::http
