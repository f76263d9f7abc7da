#pragma once
// Every JSON text tmon reads (request bodies, WebSocket messages, store files)
// goes through here: RapidJSON with a nesting limit and UTF-8 validation, so a
// hostile document can neither overflow the stack (the reader recurses) nor
// plant bytes that strict clients cannot decode. What is accepted on a write is
// read back on reopen under the same rules, so an accepted write can never make
// a store unopenable.
#include <charconv>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace tmon::detail {

// No tmon document nests deeper than a handful of levels; a config object the
// user sends is the deepest thing we keep.
inline constexpr unsigned max_json_depth = 64;

// Numbers arrive as their text and are converted with std::from_chars
// (correctly rounded). RapidJSON 1.1.0's own full-precision conversion is not
// safe on hostile text: clz of zero (UB) for "0.000...0e-40" and
// "1.84467440737095516155", and a silently wrong value for "7201e308"
// (-2.2e-305), all found by fuzz_json_bodies.
inline constexpr unsigned json_read_flags =
    rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag;

enum class json_fault { none, syntax, encoding, too_deep, number };

struct json_read_result {
    json_fault fault = json_fault::none;
    std::size_t offset = 0;
    rapidjson::ParseErrorCode code = rapidjson::kParseErrorNone;

    explicit operator bool() const noexcept { return fault == json_fault::none; }

    std::string message(unsigned max_depth = max_json_depth) const {
        switch (fault) {
            case json_fault::none: return "ok";
            case json_fault::too_deep:
                return fmt::format("JSON nested deeper than {} levels (at offset {})", max_depth, offset);
            case json_fault::encoding: return fmt::format("invalid UTF-8 in a JSON string (at offset {})", offset);
            case json_fault::number: return fmt::format("a number too large for a double (at offset {})", offset);
            case json_fault::syntax: break;
        }
        return fmt::format("{} (at offset {})", rapidjson::GetParseError_En(code), offset);
    }
};

// Forwards SAX events to Next, refusing to open a container past max_depth,
// and turns each number's text into the event RapidJSON would have sent.
template <class Next>
class depth_limited_handler {
public:
    depth_limited_handler(Next& next, unsigned max_depth) : next_(next), max_depth_(max_depth) {}

    bool Null() { return next_.Null(); }
    bool Bool(bool b) { return next_.Bool(b); }
    bool Int(int i) { return next_.Int(i); }
    bool Uint(unsigned u) { return next_.Uint(u); }
    bool Int64(std::int64_t i) { return next_.Int64(i); }
    bool Uint64(std::uint64_t u) { return next_.Uint64(u); }
    bool Double(double d) {  // RapidJSON's fast path lets 7201e308 through as inf
        if (std::isfinite(d)) return next_.Double(d);
        bad_number_ = true;
        return false;
    }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return number(std::string_view(s, n)); }
    bool String(const char* s, rapidjson::SizeType n, bool copy) { return next_.String(s, n, copy); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return next_.Key(s, n, copy); }
    bool StartObject() { return enter() && next_.StartObject(); }
    bool EndObject(rapidjson::SizeType n) { return leave() && next_.EndObject(n); }
    bool StartArray() { return enter() && next_.StartArray(); }
    bool EndArray(rapidjson::SizeType n) { return leave() && next_.EndArray(n); }

    bool too_deep() const noexcept { return too_deep_; }
    bool bad_number() const noexcept { return bad_number_; }

private:
    // The reader has already checked the JSON number grammar.
    bool number(std::string_view text) {
        const char* first = text.data();
        const char* last = first + text.size();
        if (text.front() == '-') {
            std::int64_t i = 0;
            if (auto [p, ec] = std::from_chars(first, last, i); ec == std::errc{} && p == last)
                return i >= INT32_MIN ? next_.Int(static_cast<int>(i)) : next_.Int64(i);
        } else {
            std::uint64_t u = 0;
            if (auto [p, ec] = std::from_chars(first, last, u); ec == std::errc{} && p == last)
                return u <= UINT32_MAX ? next_.Uint(static_cast<unsigned>(u)) : next_.Uint64(u);
        }
        double d = 0;
        auto [p, ec] = std::from_chars(first, last, d);
        if (ec == std::errc::result_out_of_range) {
            // Underflow reads as zero (or the nearest subnormal), as in RapidJSON; overflow is refused.
            d = std::strtod(std::string(text).c_str(), nullptr);
            if (!(std::fabs(d) < 1)) {
                bad_number_ = true;
                return false;
            }
        } else if (ec != std::errc{} || p != last) {
            bad_number_ = true;
            return false;
        }
        return next_.Double(d);
    }

    bool enter() {
        if (++depth_ <= max_depth_) return true;
        too_deep_ = true;
        return false;
    }
    bool leave() {
        --depth_;
        return true;
    }

    Next& next_;
    unsigned max_depth_;
    unsigned depth_ = 0;
    bool too_deep_ = false;
    bool bad_number_ = false;
};

// SAX-parses what `in` holds into `handler` with the limits above. Flags may add to json_read_flags
// (kParseStopWhenDoneFlag, say); they never remove the checks.
template <unsigned ExtraFlags = 0, class Stream, class Handler>
json_read_result read_json_stream(Stream& in, Handler& handler, unsigned max_depth = max_json_depth) {
    depth_limited_handler<Handler> limited(handler, max_depth);
    rapidjson::Reader reader;
    rapidjson::ParseResult r = reader.Parse<json_read_flags | ExtraFlags>(in, limited);
    json_read_result out;
    if (!r) {
        out.offset = r.Offset();
        out.code = r.Code();
        if (limited.too_deep()) out.fault = json_fault::too_deep;
        else if (limited.bad_number() || r.Code() == rapidjson::kParseErrorNumberTooBig) out.fault = json_fault::number;
        else if (r.Code() == rapidjson::kParseErrorStringInvalidEncoding) out.fault = json_fault::encoding;
        else out.fault = json_fault::syntax;
    }
    return out;
}

// `text` may hold any bytes, NULs included (a request body, a WebSocket message).
template <unsigned ExtraFlags = 0, class Handler>
json_read_result read_json(std::string_view text, Handler& handler, unsigned max_depth = max_json_depth) {
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
    return read_json_stream<ExtraFlags>(in, handler, max_depth);
}

// Faster, for text the caller has ended with a NUL (a store's lines): reading stops at the first NUL.
template <unsigned ExtraFlags = 0, class Handler>
json_read_result read_json_nul_terminated(const char* text, Handler& handler, unsigned max_depth = max_json_depth) {
    rapidjson::StringStream in(text);
    return read_json_stream<ExtraFlags>(in, handler, max_depth);
}

// Parses into `doc` (any GenericDocument), replacing what it held; on failure
// `doc` is left null.
template <class Document, class Read>
json_read_result populate(Document& doc, Read read) {
    json_read_result result;
    auto generate = [&](Document& handler) {
        result = read(handler);
        return static_cast<bool>(result);
    };
    doc.SetNull();
    doc.Populate(generate);
    return result;
}

template <class Document>
json_read_result parse_document(Document& doc, std::string_view text, unsigned max_depth = max_json_depth) {
    return populate(doc, [&](Document& h) { return read_json(text, h, max_depth); });
}

template <class Document>
json_read_result parse_document_nul_terminated(Document& doc, const char* text, unsigned max_depth = max_json_depth) {
    return populate(doc, [&](Document& h) { return read_json_nul_terminated(text, h, max_depth); });
}

}  // namespace tmon::detail
