#pragma once
// metrics.jsonl lines. One line per key per append, in columns, so the key is
// written once and numbers are all a line holds:
//   {"key":"loss","steps":[1,2],"times":[1700000000.5,1700000001],"values":[0.9,0.8]}
// Earlier files hold one point per line, {"key":..,"step":..,"time":..,"value":..};
// both read back, in file order, so the last write of a (key, step) still wins.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tmon/core/types.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/storage/detail/metric_groups.hpp"

namespace tmon::detail {

// The decimal digits of n < 10^8 as eight ASCII bytes, first digit in the
// lowest byte (so a little-endian store writes them in order): a handful of
// multiplies instead of four divisions and table look-ups.
inline std::uint64_t eight_digits(std::uint32_t n) {
    if constexpr (std::endian::native == std::endian::little) {
        std::uint64_t merged = (n / 10000) | (std::uint64_t{n % 10000} << 32);  // two 4-digit halves
        std::uint64_t hundreds_hi = ((merged * 10486) >> 20) & ((0x7FULL << 32) | 0x7F);
        std::uint64_t hundreds = ((merged - 100 * hundreds_hi) << 16) + hundreds_hi;  // four 2-digit lanes
        std::uint64_t tens = ((hundreds * 103) >> 10) & ((0xFULL << 48) | (0xFULL << 32) | (0xFULL << 16) | 0xF);
        tens += (hundreds - 10 * tens) << 8;  // eight 1-digit lanes
        return tens + 0x3030303030303030;
    } else {
        char text[8];
        for (int i = 7; i >= 0; --i) text[i] = static_cast<char>('0' + n % 10), n /= 10;
        return std::bit_cast<std::uint64_t>(text);
    }
}

inline constexpr std::uint64_t powers_of_10[] = {1,
                                                 10,
                                                 100,
                                                 1000,
                                                 10000,
                                                 100000,
                                                 1000000,
                                                 10000000,
                                                 100000000,
                                                 1000000000,
                                                 10000000000,
                                                 100000000000,
                                                 1000000000000,
                                                 10000000000000,
                                                 100000000000000,
                                                 1000000000000000,
                                                 10000000000000000,
                                                 100000000000000000,
                                                 1000000000000000000,
                                                 10000000000000000000ULL};

inline int count_digits(std::uint64_t n) {
    int guess = (std::bit_width(n | 1) * 1233) >> 12;  // log10(2) ~ 1233 / 4096
    return guess + (n >= powers_of_10[guess]);
}

// Bytes write_shortest may touch past `out`: it stores digits 16 at a time
// and lets whatever comes next overwrite the excess.
inline constexpr std::size_t shortest_scratch_bytes = 48;

#if defined(__SIZEOF_INT128__)
__extension__ using uint128 = unsigned __int128;
#endif

// The same text as fmt's "{}" for a finite double (shortest round-trip, fixed
// notation for exponents in [-4, 16)), several times as fast: formatting numbers
// is most of an append's cost, and fmt's general float writer handles specs,
// locales and padding that a bare number never needs. Built on fmt's Dragonbox.
// The digits never go through memory: the significand is scaled to exactly
// 17 digits, so they sit left-aligned in two registers (a 16-byte load of
// bytes just stored one by one would stall waiting for them).
// Writes up to shortest_scratch_bytes at `out`; returns the end of the number.
inline char* write_shortest(char* out, double v) {
#if FMT_VERSION >= 90000 && FMT_VERSION < 120000 && defined(__SIZEOF_INT128__)
    if constexpr (std::endian::native == std::endian::little) {
        if (std::signbit(v)) *out++ = '-', v = -v;
        const auto dec = fmt::detail::dragonbox::to_decimal(v);
        const int n = count_digits(dec.significand | 1);  // | 1: zero has one digit, and no other count changes
        const std::uint64_t sig = dec.significand * powers_of_10[17 - n];  // < 10^17, trailing zeros added
        const std::uint64_t upper = sig / 100000000;
        const char first = static_cast<char>('0' + upper / 100000000);
        const uint128 rest = (uint128{eight_digits(static_cast<std::uint32_t>(sig % 100000000))} << 64) |
                             eight_digits(static_cast<std::uint32_t>(upper % 100000000));  // digits 2 to 17
        auto store16 = [](char* at, uint128 text) { std::memcpy(at, &text, 16); };
        const int output_exp = dec.exponent + n - 1;
        if (output_exp < -4 || output_exp >= 16) {  // 1.5e+20, 1e-05
            *out++ = first;
            if (n > 1) *out++ = '.', store16(out, rest), out += n - 1;
            *out++ = 'e';
            *out++ = output_exp < 0 ? '-' : '+';
            int e = output_exp < 0 ? -output_exp : output_exp;
            if (e >= 100) *out++ = static_cast<char>('0' + e / 100), e %= 100;
            *out++ = static_cast<char>('0' + e / 10);
            *out++ = static_cast<char>('0' + e % 10);
        } else if (dec.exponent >= 0) {  // 1700000000: the added zeros are the integer's own
            *out = first, store16(out + 1, rest);
            out += output_exp + 1;
        } else if (output_exp >= 0) {  // 12.34: all digits, then the fraction again one place on
            const int integer_digits = output_exp + 1;
            *out = first, store16(out + 1, rest);
            out[integer_digits] = '.';
            store16(out + integer_digits + 1, rest >> (8 * (integer_digits - 1)));
            out += n + 1;
        } else {  // 0.001234: at most 3 zeros after the point
            std::memcpy(out, "0.000", 5);
            out += 1 - output_exp;
            *out = first, store16(out + 1, rest);
            out += n;
        }
        return out;
    }
#endif
    return write_shortest_double(out, v);  // the same text, without fmt's float writer compiled in every TU
}

// Formats a batch's lines straight into one buffer sized for the worst case
// up front: formatting numbers is most of an append's cost, so no per-number
// bounds checks, allocation or temporaries. Each distinct time of the batch is
// formatted once (points logged together share their time) and its text
// copied into every line that holds it.
class metric_line_encoder {
public:
    // The bytes stay valid until the next call.
    std::string_view encode(const metric_groups& groups) {
        format_times(groups.distinct_times());
        std::size_t bytes = 3 * groups.points().size() * (max_number_chars + 1) + shortest_scratch_bytes;
        for (std::size_t g = 0; g < groups.size(); ++g) bytes += line_overhead + 6 * groups.key(g).size();
        char* const base = lines_.reserve(bytes);
        char* out = base;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            out = put_key_opening(out, groups.key(g));
            out = put(out, R"(,"steps":[)");
            for (auto s : groups.steps(g)) out = put_step(out, s), *out++ = ',';
            out = put(out - 1, R"(],"times":[)");
            for (auto t : groups.time_indices(g)) out = put_time(out, t), *out++ = ',';
            out = put(out - 1, R"(],"values":[)");
            for (auto v : groups.values(g)) out = put_double(out, v), *out++ = ',';
            out = put(out - 1, "]}\n");
        }
        return {base, static_cast<std::size_t>(out - base)};
    }

private:
    static constexpr std::size_t max_number_chars = 24;  // -2.2250738585072014e-308
    static constexpr std::size_t line_overhead = 64;

