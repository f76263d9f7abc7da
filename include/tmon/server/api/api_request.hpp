#pragma once
// What a REST handler is given (api_request) and the helpers it answers with,
// tmon's routes and the embedding program's alike (server::get and friends).
// Light on purpose: tmon/server.hpp names it in the server's declaration.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tmon/server/api/route_query.hpp"
#include "tmon/server/http_error.hpp"
#include "tmon/server/request_limits.hpp"
#include "tmon/server/trainer_identity.hpp"
#include "tmon/transport/http/message.hpp"

namespace tmon {

namespace detail {
class work_pool;
}  // namespace detail

struct api_request {
    http::request http;
    std::vector<std::pair<std::string, std::string>> params;
    route_query query;
    const request_limits* limits_in_force = nullptr;
    trainer_identity who{};                  // X-Tmon-Host / X-Tmon-Rank
    mutable bool liveness_recorded = false;  // the handler counted the write itself (heartbeat, system)
    // The store-call threads, for a handler whose answer goes on being produced
    // after it returns (a streamed export reads the store piece by piece there).
    detail::work_pool* pool = nullptr;

    const request_limits& limits() const noexcept {
        static const request_limits defaults{};
        return limits_in_force ? *limits_in_force : defaults;
    }

    std::string_view param(std::string_view name) const noexcept {
        for (const auto& [k, v] : params)
            if (k == name) return v;
        return {};
    }
    const std::string& body() const noexcept { return http.body; }

    // ---- query parameters: a bad value is a 400 naming it ----------------
    template <class Int>
    std::optional<Int> int_query(std::string_view name, Int lo = std::numeric_limits<Int>::min(),
                                 Int hi = std::numeric_limits<Int>::max()) const {
        auto raw = query.get(name);
        if (!raw || raw->empty()) return std::nullopt;
        Int v{};
        auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), v);
        if (ec != std::errc{} || end != raw->data() + raw->size() || v < lo || v > hi)
            throw malformed(
                fmt::format("query parameter '{}' must be an integer in [{}, {}], got '{}'", name, lo, hi, *raw));
        return v;
    }

    std::optional<double> number_query(std::string_view name) const {
        auto raw = query.get(name);
        if (!raw || raw->empty()) return std::nullopt;
        double v{};
        auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), v);
        if (ec != std::errc{} || end != raw->data() + raw->size() || !std::isfinite(v))
            throw malformed(fmt::format("query parameter '{}' must be a number, got '{}'", name, *raw));
        return v;
    }
};

// 415 unless the body is declared as exactly application/json (parameters such
// as charset allowed). Browsers cannot send that type cross-site without a CORS
// preflight, which a web page never gets past, so this also keeps forms and
// no-cors fetches from other sites out of every write route.
inline bool is_json_media_type(const http::request& r) {
    std::string_view ct = r.header_value("Content-Type");
    std::string_view type = ct.substr(0, ct.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    return http::iequals(type, "application/json");
}

inline void require_json_body(const api_request& r) {
    std::string_view ct = r.http.header_value("Content-Type");
    if (!is_json_media_type(r.http))
        throw http_error(
            415, ct.empty() ? std::string("a JSON body needs 'Content-Type: application/json'")
                            : fmt::format("expected 'Content-Type: application/json', got '{}'", ct.substr(0, 100)));
}

inline http::response json_response(std::string body, int status = 200) {
    http::response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

// An embedding program's own route (server::get and friends): called on the
// work pool with the request, its captures (r.param("id")) and its declared
// query parameters (r.query); it may throw http_error, tmon::error or any
// std::exception, which become JSON errors as on tmon's own routes.
using user_handler = std::function<http::response(const api_request&)>;

}  // namespace tmon
