#pragma once
// Request bodies -> core types, with RapidJSON. Malformed or too deeply nested
// JSON is a 400; invalid UTF-8, a wrong type, a value or a length out of
// bounds is a 422 naming the field. Everything is validated before anything is
// written, so a rejected batch writes nothing. Metrics batches, the one bulk
// body, are read as a stream (detail/metrics_reader.hpp); the rest, small by
// their routes' body limits, through a DOM.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "tmon/core/clock.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/json_read.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/server/detail/metrics_reader.hpp"
#include "tmon/server/http_error.hpp"
#include "tmon/server/request_limits.hpp"
#include "tmon/transport/http/loggable.hpp"

namespace tmon::json_body {

using value = rapidjson::Value;

[[noreturn]] inline void throw_read_error(const detail::json_read_result& r, unsigned depth) {
    if (r.fault == detail::json_fault::encoding) throw invalid(fmt::format("request body: {}", r.message(depth)));
    throw malformed(fmt::format("request body is not valid JSON: {}", r.message(depth)));
}

inline rapidjson::Document parse(std::string_view body, const request_limits& limits = {}) {
    rapidjson::Document doc;
    if (auto r = detail::parse_document(doc, body, limits.json_depth); !r) throw_read_error(r, limits.json_depth);
    return doc;
}

inline std::string_view as_view(const value& v) { return {v.GetString(), v.GetStringLength()}; }

// Writes a parsed value back as compact JSON text (config, metadata are stored verbatim as text).
inline void write_value(detail::json_writer& w, const value& v) {
    switch (v.GetType()) {
        case rapidjson::kNullType: w.null(); break;
        case rapidjson::kFalseType: w.value(false); break;
        case rapidjson::kTrueType: w.value(true); break;
        case rapidjson::kStringType: w.value(as_view(v)); break;
        case rapidjson::kNumberType:
            if (v.IsInt64()) w.value(static_cast<std::int64_t>(v.GetInt64()));
            else if (v.IsUint64()) w.value(static_cast<std::uint64_t>(v.GetUint64()));
            else w.value(v.GetDouble());
            break;
        case rapidjson::kArrayType:
            w.begin_array();
            for (const auto& x : v.GetArray()) write_value(w, x);
            w.end_array();
            break;
        case rapidjson::kObjectType:
            w.begin_object();
            for (const auto& m : v.GetObject()) {
                w.key(as_view(m.name));
                write_value(w, m.value);
            }
            w.end_object();
            break;
    }
}

inline std::string to_text(const value& v) {
    std::string out;
    detail::json_writer w(out);
    write_value(w, v);
    return out;
}

inline const value* member(const value& obj, const char* name) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) return nullptr;
    return &it->value;
}

inline const value* non_null_member(const value& obj, const char* name) {
    const value* v = member(obj, name);
    return v && !v->IsNull() ? v : nullptr;
}

inline void require_object(const value& v, std::string_view what) {
    if (!v.IsObject()) throw invalid(fmt::format("{} must be a JSON object", what));
}

// A field the body does not take is a 422 naming it: a mistyped "stauts"
// must not leave the run as it was behind a 200.
inline void require_known_fields(const value& obj, std::initializer_list<std::string_view> known,
                                 std::string_view what) {
    for (const auto& m : obj.GetObject()) {
        std::string_view name = as_view(m.name);
        if (std::find(known.begin(), known.end(), name) != known.end()) continue;
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        throw invalid(fmt::format("unknown field '{}' in {} (it takes {})", http::loggable(name, 64), what, list));
    }
}

inline std::string get_string(const value& v, std::string_view field) {
    if (!v.IsString()) throw invalid(fmt::format("'{}' must be a string", field));
    return std::string(as_view(v));
}

inline std::string get_nonempty_string(const value& v, std::string_view field) {
    std::string s = get_string(v, field);
    if (s.find_first_not_of(" \t\r\n") == std::string::npos)
        throw invalid(fmt::format("'{}' must not be empty", field));
    return s;
}

inline std::string get_bounded_string(const value& v, std::string_view field, std::size_t max_bytes) {
    std::string s = get_string(v, field);
    if (s.size() > max_bytes) throw invalid(fmt::format("'{}' is longer than {} bytes", field, max_bytes));
    return s;
}

inline std::string get_bounded_name(const value& v, std::string_view field, std::size_t max_bytes) {
    std::string s = get_nonempty_string(v, field);
    if (s.size() > max_bytes) throw invalid(fmt::format("'{}' is longer than {} bytes", field, max_bytes));
    return s;
}

inline double get_finite(const value& v, std::string_view field) {
    if (!v.IsNumber()) throw invalid(fmt::format("'{}' must be a number", field));
    double d = v.GetDouble();
    if (!std::isfinite(d)) throw invalid(fmt::format("'{}' must be a finite number", field));
    return d;
}

