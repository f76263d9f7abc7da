#pragma once
// Escaping plus a comma-tracking writer, so the hot path and the stores never
// pull in a parser. Numbers go through std::to_chars (detail/shortest_double.hpp),
// not fmt: a formatter instantiated here would be compiled again in every TU.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "tmon/detail/shortest_double.hpp"

namespace tmon::detail {

inline void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t clean = 0;  // start of the run of bytes that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + clean, i - clean);
        clean = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default: {
                static constexpr char hex[] = "0123456789abcdef";
                const char u[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
                out.append(u, sizeof u);
            }
        }
    }
    out.append(s.data() + clean, s.size() - clean);
    out.push_back('"');
}

inline void append_json_number(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    // Into a stack buffer, then one append (the remote client formats every
    // point it sends).
    char buf[max_shortest_double_chars];
    out.append(buf, write_shortest_double(buf, v));
}

inline void append_json_integer(std::string& out, std::int64_t v) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

inline void append_json_unsigned(std::string& out, std::uint64_t v) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

class json_writer {
public:
    explicit json_writer(std::string& out) : out_(out) {}

    json_writer& begin_object() {
        comma();
        out_.push_back('{');
        first_ = true;
        return *this;
    }
    json_writer& end_object() {
        out_.push_back('}');
        first_ = false;
        return *this;
    }
    json_writer& begin_array() {
        comma();
        out_.push_back('[');
        first_ = true;
        return *this;
    }
    json_writer& end_array() {
        out_.push_back(']');
        first_ = false;
        return *this;
    }

    json_writer& key(std::string_view k) {
        comma();
        append_json_string(out_, k);
        out_.push_back(':');
        first_ = true;  // the value that follows takes no comma
        return *this;
    }
    json_writer& value(std::string_view s) {
        comma();
        append_json_string(out_, s);
        return *this;
    }
    json_writer& value(const char* s) { return value(std::string_view{s}); }
    json_writer& value(const std::string& s) { return value(std::string_view{s}); }
    json_writer& value(double v) {
        comma();
        append_json_number(out_, v);
        return *this;
    }
    json_writer& value(float v) { return value(static_cast<double>(v)); }
    json_writer& value(bool b) {
        comma();
        out_ += b ? "true" : "false";
        return *this;
    }
    json_writer& value(std::int64_t v) {
        comma();
        append_json_integer(out_, v);
        return *this;
    }
    json_writer& value(std::uint64_t v) {
        comma();
        append_json_unsigned(out_, v);
        return *this;
    }
    json_writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
    json_writer& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
    json_writer& value(long long v) { return value(static_cast<std::int64_t>(v)); }
    json_writer& value(unsigned long long v) { return value(static_cast<std::uint64_t>(v)); }
    json_writer& null() {
        comma();
        out_ += "null";
        return *this;
    }
    // Splices already-valid JSON text (stored config, metadata) verbatim.
    json_writer& raw(std::string_view json) {
        comma();
        out_ += json.empty() ? std::string_view{"null"} : json;
        return *this;
    }

    template <class T>
    json_writer& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }
    json_writer& raw_field(std::string_view k, std::string_view json) {
        key(k);
        return raw(json);
    }

private:
    void comma() {
        if (!first_) out_.push_back(',');
        first_ = false;
    }
    std::string& out_;
    bool first_ = true;
};

}  // namespace tmon::detail
