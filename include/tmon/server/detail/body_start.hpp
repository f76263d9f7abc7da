#pragma once
// The first bytes of a large JSON write body, judged while the rest is still
// arriving: a metric batch of 32 MB that starts with 'x' is refused at its
// first byte instead of being read whole first (it used to cost every other
// client's latency while it was buffered). The answer is the very one the
// route gives once it reads the body (same status, same sentence), and the
// transport then closes the connection, since the unread rest cannot be skipped.
#include <string_view>

#include <rapidjson/reader.h>

#include "tmon/detail/json_read.hpp"
#include "tmon/server/http_error.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/transport/http/message.hpp"
#include "tmon/transport/transport_concept.hpp"

namespace tmon::detail {

// Bytes a JSON text may start with (after whitespace): any other byte there
// makes the body invalid whatever follows it.
constexpr bool may_start_json(char c) noexcept {
    switch (c) {
        case '{':
        case '[':
        case '"':
        case '-':
        case 't':
        case 'f':
        case 'n': return true;
        default: return c >= '0' && c <= '9';
    }
}

// The POST routes whose bodies may be megabytes (their limits are the large ones).
inline bool is_bulk_json_route(const http::request& head) {
    if (head.method != "POST") return false;
    if (head.path == "/api/v1/metrics/layerwise") return true;
    constexpr std::string_view runs = "/api/runs/", metrics = "/metrics";
    std::string_view p = head.path;
    if (!p.starts_with(runs) || !p.ends_with(metrics) || p.size() <= runs.size() + metrics.size()) return false;
    std::string_view id = p.substr(runs.size(), p.size() - runs.size() - metrics.size());
    return id.find('/') == std::string_view::npos;
}

// Decided at the first byte that is not whitespace; undecided while there is none.
inline body_start_verdict json_body_start(std::string_view so_far, unsigned max_depth) {
    auto first = so_far.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {.decided = false, .refusal = std::nullopt};
    if (may_start_json(so_far[first])) return {};
    // The reader fails at that byte whatever follows: its own words for it.
    rapidjson::BaseReaderHandler<> ignore;
    auto r = read_json(so_far.substr(0, first + 1), ignore, max_depth);
    if (r) return {};
    try {
        json_body::throw_read_error(r, max_depth);
    } catch (const http_error& e) {
        return {.decided = true, .refusal = to_response(e)};
    }
    return {};
}

}  // namespace tmon::detail