    struct text_span {
        std::uint32_t offset;
        std::uint32_t size;
    };

    // Memory for text: grows to the largest batch seen.
    struct text_buffer {
        std::unique_ptr<char[]> bytes;
        std::size_t capacity = 0;
        char* reserve(std::size_t n, bool zeroed = false) {
            if (n > capacity) {
                capacity = std::max(n, capacity * 2);
                bytes = zeroed ? std::make_unique<char[]>(capacity) : std::make_unique_for_overwrite<char[]>(capacity);
            }
            return bytes.get();
        }
    };

    void format_times(std::span<const double> times) {
        // Zeroed: put_time copies a fixed 32 bytes, past the end of the last text.
        char* const base = times_.reserve(times.size() * max_number_chars + shortest_scratch_bytes, true);
        time_spans_.resize(times.size());
        char* out = base;
        for (std::size_t i = 0; i < times.size(); ++i) {
            char* end = put_double(out, times[i]);
            time_spans_[i] = {static_cast<std::uint32_t>(out - base), static_cast<std::uint32_t>(end - out)};
            out = end;
        }
    }

    // A time's text is at most max_number_chars: one fixed-size copy (its slot
    // in the line has room for it) beats a call to memcpy per point.
    char* put_time(char* out, std::uint32_t t) const noexcept {
        static_assert(max_number_chars <= 32 && shortest_scratch_bytes >= 32);
        const auto span = time_spans_[t];
        std::memcpy(out, times_.bytes.get() + span.offset, 32);
        return out + span.size;
    }