// Steps are integers >= 0; 3.0 is accepted as 3, 2.5 and -1 are not.
inline step_t get_step(const value& v, std::string_view field) {
    using kind = detail::json_number::kind;
    if (!v.IsNumber()) throw invalid(fmt::format("'{}' must be a non-negative integer", field));
    detail::json_number n = v.IsInt64()    ? detail::json_number{kind::integer, v.GetInt64(), 0}
                            : v.IsUint64() ? detail::json_number{kind::big_unsigned, 0, v.GetDouble()}
                                           : detail::json_number{kind::real, 0, v.GetDouble()};
    step_t step = 0;
    if (auto problem = detail::step_error(n, field, step)) throw invalid(std::move(*problem));
    return step;
}

inline std::string get_object_text(const value& v, std::string_view field) {
    if (!v.IsObject()) throw invalid(fmt::format("'{}' must be a JSON object", field));
    return to_text(v);
}

inline std::vector<std::string> get_tags(const value& v, const request_limits& limits) {
    if (!v.IsArray()) throw invalid("'tags' must be an array of strings");
    if (v.Size() > limits.tags) throw invalid(fmt::format("'tags' may hold at most {} tags", limits.tags));
    std::vector<std::string> out;
    out.reserve(v.Size());
    for (const auto& x : v.GetArray()) {
        if (!x.IsString()) throw invalid("'tags' must be an array of strings");
        if (x.GetStringLength() > limits.tag_bytes)
            throw invalid(fmt::format("a tag is longer than {} bytes", limits.tag_bytes));
        out.emplace_back(as_view(x));
    }
    return out;
}

// Ids appear in URL paths and file names (jsonl store): keep them to a safe alphabet.
inline std::string get_id(const value& v, std::string_view field) {
    std::string s = get_string(v, field);
    if (s.empty() || s.size() > 128) throw invalid(fmt::format("'{}' must be 1 to 128 characters", field));
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '.';
        if (!ok) throw invalid(fmt::format("'{}' may contain only letters, digits, '_', '-' and '.'", field));
    }
    if (s.front() == '.') throw invalid(fmt::format("'{}' may not start with '.'", field));
    return s;
}

inline run_status get_status(const value& v) {
    auto s = parse_run_status(get_string(v, "status"));
    if (!s) throw invalid("'status' must be one of running, completed, failed, interrupted, cancelled");
    return *s;
}

// ---- runs -----------------------------------------------------------------
inline new_run parse_new_run(std::string_view body, const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the run");
    require_known_fields(doc, {"name", "id", "config", "tags", "notes", "total_steps", "status"}, "a new run");
    new_run r;
    const value* name = member(doc, "name");
    if (!name) throw invalid("'name' is required");
    r.name = get_bounded_name(*name, "name", limits.name_bytes);
    if (auto* v = non_null_member(doc, "config")) r.config_json = get_object_text(*v, "config");
    if (auto* v = non_null_member(doc, "tags")) r.tags = get_tags(*v, limits);
    if (auto* v = non_null_member(doc, "notes")) r.notes = get_bounded_string(*v, "notes", limits.text_bytes);
    if (auto* v = non_null_member(doc, "total_steps")) r.total_steps = get_step(*v, "total_steps");
    if (auto* v = non_null_member(doc, "id")) r.id = get_id(*v, "id");
    if (auto* v = non_null_member(doc, "status")) r.status = get_status(*v);
    return r;
}

inline run_update parse_run_update(std::string_view body, const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the update");
    require_known_fields(doc, {"name", "status", "config", "tags", "notes", "total_steps"}, "a run update");
    run_update u;
    if (auto* v = member(doc, "name")) u.name = get_bounded_name(*v, "name", limits.name_bytes);
    if (auto* v = member(doc, "status")) u.status = get_status(*v);
    if (auto* v = non_null_member(doc, "config")) u.config_json = get_object_text(*v, "config");
    if (auto* v = non_null_member(doc, "tags")) u.tags = get_tags(*v, limits);
    if (auto* v = non_null_member(doc, "notes")) u.notes = get_bounded_string(*v, "notes", limits.text_bytes);
    if (auto* v = non_null_member(doc, "total_steps")) u.total_steps = get_step(*v, "total_steps");
    return u;
}

// ---- metrics ----------------------------------------------------------------
// One point, {"points":[...]}, or a bare array of points.
inline std::vector<metric_point> parse_metrics(std::string_view body, double now = now_seconds(),
                                               const request_limits& limits = {}) {
    detail::metrics_reader reader(now, limits);
    if (auto r = detail::read_json(body, reader, limits.json_depth); !r) throw_read_error(r, limits.json_depth);
    if (auto problem = reader.problem()) throw invalid(std::move(*problem));
    return reader.take_points();
}

