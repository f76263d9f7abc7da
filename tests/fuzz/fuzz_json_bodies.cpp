// The request-body parsers of server/json_body.hpp, and the JSON reader every
// body, message and store line goes through (detail/json_read.hpp).
//
// The first byte picks the parser ('0'..'9', ':' = 10, ';' = 11, else the byte modulo 12):
//   0 parse_new_run       POST /api/runs
//   1 parse_run_update    PUT /api/runs/{id}
//   2 parse_metrics       POST /api/runs/{id}/metrics
//   3 parse_new_checkpoint POST /api/runs/{id}/checkpoints
//   4 parse_layerwise     POST /api/v1/metrics/layerwise
//   5 parse_ws_message    a WebSocket text message
//   6 detail::parse_document, against plain RapidJSON
//   7 parse_heartbeat     POST /api/runs/{id}/heartbeat        (server/trainer_body.hpp)
//   8 parse_system_samples POST /api/runs/{id}/system
//   9 parse_trainer_event POST /api/runs/{id}/events
//  10 parse_command       POST /api/runs/{id}/commands
//  11 parse_command_ack   POST /api/runs/{id}/commands/{n}/ack
// the rest is the body. Refusing a body with tmon::http_error or tmon::error is
// the contract; any other exception escapes and libFuzzer reports it. What a
// parser accepts must hold what its route relies on (finite numbers, steps >= 0,
// ids that are safe file names, embedded JSON that parses back as an object).
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "fuzz_util.hpp"
#include "tmon/core/error.hpp"
#include "tmon/detail/json_read.hpp"
#include "tmon/server/http_error.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/server/trainer_body.hpp"

namespace {

using namespace tmon;

constexpr double now = 1730000000.5;

bool is_object_text(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    return !d.HasParseError() && d.IsObject();
}

bool is_safe_id(std::string_view s) {
    if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return false;
    return true;
}

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

void check_stats(const std::optional<tensor_stats>& t) {
    if (!t) return;
    TMON_FUZZ_CHECK(std::isfinite(t->mean) && std::isfinite(t->std) && std::isfinite(t->min) && std::isfinite(t->max));
    for (double c : t->histogram) TMON_FUZZ_CHECK(std::isfinite(c));
    if (t->hist_min) TMON_FUZZ_CHECK(std::isfinite(*t->hist_min));
    if (t->hist_max) TMON_FUZZ_CHECK(std::isfinite(*t->hist_max));
}

unsigned depth_of(const rapidjson::Value& v) {
    unsigned d = 0;
    if (v.IsArray())
        for (const auto& x : v.GetArray()) d = std::max(d, depth_of(x));
    else if (v.IsObject())
        for (const auto& m : v.GetObject()) d = std::max(d, depth_of(m.value));
    else return 0;
    return d + 1;
}

// A JSON number's text as strtod reads it (glibc: correctly rounded; +-inf
// when it is too large for a double, +-0 or a subnormal when too small).
double reference_double(std::string_view text) {
    std::string s(text);
    return std::strtod(s.c_str(), nullptr);
}

// A document as a stream of SAX events; numbers as their text.
struct sax_event {
    enum kind_t { null, boolean, number, string, key, start_object, end_object, start_array, end_array } kind;
    std::string text;
};

struct event_recorder {
    std::vector<sax_event> events;
    bool add(sax_event::kind_t k, std::string_view t = {}) {
        events.push_back({k, std::string(t)});
        return true;
    }
    bool Null() { return add(sax_event::null); }
    bool Bool(bool b) { return add(sax_event::boolean, b ? "true" : "false"); }
    bool Int(int) { return false; }  // never called: numbers come as text
    bool Uint(unsigned) { return false; }
    bool Int64(std::int64_t) { return false; }
    bool Uint64(std::uint64_t) { return false; }
    bool Double(double) { return false; }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return add(sax_event::number, {s, n}); }
    bool String(const char* s, rapidjson::SizeType n, bool) { return add(sax_event::string, {s, n}); }
    bool Key(const char* s, rapidjson::SizeType n, bool) { return add(sax_event::key, {s, n}); }
    bool StartObject() { return add(sax_event::start_object); }
    bool EndObject(rapidjson::SizeType) { return add(sax_event::end_object); }
    bool StartArray() { return add(sax_event::start_array); }
    bool EndArray(rapidjson::SizeType) { return add(sax_event::end_array); }
};