    static char* put(char* out, std::string_view s) noexcept {
        std::memcpy(out, s.data(), s.size());
        return out + s.size();
    }
    // Writes 8 bytes for a step under 10^8 (its slot in the line has room for them).
    static char* put_step(char* out, step_t v) noexcept {
        if constexpr (std::endian::native == std::endian::little) {
            if (v >= 0 && v < 100000000) {
                const int n = count_digits(static_cast<std::uint64_t>(v) | 1);
                const std::uint64_t text = eight_digits(static_cast<std::uint32_t>(v)) >> (8 * (8 - n));
                std::memcpy(out, &text, 8);
                return out + n;
            }
        }
        return std::to_chars(out, out + 20, v).ptr;
    }
    static char* put_double(char* out, double v) noexcept {
        if (!std::isfinite(v)) return put(out, "null");  // JSON has none; check_points keeps them out
        return write_shortest(out, v);
    }
    static char* put_key_opening(char* out, std::string_view key) {
        out = put(out, R"({"key":)");
        bool plain = true;
        for (unsigned char c : key) plain = plain && c >= 0x20 && c != '"' && c != '\\';
        if (!plain) {
            std::string quoted;
            append_json_string(quoted, key);
            return put(out, quoted);
        }
        *out++ = '"';
        out = put(out, key);
        *out++ = '"';
        return out;
    }

    text_buffer lines_, times_;
    std::vector<text_span> time_spans_;  // per distinct time: its text in times_
};

// One metrics.jsonl line, in either format, as its key and points in write
// order. A point whose step is not an integer, or whose time or value is not a
// number, is left out and counted in `bad_points`; the rest of its line is kept.
// False for a line of neither format (the caller warns and skips it).
inline bool read_metric_line(const json_value& line, std::string& key, std::vector<series_point>& points,
                             std::size_t& bad_points) {
    points.clear();
    auto* k = member(line, "key");
    if (!k || !k->IsString()) return false;
    key.assign(k->GetString(), k->GetStringLength());
    auto* steps = member(line, "steps");
    if (!steps) {
        auto p = read_point(line);
        if (!p) return false;
        points.push_back({p->step, p->time, p->value});
        return true;
    }
    auto* times = member(line, "times");
    auto* values = member(line, "values");
    if (!steps->IsArray() || !times || !times->IsArray() || !values || !values->IsArray()) return false;
    auto n = steps->Size();
    if (times->Size() != n || values->Size() != n) return false;
    points.reserve(n);
    for (rapidjson::SizeType i = 0; i < n; ++i) {
        const auto& s = (*steps)[i];
        const auto& t = (*times)[i];
        const auto& v = (*values)[i];
        if (!t.IsNumber() || !v.IsNumber()) {
            ++bad_points;
            continue;
        }
        if (s.IsInt64()) [[likely]] {
            points.push_back({s.GetInt64(), t.GetDouble(), v.GetDouble()});
        } else if (auto step = as_int64(s)) {
            points.push_back({*step, t.GetDouble(), v.GetDouble()});
        } else {
            ++bad_points;
        }
    }
    return true;
}

}  // namespace tmon::detail
