#pragma once
// Every error leaves as JSON {"error": "<kind>", "detail": "<sentence>"} (docs/API.md).
#include <string>
#include <string_view>

#include "tmon/detail/json_write.hpp"
#include "tmon/transport/http/message.hpp"

namespace tmon::http {

constexpr std::string_view error_kind(int status) noexcept {
    switch (status) {
        case 400: return "bad_request";
        case 401: return "unauthorized";
        case 403: return "forbidden";
        case 404: return "not_found";
        case 405: return "method_not_allowed";
        case 408: return "request_timeout";
        case 409: return "conflict";
        case 413: return "too_large";
        case 414: return "uri_too_long";
        case 415: return "unsupported_media_type";
        case 421: return "misdirected_request";
        case 422: return "invalid_argument";
        case 426: return "upgrade_required";
        case 431: return "header_too_large";
        case 501: return "not_implemented";
        case 503: return "unavailable";
        case 505: return "http_version_not_supported";
        default: return status >= 500 ? "internal" : "bad_request";
    }
}

inline response error_response(int status, std::string_view detail, std::string_view kind = {}) {
    response r;
    r.status = status;
    tmon::detail::json_writer w(r.body);
    w.begin_object().field("error", kind.empty() ? error_kind(status) : kind).field("detail", detail).end_object();
    return r;
}

}  // namespace tmon::http
