#pragma once
// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above
// U+10FFFF. One definition for every place that checks text from outside: the
// stores' write checks, WebSocket text frames (RFC 6455 closes with 1007 on
// invalid text), and escaping peer text for logs.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tmon::detail {

// Length of the valid multi-byte UTF-8 sequence at s[i] (s[i] >= 0x80) and its
// code point; 0 if invalid.
constexpr std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra;
    std::uint32_t min;
    if ((c & 0xE0) == 0xC0) extra = 1, cp = c & 0x1Fu, min = 0x80;
    else if ((c & 0xF0) == 0xE0) extra = 2, cp = c & 0x0Fu, min = 0x800;
    else if ((c & 0xF8) == 0xF0) extra = 3, cp = c & 0x07u, min = 0x10000;
    else return 0;
    if (i + extra >= s.size()) return 0;
    for (std::size_t k = 1; k <= extra; ++k) {
        auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return extra + 1;
}

// No byte above 0x7f, eight at a time: the monitor's hot path asks this of
// every key before anything slower.
inline bool is_ascii(std::string_view s) noexcept {
    std::size_t i = 0, n = s.size();
    std::uint64_t high = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        high |= w;
    }
    for (; i < n; ++i) high |= static_cast<unsigned char>(s[i]);
    return (high & 0x8080808080808080ull) == 0;
}

// Cheap for ASCII (one compare per byte), which is what keys and names mostly are.
constexpr bool is_valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0, n = s.size();
    while (i < n) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        std::size_t len = utf8_sequence(s, i, cp);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

// Offset of the first byte that is not part of valid UTF-8, or s.size().
constexpr std::size_t first_invalid_utf8(std::string_view s) noexcept {
    std::size_t i = 0, n = s.size();
    while (i < n) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        std::size_t len = utf8_sequence(s, i, cp);
        if (len == 0) return i;
        i += len;
    }
    return n;
}

}  // namespace tmon::detail