// Whether number `v` is what `text` denotes: an integer type when the text is
// an integer that fits one, else the correctly rounded double.
bool same_number(const rapidjson::Value& v, std::string_view text) {
    if (!v.IsNumber()) return false;
    if (text.find_first_of(".eE") == std::string_view::npos) {
        std::string t(text);
        errno = 0;
        if (text.front() == '-') {
            long long i = std::strtoll(t.c_str(), nullptr, 10);
            if (errno == 0) return v.IsInt64() && v.GetInt64() == i;
        } else {
            unsigned long long u = std::strtoull(t.c_str(), nullptr, 10);
            if (errno == 0) return v.IsUint64() && v.GetUint64() == u;
        }
    }
    double want = reference_double(text);
    return std::isfinite(want) && v.IsDouble() && v.GetDouble() == want &&
           std::signbit(v.GetDouble()) == std::signbit(want);
}

// Walks `v` in document order, matching it against events[at...].
bool matches(const rapidjson::Value& v, const std::vector<sax_event>& events, std::size_t& at) {
    if (at >= events.size()) return false;
    const auto& e = events[at++];
    switch (e.kind) {
        case sax_event::null: return v.IsNull();
        case sax_event::boolean: return v.IsBool() && v.GetBool() == (e.text == "true");
        case sax_event::number: return same_number(v, e.text);
        case sax_event::string: return v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == e.text;
        case sax_event::start_array:
            if (!v.IsArray()) return false;
            for (const auto& x : v.GetArray())
                if (!matches(x, events, at)) return false;
            return at < events.size() && events[at++].kind == sax_event::end_array;
        case sax_event::start_object:
            if (!v.IsObject()) return false;
            for (const auto& m : v.GetObject()) {
                if (at >= events.size() || events[at].kind != sax_event::key ||
                    events[at].text != std::string_view(m.name.GetString(), m.name.GetStringLength()))
                    return false;
                ++at;
                if (!matches(m.value, events, at)) return false;
            }
            return at < events.size() && events[at++].kind == sax_event::end_object;
        default: return false;
    }
}

