#pragma once
#include <stdexcept>
#include <string>

namespace tmon {

// Kinds map one-to-one onto HTTP statuses in the server, so a store's refusal
// reaches a REST client with the right code and no translation table elsewhere.
enum class errc {
    invalid_argument,  // 400/422: bad value (NaN where not allowed, empty name...)
    not_found,         // 404: unknown run / checkpoint
    conflict,          // 409: invalid status transition, duplicate id
    too_large,         // 413: over a configured cap
    unavailable,       // 503: store closed, disk full, queue full
    internal,          // 500
};

constexpr const char* errc_name(errc e) noexcept {
    switch (e) {
        case errc::invalid_argument: return "invalid_argument";
        case errc::not_found: return "not_found";
        case errc::conflict: return "conflict";
        case errc::too_large: return "too_large";
        case errc::unavailable: return "unavailable";
        case errc::internal: return "internal";
    }
    return "internal";
}

class error : public std::runtime_error {
public:
    error(errc code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
    errc code() const noexcept { return code_; }

private:
    errc code_;
};

}  // namespace tmon
