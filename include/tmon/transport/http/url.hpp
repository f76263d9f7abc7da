#pragma once
// Percent-decoding shared by the request parser (paths) and the query parser.
#include <optional>
#include <string>
#include <string_view>

namespace tmon::http {

namespace detail {
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace detail

// nullopt for a malformed escape ("%4", "%zz") or an encoded NUL, which no
// path or parameter legitimately carries. plus_is_space is for query strings
// (application/x-www-form-urlencoded), never for paths.
inline std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            int hi = detail::hex_value(in[i + 1]);
            int lo = detail::hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            char decoded = static_cast<char>(hi * 16 + lo);
            if (decoded == '\0') return std::nullopt;
            out.push_back(decoded);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace tmon::http
