#pragma once
// Keeps web pages out when no token is set (the default on a laptop or a
// shared GPU box). Two checks, before auth and routing:
//  - Host (DNS rebinding): while the server listens on a loopback address, a
//    request must name that address, localhost, or a name given with
//    --allowed-host; an attacker's domain re-pointed at 127.0.0.1 is answered
//    421. On other addresses remote trainers and proxies use real names, so
//    only --allowed-host applies there (when given) and the token protects.
//  - Origin (cross-site writes and WebSocket reads): a browser names the page
//    that sent a request. A state-changing request or a WebSocket handshake
//    that carries an Origin must come from the server's own origin (the Host it
//    was sent to) or the --cors-origin; anything else is answered 403.
//    Trainers, curl and proxies send no Origin and are not affected.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tmon/transport/http/errors.hpp"
#include "tmon/transport/http/message.hpp"

namespace tmon {

namespace detail {

// "127.0.0.1:8000" -> "127.0.0.1", "[::1]:8000" -> "[::1]", "Example.com" -> "Example.com".
inline std::string_view host_without_port(std::string_view host) {
    if (host.starts_with('[')) {
        auto close = host.find(']');
        return close == std::string_view::npos ? host : host.substr(0, close + 1);
    }
    auto colon = host.rfind(':');
    return colon == std::string_view::npos ? host : host.substr(0, colon);
}

inline bool is_loopback_name(std::string_view host) {
    return host.starts_with("127.") || host == "::1" || host == "[::1]" || http::iequals(host, "localhost");
}

inline bool is_state_changing(std::string_view method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace detail

class request_guard {
public:
    request_guard(std::string bind_host, std::vector<std::string> allowed_hosts, std::string cors_origin)
        : bind_host_(std::move(bind_host)),
          allowed_hosts_(std::move(allowed_hosts)),
          cors_origin_(std::move(cors_origin)),
          loopback_(detail::is_loopback_name(bind_host_)) {}

    bool loopback_only() const noexcept { return loopback_; }

    // A refusal for a plain request, or nullopt to go on.
    std::optional<http::response> check(const http::request& req) const {
        if (auto r = check_host(req)) return r;
        if (detail::is_state_changing(req.method)) return check_origin(req);
        return std::nullopt;
    }

    // A WebSocket handshake is a read of everything live: Origin always applies.
    std::optional<http::response> check_upgrade(const http::request& req) const {
        if (auto r = check_host(req)) return r;
        return check_origin(req);
    }

    bool host_allowed(std::string_view host_header) const {
        std::string_view host = detail::host_without_port(host_header);
        for (const auto& h : allowed_hosts_)
            if (http::iequals(host, h) || http::iequals(host_header, h)) return true;
        if (!loopback_) return allowed_hosts_.empty();
        return detail::is_loopback_name(host) || http::iequals(host, bind_host_);
    }

    bool origin_allowed(std::string_view origin, std::string_view host_header) const {
        if (!cors_origin_.empty() && (cors_origin_ == "*" || origin == cors_origin_)) return true;
        // Same origin: the page was served by this server under the name it used to reach it.
        if (host_header.empty()) return false;
        for (std::string_view scheme : {"http://", "https://"})
            if (origin.size() == scheme.size() + host_header.size() && origin.starts_with(scheme) &&
                http::iequals(origin.substr(scheme.size()), host_header))
                return true;
        return false;
    }

private:
    std::optional<http::response> check_host(const http::request& req) const {
        std::string_view host = req.header_value("Host");
        if (host.empty() || host_allowed(host)) return std::nullopt;
        return http::error_response(
            421,
            fmt::format("this server does not answer to the name '{}' (start it with --allowed-host {} to allow it)",
                        host.substr(0, 255), detail::host_without_port(host.substr(0, 255))));
    }

    std::optional<http::response> check_origin(const http::request& req) const {
        std::string_view origin = req.header_value("Origin");
        if (origin.empty()) return std::nullopt;
        if (origin_allowed(origin, req.header_value("Host"))) return std::nullopt;
        return http::error_response(
            403, fmt::format("requests from the web page at '{}' are not allowed (start the server with "
                             "--cors-origin {} to allow that page)",
                             origin.substr(0, 255), origin.substr(0, 255)));
    }

    std::string bind_host_;
    std::vector<std::string> allowed_hosts_;
    std::string cors_origin_;
    bool loopback_;
};

}  // namespace tmon
