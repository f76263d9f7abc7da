#pragma once
// The one place where failures become HTTP statuses: a handler throws
// http_error (its own validation) or tmon::error (from a store), and
// to_response turns either into `{"error": kind, "detail": sentence}` with the
// same kinds the transport uses for its own refusals (http/errors.hpp).
#include <stdexcept>
#include <string>
#include <utility>

#include "tmon/core/error.hpp"
#include "tmon/transport/http/errors.hpp"
#include "tmon/transport/http/message.hpp"

namespace tmon {

class http_error : public std::runtime_error {
public:
    http_error(int status, std::string detail, std::string kind = {})
        : std::runtime_error(std::move(detail)), status_(status), kind_(std::move(kind)) {}
    int status() const noexcept { return status_; }
    std::string_view kind() const noexcept { return kind_.empty() ? http::error_kind(status_) : kind_; }

private:
    int status_;
    std::string kind_;
};

inline http_error malformed(std::string detail) { return {400, std::move(detail)}; }
inline http_error invalid(std::string detail) { return {422, std::move(detail)}; }
inline http_error not_found(std::string detail) { return {404, std::move(detail)}; }

constexpr int http_status_of(errc e) noexcept {
    switch (e) {
        case errc::invalid_argument: return 422;
        case errc::not_found: return 404;
        case errc::conflict: return 409;
        case errc::too_large: return 413;
        case errc::unavailable: return 503;
        case errc::internal: return 500;
    }
    return 500;
}

inline http::response to_response(const http_error& e) { return http::error_response(e.status(), e.what(), e.kind()); }
inline http::response to_response(const error& e) { return http::error_response(http_status_of(e.code()), e.what()); }

}  // namespace tmon
