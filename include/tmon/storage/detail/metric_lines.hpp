#pragma once
// metrics.jsonl lines. One line per key per append, in columns, so the key is
// written once and numbers are all a line holds:
//   {"key":"loss","steps":[1,2],"times":[1700000000.5,1700000001],"values":[0.9,0.8]}
// Earlier files hold one point per line, {"key":..,"step":..,"time":..,"value":..};
// both read back, in file order, so the last write of a (key, step) still wins.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "tmon/core/types.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/storage/detail/metric_groups.hpp"
#include "tmon/storage/detail/record_codec.hpp"

namespace tmon::detail {

inline const char* two_digits(std::uint64_t n) {
    static constexpr char table[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    return table + n * 2;
}

// The same text as fmt's "{}" for a finite double (shortest round-trip, fixed
// notation for exponents in [-4, 16)), about twice as fast: formatting numbers
// is most of an append's cost, and fmt's general float writer handles specs,
// locales and padding that a bare number never needs. Built on fmt's Dragonbox.
inline char* write_shortest(char* out, double v) {
#if FMT_VERSION >= 90000 && FMT_VERSION < 120000
    if (std::signbit(v)) *out++ = '-', v = -v;
    auto dec = fmt::detail::dragonbox::to_decimal(v);
    char digits[24];
    char* end = digits + sizeof digits;
    char* first = end;
    auto sig = dec.significand;
    for (; sig >= 100; sig /= 100) first -= 2, std::memcpy(first, two_digits(sig % 100), 2);
    if (sig >= 10) first -= 2, std::memcpy(first, two_digits(sig), 2);
    else *--first = static_cast<char>('0' + sig);
    const int n = static_cast<int>(end - first);
    const int output_exp = dec.exponent + n - 1;
    auto copy = [&](const char* from, int count) {
        std::memcpy(out, from, static_cast<std::size_t>(count));
        out += count;
    };
    if (output_exp < -4 || output_exp >= 16) {  // 1.5e+20, 1e-05
        *out++ = first[0];
        if (n > 1) *out++ = '.', copy(first + 1, n - 1);
        *out++ = 'e';
        *out++ = output_exp < 0 ? '-' : '+';
        int e = output_exp < 0 ? -output_exp : output_exp;
        if (e >= 100) *out++ = static_cast<char>('0' + e / 100), e %= 100;
        *out++ = static_cast<char>('0' + e / 10);
        *out++ = static_cast<char>('0' + e % 10);
    } else if (dec.exponent >= 0) {  // 1700000000
        copy(first, n);
        std::memset(out, '0', static_cast<std::size_t>(dec.exponent));
        out += dec.exponent;
    } else if (output_exp >= 0) {  // 12.34
        copy(first, output_exp + 1);
        *out++ = '.';
        copy(first + output_exp + 1, n - output_exp - 1);
    } else {  // 0.001234
        *out++ = '0';
        *out++ = '.';
        std::memset(out, '0', static_cast<std::size_t>(-output_exp - 1));
        out += -output_exp - 1;
        copy(first, n);
    }
    return out;
#else
    return fmt::format_to(out, FMT_COMPILE("{}"), v);
#endif
}

// Writes straight into a buffer sized for the worst case up front: formatting
// is most of an append's cost, so no per-number bounds checks or temporaries.
class metric_line_encoder {
public:
    // The bytes stay valid until the next call.
    std::string_view encode(const metric_groups& groups) {
        const auto points = groups.points();
        reserve(worst_case_size(groups));
        format_times(points);
        char* out = buf_.get();
        for (std::size_t g = 0; g < groups.size(); ++g) {
            auto members = groups.members(g);
            out = put(out, R"({"key":)");
            out = put_key(out, groups.key(g));
            out = put(out, R"(,"steps":[)");
            for (auto i : members) out = put_int(out, points[i].step), *out++ = ',';
            out[-1] = ']';
            out = put(out, R"(,"times":[)");
            for (auto i : members) out = put(out, time_text(i)), *out++ = ',';
            out[-1] = ']';
            out = put(out, R"(,"values":[)");
            for (auto i : members) out = put_double(out, points[i].value), *out++ = ',';
            out = put(out - 1, "]}\n");
        }
        return {buf_.get(), static_cast<std::size_t>(out - buf_.get())};
    }

private:
    static constexpr std::size_t max_number_chars = 24;  // -2.2250738585072014e-308
    static constexpr std::size_t line_overhead = 64;

    struct text_span {
        std::uint32_t offset;
        std::uint32_t size;
    };

    static std::size_t worst_case_size(const metric_groups& groups) {
        std::size_t n = groups.points().size() * 3 * (max_number_chars + 1);
        for (std::size_t g = 0; g < groups.size(); ++g) n += line_overhead + 6 * groups.key(g).size();
        return n;
    }

    void reserve(std::size_t bytes) {
        if (bytes <= capacity_) return;
        capacity_ = std::max(bytes, capacity_ * 2);
        buf_ = std::make_unique_for_overwrite<char[]>(capacity_);
    }

    // Points logged together share their time, so consecutive equal times are
    // formatted once: with a few keys per step that halves the formatting.
    void format_times(std::span<const metric_point> points) {
        times_.resize(points.size() * max_number_chars);
        time_spans_.resize(points.size());
        char* base = times_.data();
        char* out = base;
        for (std::size_t i = 0; i < points.size(); ++i) {
            if (i > 0 && std::bit_cast<std::uint64_t>(points[i].time) == std::bit_cast<std::uint64_t>(points[i - 1].time)) {
                time_spans_[i] = time_spans_[i - 1];
                continue;
            }
            char* end = put_double(out, points[i].time);
            time_spans_[i] = {static_cast<std::uint32_t>(out - base), static_cast<std::uint32_t>(end - out)};
            out = end;
        }
    }
    std::string_view time_text(std::size_t i) const {
        return {times_.data() + time_spans_[i].offset, time_spans_[i].size};
    }

    static char* put(char* out, std::string_view s) {
        std::memcpy(out, s.data(), s.size());
        return out + s.size();
    }
    static char* put_int(char* out, step_t v) { return fmt::format_to(out, FMT_COMPILE("{}"), v); }
    static char* put_double(char* out, double v) {
        if (!std::isfinite(v)) return put(out, "null");  // JSON has none; check_points keeps them out
        return write_shortest(out, v);
    }
    static char* put_key(char* out, std::string_view key) {
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

    std::unique_ptr<char[]> buf_;
    std::size_t capacity_ = 0;
    std::vector<char> times_;
    std::vector<text_span> time_spans_;
};

// One metrics.jsonl line, in either format, as its key and points in write
// order. False for a line that is neither (the caller warns and skips it).
inline bool read_metric_line(const json_value& line, std::string& key, std::vector<series_point>& points) {
    points.clear();
    auto* k = member(line, "key");
    if (!k || !k->IsString()) return false;
    key.assign(k->GetString(), k->GetStringLength());
    auto* steps = member(line, "steps");
    if (!steps) {
        auto p = read_point(line);
        points.push_back({p.step, p.time, p.value});
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
        if (!s.IsNumber() || !t.IsNumber() || !v.IsNumber()) return false;
        step_t step = s.IsInt64() ? s.GetInt64() : static_cast<step_t>(s.GetDouble());
        points.push_back({step, t.GetDouble(), v.GetDouble()});
    }
    return true;
}

}  // namespace tmon::detail