// detail::parse_document against RapidJSON's reader with numbers kept as text
// (RapidJSON's own full-precision conversion is what parse_document avoids):
// the same document when it accepts, never deeper than its cap; it refuses
// only what RapidJSON refuses, or a document too deep, not UTF-8, or with a
// number too large for a double.
void check_json_read(std::string_view body) {
    rapidjson::Document ours;
    auto result = detail::parse_document(ours, body);
    event_recorder raw;
    rapidjson::Reader reader;
    rapidjson::MemoryStream ms(body.data(), body.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
    rapidjson::ParseResult raw_result = reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(in, raw);
    bool raw_ok = !raw_result.IsError();
    if (result) {
        TMON_FUZZ_CHECK(raw_ok);
        std::size_t at = 0;
        TMON_FUZZ_CHECK(matches(ours, raw.events, at) && at == raw.events.size());
        TMON_FUZZ_CHECK(depth_of(ours) <= detail::max_json_depth);
    } else {
        TMON_FUZZ_CHECK(ours.IsNull());
        TMON_FUZZ_CHECK(!result.message().empty());
        if (result.fault == detail::json_fault::syntax) TMON_FUZZ_CHECK(!raw_ok);
        if (result.fault == detail::json_fault::number) {
            bool overflow = false;
            for (const auto& e : raw.events)
                overflow = overflow || (e.kind == sax_event::number && std::isinf(reference_double(e.text)));
            // Among the numbers read before any later syntax error, or one
            // whose exponent alone makes RapidJSON's reader give up (1e400).
            TMON_FUZZ_CHECK(overflow || raw_result.Code() == rapidjson::kParseErrorNumberTooBig);
        }
    }
}

void parse_body(int which, std::string_view body) {
    switch (which) {
        case 0: {
            auto r = json_body::parse_new_run(body);
            TMON_FUZZ_CHECK(!is_blank(r.name));
            TMON_FUZZ_CHECK(is_object_text(r.config_json));
            if (r.total_steps) TMON_FUZZ_CHECK(*r.total_steps >= 0);
            if (r.id) TMON_FUZZ_CHECK(is_safe_id(*r.id));
            break;
        }
        case 1: {
            auto u = json_body::parse_run_update(body);
            if (u.name) TMON_FUZZ_CHECK(!is_blank(*u.name));
            if (u.config_json) TMON_FUZZ_CHECK(is_object_text(*u.config_json));
            if (u.total_steps) TMON_FUZZ_CHECK(*u.total_steps >= 0);
            break;
        }
        case 2: {
            for (const auto& p : json_body::parse_metrics(body, now)) {
                TMON_FUZZ_CHECK(!p.key.empty());
                TMON_FUZZ_CHECK(p.step >= 0);
                TMON_FUZZ_CHECK(std::isfinite(p.value));
                TMON_FUZZ_CHECK(std::isfinite(p.time) && p.time >= 0);
            }
            break;
        }
        case 3: {
            auto c = json_body::parse_new_checkpoint(body, "run_fuzz");
            TMON_FUZZ_CHECK(c.run_id == "run_fuzz");
            TMON_FUZZ_CHECK(!is_blank(c.filepath));
            if (c.step) TMON_FUZZ_CHECK(*c.step >= 0);
            TMON_FUZZ_CHECK(is_object_text(c.metrics_json));
            TMON_FUZZ_CHECK(is_object_text(c.metadata_json));
            if (c.id) TMON_FUZZ_CHECK(is_safe_id(*c.id));
            break;
        }
        case 4: {
            auto s = json_body::parse_layerwise(body, now);
            TMON_FUZZ_CHECK(is_safe_id(s.run_id));
            TMON_FUZZ_CHECK(s.step >= 0);
            TMON_FUZZ_CHECK(std::isfinite(s.time));
            for (const auto& l : s.layers) {
                TMON_FUZZ_CHECK(!is_blank(l.name));
                check_stats(l.activations);
                check_stats(l.gradients);
                check_stats(l.parameters);
            }
            break;
        }
        case 5: {
            auto m = json_body::parse_ws_message(body);
            TMON_FUZZ_CHECK(m.type == "subscribe" || m.type == "unsubscribe" || m.type == "ping");
            if (m.type != "ping") TMON_FUZZ_CHECK(!m.run_id.empty());
            break;
        }
        case 7: {
            auto who = json_body::parse_heartbeat(body, {"header-host", 3});
            TMON_FUZZ_CHECK(who.rank >= 0 && who.rank <= max_trainer_rank);
            break;
        }
        case 8: {
            for (const auto& x : json_body::parse_system_samples(body, "run_fuzz", {})) {
                TMON_FUZZ_CHECK(x.run_id == "run_fuzz");
                TMON_FUZZ_CHECK(!x.host.empty());
                TMON_FUZZ_CHECK(x.rank >= 0 && x.rank <= max_trainer_rank);
                TMON_FUZZ_CHECK(std::isfinite(x.time) && std::isfinite(x.cpu_percent) &&
                                std::isfinite(x.memory_percent));
                for (const auto& g : x.gpus) TMON_FUZZ_CHECK(std::isfinite(g.utilization) && std::isfinite(g.power));
            }
            break;
        }
        case 9: {
            auto e = json_body::parse_trainer_event(body, "run_fuzz");
            TMON_FUZZ_CHECK(!e.type.empty());
            TMON_FUZZ_CHECK(is_object_text(e.data_json));
            if (!e.client_id.empty()) TMON_FUZZ_CHECK(is_safe_id(e.client_id));
            break;
        }
        case 10: {
            auto c = json_body::parse_command(body, "run_fuzz");
            TMON_FUZZ_CHECK(!c.type.empty());
            TMON_FUZZ_CHECK(is_object_text(c.payload_json));
            if (!c.checkpoint_id.empty()) TMON_FUZZ_CHECK(is_safe_id(c.checkpoint_id));
            break;
        }
        case 11: {
            auto a = json_body::parse_command_ack(body);
            TMON_FUZZ_CHECK(a.status == "ok" || a.status == "failed" || a.status == "ignored");
            break;
        }
        default: check_json_read(body); break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    int which = data[0] >= '0' && data[0] <= '9' ? data[0] - '0' : data[0];
    which %= 12;
    std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        parse_body(which, body);
    } catch (const http_error& e) {
        TMON_FUZZ_CHECK(e.status() >= 400 && e.status() < 600);
    } catch (const error&) {}
    return 0;
}
