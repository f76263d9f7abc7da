#pragma once
// Who wrote: a remote trainer names its machine and rank in X-Tmon-Host and
// X-Tmon-Rank on every request (docs/API.md, "Remote trainers"), so one run
// with many ranks stays one run. A body's "host"/"rank" overrides the headers.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "tmon/server/http_error.hpp"
#include "tmon/transport/http/message.hpp"

namespace tmon {

inline constexpr int max_trainer_rank = 65535;

struct trainer_identity {
    std::string host{};  // empty: not given
    int rank = 0;
};

namespace detail {

inline bool is_host_name(std::string_view h, std::size_t max_bytes) {
    if (h.empty() || h.size() > max_bytes) return false;
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                  c == '_';
        if (!ok) return false;
    }
    return true;
}

inline std::optional<int> parse_rank(std::string_view text) {
    int v = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < 0 || v > max_trainer_rank) return std::nullopt;
    return v;
}

}  // namespace detail

// `what` names the header or field in the error.
inline std::string checked_host(std::string_view h, std::size_t max_bytes, std::string_view what, int status) {
    if (!detail::is_host_name(h, max_bytes))
        throw http_error(status, fmt::format("{} must be 1 to {} letters, digits, '.', '-' or '_'", what, max_bytes));
    return std::string(h);
}

// The headers' identity; 400 naming the header for a bad value. Absent headers: empty host, rank 0.
inline trainer_identity identity_from_headers(const http::request& req, std::size_t max_host_bytes) {
    trainer_identity id;
    std::string_view host = req.header_value("X-Tmon-Host");
    std::string_view rank = req.header_value("X-Tmon-Rank");
    bool has_host = false, has_rank = false;
    for (const auto& h : req.headers) {
        has_host = has_host || http::iequals(h.name, "X-Tmon-Host");
        has_rank = has_rank || http::iequals(h.name, "X-Tmon-Rank");
    }
    if (has_host) id.host = checked_host(host, max_host_bytes, "header X-Tmon-Host", 400);
    if (has_rank) {
        auto r = detail::parse_rank(rank);
        if (!r)
            throw malformed(fmt::format("header X-Tmon-Rank must be an integer from 0 to {}, got '{}'",
                                        max_trainer_rank, rank.substr(0, 32)));
        id.rank = *r;
    }
    return id;
}

}  // namespace tmon
