#pragma once
// Peer-supplied text (a method, a percent-decoded path, a close reason) made
// safe to put in a log line. A path may decode "%0a" to a newline: written
// as-is it would end the line and let the client forge the next one. Here
// control characters, DEL, a backslash (so escapes stay unambiguous), bytes
// that are not valid UTF-8, C1 controls, line separators and bidi overrides
// become \xHH or \u{XXXX}; readable UTF-8 is kept. Long text is cut.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tmon/detail/utf8.hpp"

namespace tmon::http {

namespace detail {

// Code points that move or hide text in a terminal or a log viewer.
constexpr bool is_disruptive(std::uint32_t cp) noexcept {
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0xFEFF;
}

inline void append_hex(std::string& out, std::uint32_t v, int digits) {
    constexpr char hex[] = "0123456789abcdef";
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(hex[(v >> shift) & 0xF]);
}

}  // namespace detail

inline std::string loggable(std::string_view text, std::size_t max_bytes = 512) {
    std::string out;
    std::size_t shown = text.size() > max_bytes ? max_bytes : text.size();
    out.reserve(shown + 16);
    std::size_t i = 0;
    while (i < shown) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) {
            if (c == '\\') out += "\\\\";
            else out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        std::size_t n = c >= 0x80 ? tmon::detail::utf8_sequence(text, i, cp) : 0;
        if (n != 0 && i + n <= shown && !detail::is_disruptive(cp)) {
            out.append(text.substr(i, n));
            i += n;
        } else if (n != 0 && i + n <= shown) {
            out += "\\u{";
            detail::append_hex(out, cp, 4);
            out += '}';
            i += n;
        } else {
            out += "\\x";
            detail::append_hex(out, c, 2);
            ++i;
        }
    }
    if (shown < text.size()) {
        out += "...(";
        out += std::to_string(text.size() - shown);
        out += " more bytes)";
    }
    return out;
}

}  // namespace tmon::http
