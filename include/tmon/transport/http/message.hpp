#pragma once
// HTTP request/response as the application sees them: already parsed, no Asio.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tmon::http {

struct header {
    std::string name;
    std::string value;
};

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

struct request {
    std::string method;  // "GET"
    std::string target;  // raw request-target, "/api/runs?limit=5"
    std::string path;    // percent-decoded path, "/api/runs"
    std::string query;   // raw query string without '?', "limit=5"
    int version_minor = 1;
    std::vector<header> headers;
    std::string body;
    std::vector<header> trailers;  // after a chunked body; never merged into headers
    std::string remote;            // peer address, for logs

    std::string_view header_value(std::string_view name) const noexcept {
        for (const auto& h : headers)
            if (iequals(h.name, name)) return h.value;
        return {};
    }
};

// A response as a client reads it off the wire (the remote client's side).
struct received_response {
    int status = 0;
    std::string reason;
    int version_minor = 1;
    std::vector<header> headers;
    std::string body;
    std::vector<header> trailers;

    std::string_view header_value(std::string_view name) const noexcept {
        for (const auto& h : headers)
            if (iequals(h.name, name)) return h.value;
        return {};
    }
};

// A response body produced piece by piece, for bodies too large to build
// whole (exports of long runs). The transport sends the head with
// "Transfer-Encoding: chunked", then asks for one piece at a time, and only
// once the previous piece is written: a slow client slows the producer down
// instead of making the server hold the body.
struct body_stream {
    using deliver_fn = std::function<void(std::optional<std::string> chunk)>;
    virtual ~body_stream() = default;
    // Produce the next piece, on any thread, then call deliver once: with
    // bytes (an empty string is skipped), or with nullopt when the body is
    // complete. To abort (a read failed), throw from pull or let deliver go
    // without calling it: the connection is closed without the final chunk,
    // so the client sees a truncated transfer, never a short body that looks
    // whole. Not called for HEAD, 204 or 304.
    virtual void pull(deliver_fn deliver) = 0;
};

struct response {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<header> headers;  // extra headers (ETag, Content-Encoding, Allow...)
    std::string body;
    std::shared_ptr<body_stream> stream;  // set: the body comes from it, and `body` is ignored
};

}  // namespace tmon::http
