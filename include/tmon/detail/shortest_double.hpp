#pragma once
// A finite double as fmt writes it with "{}": the shortest digits that read
// back to the same value, in fixed notation for decimal exponents in [-4, 16)
// and as d.ddde+XX otherwise ("0.25", "100", "1e+16", "1.5e-05", "-0").
// std::to_chars finds the digits (libstdc++ and libc++ compile it once, in
// the library); laying them out here costs a TU far less than instantiating
// fmt's float formatter, which every TU that formats JSON would otherwise do.
#include <charconv>
#include <cstddef>
#include <cstring>

#if !defined(__cpp_lib_to_chars)
#include <fmt/format.h>
#endif

namespace tmon::detail {

// Enough for "-d.dddddddddddddddde-308" and the fixed forms ("0.0001" + 17 digits).
inline constexpr std::size_t max_shortest_double_chars = 32;

// Writes v (finite) at out, which has max_shortest_double_chars; returns the end.
inline char* write_shortest_double(char* out, double v) {
#if defined(__cpp_lib_to_chars)
    char sci[max_shortest_double_chars];
    const char* const end = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific).ptr;
    const char* p = sci;  // [-]d[.ddd]e(+|-)dd[d]
    if (*p == '-') *out++ = *p++;
    char digits[20];
    int n = 0;
    for (; *p != 'e'; ++p)
        if (*p != '.') digits[n++] = *p;
    ++p;
    const bool negative_exp = *p++ == '-';
    int exp = 0;
    for (; p != end; ++p) exp = exp * 10 + (*p - '0');
    if (negative_exp) exp = -exp;

    if (exp < -4 || exp >= 16) {
        *out++ = digits[0];
        if (n > 1) {
            *out++ = '.';
            std::memcpy(out, digits + 1, static_cast<std::size_t>(n - 1));
            out += n - 1;
        }
        *out++ = 'e';
        *out++ = exp < 0 ? '-' : '+';
        int e = exp < 0 ? -exp : exp;
        if (e >= 100) {
            *out++ = static_cast<char>('0' + e / 100);
            e %= 100;
        }
        *out++ = static_cast<char>('0' + e / 10);
        *out++ = static_cast<char>('0' + e % 10);
    } else if (exp >= n - 1) {  // an integer: the digits, then zeros
        std::memcpy(out, digits, static_cast<std::size_t>(n));
        out += n;
        for (int i = n - 1; i < exp; ++i) *out++ = '0';
    } else if (exp >= 0) {  // the point inside the digits
        std::memcpy(out, digits, static_cast<std::size_t>(exp + 1));
        out += exp + 1;
        *out++ = '.';
        std::memcpy(out, digits + exp + 1, static_cast<std::size_t>(n - exp - 1));
        out += n - exp - 1;
    } else {  // 0.000ddd
        *out++ = '0';
        *out++ = '.';
        for (int i = -1; i > exp; --i) *out++ = '0';
        std::memcpy(out, digits, static_cast<std::size_t>(n));
        out += n;
    }
    return out;
#else
    return fmt::format_to(out, "{}", v);
#endif
}

}  // namespace tmon::detail
