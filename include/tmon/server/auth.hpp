#pragma once
// Bearer-token check for REST and the WS handshake. `?token=` is accepted too
// because browsers cannot set headers on a WebSocket.
#include <string>
#include <string_view>

#include "tmon/transport/http/message.hpp"
#include "tmon/transport/http/query.hpp"

namespace tmon {

namespace detail {
// Compares in time independent of where the strings first differ (the length may leak).
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}
}  // namespace detail

class token_auth {
public:
    explicit token_auth(std::string token) : token_(std::move(token)) {}

    bool enabled() const noexcept { return !token_.empty(); }

    bool allows(const http::request& req) const {
        if (!enabled()) return true;
        std::string_view h = req.header_value("Authorization");
        constexpr std::string_view bearer = "Bearer ";
        if (h.size() > bearer.size() && http::iequals(h.substr(0, bearer.size()), bearer) &&
            detail::constant_time_equal(h.substr(bearer.size()), token_))
            return true;
        if (req.query.find("token=") == std::string::npos) return false;
        auto params = http::parse_query(req.query);
        auto t = params.get("token");
        return t && detail::constant_time_equal(*t, token_);
    }

private:
    std::string token_;
};

}  // namespace tmon