// ---- checkpoints -------------------------------------------------------------
inline new_checkpoint parse_new_checkpoint(std::string_view body, std::string run_id,
                                           const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the checkpoint");
    require_known_fields(doc, {"id", "filepath", "step", "metrics", "metadata", "is_best"}, "a checkpoint");
    new_checkpoint c;
    c.run_id = std::move(run_id);
    const value* fp = member(doc, "filepath");
    if (!fp) throw invalid("'filepath' is required");
    c.filepath = get_bounded_name(*fp, "filepath", limits.path_bytes);
    if (auto* v = non_null_member(doc, "step")) c.step = get_step(*v, "step");
    if (auto* v = non_null_member(doc, "metrics")) c.metrics_json = get_object_text(*v, "metrics");
    if (auto* v = non_null_member(doc, "metadata")) c.metadata_json = get_object_text(*v, "metadata");
    if (auto* v = non_null_member(doc, "is_best")) {
        if (!v->IsBool()) throw invalid("'is_best' must be true or false");
        c.is_best = v->GetBool();
    }
    if (auto* v = non_null_member(doc, "id")) c.id = get_id(*v, "id");
    return c;
}

// ---- per-layer statistics -------------------------------------------------------
inline tensor_stats parse_tensor_stats(const value& v, std::string_view where) {
    if (!v.IsObject()) throw invalid(fmt::format("{} must be an object", where));
    tensor_stats t;
    auto num = [&](const char* name, double& out) {
        if (auto* x = non_null_member(v, name)) out = get_finite(*x, fmt::format("{}.{}", where, name));
    };
    num("mean", t.mean);
    num("std", t.std);
    num("min", t.min);
    num("max", t.max);
    if (auto* h = non_null_member(v, "histogram")) {
        const value* counts = h;
        if (h->IsObject()) {
            counts = member(*h, "counts");
            if (!counts) throw invalid(fmt::format("{}.histogram needs 'counts'", where));
            if (auto* x = non_null_member(*h, "min"))
                t.hist_min = get_finite(*x, fmt::format("{}.histogram.min", where));
            if (auto* x = non_null_member(*h, "max"))
                t.hist_max = get_finite(*x, fmt::format("{}.histogram.max", where));
        }
        if (!counts->IsArray()) throw invalid(fmt::format("{}.histogram.counts must be an array of numbers", where));
        t.histogram.reserve(counts->Size());
        for (const auto& c : counts->GetArray())
            t.histogram.push_back(get_finite(c, fmt::format("{}.histogram.counts[]", where)));
    }
    return t;
}

inline layer_snapshot parse_layerwise(std::string_view body, double now = now_seconds(),
                                      const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the layerwise report");
    layer_snapshot s;
    const value* id = member(doc, "run_id");
    if (!id) throw invalid("'run_id' is required");
    s.run_id = get_id(*id, "run_id");
    const value* step = member(doc, "step");
    if (!step) throw invalid("'step' is required");
    s.step = get_step(*step, "step");
    s.time = now;
    if (auto* v = non_null_member(doc, "timestamp")) s.time = get_finite(*v, "timestamp");
    const value* layers = member(doc, "layers");
    if (!layers || !layers->IsArray()) throw invalid("'layers' must be an array");
    s.layers.reserve(layers->Size());
    std::size_t i = 0;
    for (const auto& l : layers->GetArray()) {
        if (!l.IsObject()) throw invalid(fmt::format("layers[{}] must be an object", i));
        layer_stat st;
        const value* name = member(l, "name");
        if (!name) throw invalid(fmt::format("layers[{}].name is required", i));
        st.name = get_bounded_name(*name, "name", limits.key_bytes);
        std::string where = fmt::format("layers[{}]", i);
        if (auto* v = non_null_member(l, "activations"))
            st.activations = parse_tensor_stats(*v, where + ".activations");
        if (auto* v = non_null_member(l, "gradients")) st.gradients = parse_tensor_stats(*v, where + ".gradients");
        if (auto* v = non_null_member(l, "parameters")) st.parameters = parse_tensor_stats(*v, where + ".parameters");
        s.layers.push_back(std::move(st));
        ++i;
    }
    return s;
}

// ---- WebSocket client messages --------------------------------------------------
struct ws_message {
    std::string type;    // subscribe, unsubscribe, ping
    std::string run_id;  // for (un)subscribe; "*" for every run
};

inline ws_message parse_ws_message(std::string_view text, const request_limits& limits = {}) {
    auto doc = parse(text, limits);
    if (!doc.IsObject()) throw invalid("a message must be a JSON object with a 'type'");
    const value* type = member(doc, "type");
    if (!type || !type->IsString()) throw invalid("a message needs a string 'type'");
    ws_message m{std::string(as_view(*type)), {}};
    if (m.type == "subscribe" || m.type == "unsubscribe") {
        const value* id = member(doc, "run_id");
        if (!id || !id->IsString() || id->GetStringLength() == 0)
            throw invalid(fmt::format("'{}' needs a 'run_id' (a run id or \"*\")", m.type));
        m.run_id = as_view(*id) == "*" ? std::string("*") : get_id(*id, "run_id");
    } else if (m.type != "ping") {
        throw invalid(fmt::format("unknown message type '{}' (expected subscribe, unsubscribe or ping)", m.type));
    }
    return m;
}

}  // namespace tmon::json_body
