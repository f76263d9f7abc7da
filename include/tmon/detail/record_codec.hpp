#pragma once
// JSON text for the records persistent stores keep (jsonl lines, SQLite
// columns holding nested data): written with json_writer, read with RapidJSON.
// Field names match the REST API where one exists, so a file is readable as is;
// the API writes the objects both hold with the same writers (see record_style).
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "tmon/core/error.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/json_read.hpp"
#include "tmon/detail/json_write.hpp"

namespace tmon::detail {

using json_value = rapidjson::Value;

// ---- reading helpers ---------------------------------------------------------
// A missing field reads as its fallback. So does one of the wrong type (a
// foreign edit, disk damage), and it is noted in `faults` when the caller
// passes one: a replay warns once per file rather than trusting or dropping it.
struct field_faults {
    std::size_t count = 0;
    std::string first;  // the first such field's name

    void note(std::string_view field) {
        if (count++ == 0) first.assign(field);
    }
};

inline void note_fault(field_faults* faults, std::string_view field) {
    if (faults) faults->note(field);
}

inline const json_value* member(const json_value& o, const char* name) {
    if (!o.IsObject()) return nullptr;
    auto it = o.FindMember(name);
    return it == o.MemberEnd() ? nullptr : &it->value;
}

// An integer, or a double holding one within range (another writer's 3.0):
// never a cast of an out-of-range double, which is undefined behaviour.
inline std::optional<std::int64_t> as_int64(const json_value& v) {
    if (v.IsInt64()) return v.GetInt64();
    if (v.IsDouble()) {
        double d = v.GetDouble();
        if (d >= -9.2e18 && d <= 9.2e18 && std::floor(d) == d) return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

inline std::string get_string(const json_value& o, const char* name, std::string fallback = {},
                              field_faults* faults = nullptr) {
    auto* v = member(o, name);
    if (v && v->IsString()) return {v->GetString(), v->GetStringLength()};
    if (v) note_fault(faults, name);
    return fallback;
}
// null is what json_writer writes for a NaN or an infinity: it reads as the fallback, and is no fault.
inline double get_double(const json_value& o, const char* name, double fallback = 0, field_faults* faults = nullptr) {
    auto* v = member(o, name);
    if (v && v->IsNumber()) return v->GetDouble();
    if (v && !v->IsNull()) note_fault(faults, name);
    return fallback;
}
// null is a value here (unset); only another type is a fault.
inline std::optional<double> get_opt_double(const json_value& o, const char* name,
                                            std::optional<double> fallback = std::nullopt,
                                            field_faults* faults = nullptr) {
    auto* v = member(o, name);
    if (!v) return fallback;
    if (v->IsNumber()) return v->GetDouble();
    if (v->IsNull()) return std::nullopt;
    note_fault(faults, name);
    return fallback;
}
inline std::optional<std::int64_t> get_opt_int(const json_value& o, const char* name,
                                               std::optional<std::int64_t> fallback = std::nullopt,
                                               field_faults* faults = nullptr) {
    auto* v = member(o, name);
    if (!v) return fallback;
    if (auto i = as_int64(*v)) return i;
    if (v->IsNull()) return std::nullopt;
    note_fault(faults, name);
    return fallback;
}
inline std::uint64_t get_uint(const json_value& o, const char* name, field_faults* faults = nullptr) {
    auto* v = member(o, name);
    if (!v) return 0;
    if (v->IsUint64()) return v->GetUint64();
    if (v->IsDouble()) {
        double d = v->GetDouble();
        if (d >= 0 && d <= 1.8e19 && std::floor(d) == d) return static_cast<std::uint64_t>(d);
    }
    note_fault(faults, name);
    return 0;
}
inline bool get_bool(const json_value& o, const char* name, field_faults* faults = nullptr) {
    auto* v = member(o, name);
    if (v && v->IsBool()) return v->GetBool();
    if (v) note_fault(faults, name);
    return false;
}
// Nested JSON kept verbatim as text (config, checkpoint metrics...): any value
// is well typed, null reads as the fallback.
inline std::string get_raw(const json_value& o, const char* name, std::string fallback = "{}") {
    auto* v = member(o, name);
    if (!v || v->IsNull()) return fallback;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v->Accept(w);
    return {buf.GetString(), buf.GetSize()};
}

// Throws invalid_argument on malformed, too deeply nested or non-UTF-8 text;
// stores decide whether that is fatal.
inline rapidjson::Document parse_json(std::string_view text) {
    rapidjson::Document d;
    if (auto r = parse_document(d, text); !r)
        throw error(errc::invalid_argument, fmt::format("malformed JSON record: {}", r.message()));
    return d;
}

// ---- writing helpers ---------------------------------------------------------
template <class T>
void write_optional(json_writer& w, std::string_view key, const std::optional<T>& v) {
    w.key(key);
    if (v) w.value(*v);
    else w.null();
}

inline void write_strings(json_writer& w, std::span<const std::string> xs) {
    w.begin_array();
    for (const auto& x : xs) w.value(x);
    w.end_array();
}

// The text of what `write` writes, for a column or message that holds one JSON value.
template <class Write>
std::string json_text(Write&& write) {
    std::string out;
    json_writer w{out};
    write(w);
    return out;
}

// Each object of an array as `read_one(object, faults)` reads it; anything but
// an array reads as empty, and anything but an object in it is left out, both
// noted as a fault of `field`.
template <class Read>
auto read_array(const json_value& v, Read read_one, field_faults* faults, std::string_view field) {
    std::vector<decltype(read_one(v, faults))> out;
    if (!v.IsArray()) {
        if (!v.IsNull()) note_fault(faults, field);
        return out;
    }
    for (const auto& x : v.GetArray()) {
        if (x.IsObject()) out.push_back(read_one(x, faults));
        else note_fault(faults, field);
    }
    return out;
}

// The REST API (server/json_out.hpp) writes the runs, checkpoints, samples and
// events below with these same writers; the formats differ only where a Style
// says. A record keeps times as Unix seconds and embedded JSON verbatim.
struct record_style {
    static constexpr std::string_view time_key = "time";  // of an event or a sample
    static void time(json_writer& w, std::string_view k, double t) { w.field(k, t); }
    static void time(json_writer& w, std::string_view k, const std::optional<double>& t) { write_optional(w, k, t); }
    static void json(json_writer& w, std::string_view k, std::string_view text) { w.raw_field(k, text); }
};

// ---- tags ----------------------------------------------------------------
inline std::string tags_json(const std::vector<std::string>& tags) {
    return json_text([&](json_writer& w) { write_strings(w, tags); });
}
inline std::vector<std::string> read_tags(const json_value& v, field_faults* faults = nullptr) {
    std::vector<std::string> out;
    if (!v.IsArray()) {
        note_fault(faults, "tags");
        return out;
    }
    for (const auto& t : v.GetArray()) {
        if (t.IsString()) out.emplace_back(t.GetString(), t.GetStringLength());
        else note_fault(faults, "tags");
    }
    return out;
}

// ---- runs ------------------------------------------------------------------
// Fields only, so the API can add what it derives ("progress") before the object closes.
template <class Style = record_style>
void write_run_fields(json_writer& w, const run_info& r) {
    w.field("id", r.id).field("name", r.name).field("status", to_string(r.status));
    Style::json(w, "config", r.config_json);
    w.key("tags");
    write_strings(w, r.tags);
    w.field("notes", r.notes);
    Style::time(w, "start_time", r.start_time);
    Style::time(w, "end_time", r.end_time);
    Style::time(w, "created_at", r.created_at);
    Style::time(w, "updated_at", r.updated_at);
    write_optional(w, "total_steps", r.total_steps);
    write_optional(w, "last_step", r.last_step);
}
inline void write_run(json_writer& w, const run_info& r) {
    w.begin_object();
    write_run_fields(w, r);
    w.end_object();
}

// Fields missing or mistyped in `o` keep their values from `r`: a replay
// passes the run's previous record, the nearest thing to the truth it has.
inline run_info read_run(const json_value& o, run_info r = {}, field_faults* faults = nullptr) {
    r.id = get_string(o, "id", std::move(r.id), faults);
    r.name = get_string(o, "name", std::move(r.name), faults);
    if (auto* v = member(o, "status")) {
        auto status = v->IsString() ? parse_run_status({v->GetString(), v->GetStringLength()}) : std::nullopt;
        if (status) r.status = *status;
        else note_fault(faults, "status");
    }
    r.config_json = get_raw(o, "config", std::move(r.config_json));
    if (auto* t = member(o, "tags"); t && t->IsArray()) r.tags = read_tags(*t, faults);
    else if (t) note_fault(faults, "tags");
    r.notes = get_string(o, "notes", std::move(r.notes), faults);
    r.start_time = get_double(o, "start_time", r.start_time, faults);
    r.end_time = get_opt_double(o, "end_time", r.end_time, faults);
    r.created_at = get_double(o, "created_at", r.created_at, faults);
    r.updated_at = get_double(o, "updated_at", r.updated_at, faults);
    r.total_steps = get_opt_int(o, "total_steps", r.total_steps, faults);
    r.last_step = get_opt_int(o, "last_step", r.last_step, faults);
    return r;
}

// ---- checkpoints -----------------------------------------------------------
template <class Style = record_style>
void write_checkpoint(json_writer& w, const checkpoint_info& c) {
    w.begin_object().field("id", c.id).field("run_id", c.run_id).field("filepath", c.filepath);
    write_optional(w, "step", c.step);
    Style::json(w, "metrics", c.metrics_json);
    Style::json(w, "metadata", c.metadata_json);
    w.field("is_best", c.is_best);
    Style::time(w, "created_at", c.created_at);
    w.end_object();
}

inline checkpoint_info read_checkpoint(const json_value& o, field_faults* faults = nullptr) {
    checkpoint_info c;
    c.id = get_string(o, "id", {}, faults);
    c.run_id = get_string(o, "run_id", {}, faults);
    c.filepath = get_string(o, "filepath", {}, faults);
    c.step = get_opt_int(o, "step", std::nullopt, faults);
    c.metrics_json = get_raw(o, "metrics");
    c.metadata_json = get_raw(o, "metadata");
    c.is_best = get_bool(o, "is_best", faults);
    c.created_at = get_double(o, "created_at", 0, faults);
    return c;
}

// ---- system samples --------------------------------------------------------
inline void write_gpus(json_writer& w, const std::vector<gpu_sample>& gpus) {
    w.begin_array();
    for (const auto& g : gpus)
        w.begin_object()
            .field("index", g.index)
            .field("name", g.name)
            .field("utilization", g.utilization)
            .field("memory_used", g.memory_used)
            .field("memory_total", g.memory_total)
            .field("temperature", g.temperature)
            .field("power", g.power)
            .end_object();
    w.end_array();
}
inline std::string gpus_json(const std::vector<gpu_sample>& gpus) {
    return json_text([&](json_writer& w) { write_gpus(w, gpus); });
}
inline gpu_sample read_gpu(const json_value& o, field_faults* faults = nullptr) {
    gpu_sample g;
    auto index = get_opt_int(o, "index", std::nullopt, faults).value_or(0);
    if (index < 0 || index > 1 << 20) note_fault(faults, "index"), index = 0;
    g.index = static_cast<int>(index);
    g.name = get_string(o, "name", {}, faults);
    g.utilization = get_double(o, "utilization", 0, faults);
    g.memory_used = get_uint(o, "memory_used", faults);
    g.memory_total = get_uint(o, "memory_total", faults);
    g.temperature = get_double(o, "temperature", 0, faults);
    g.power = get_double(o, "power", 0, faults);
    return g;
}
inline std::vector<gpu_sample> read_gpus(const json_value& v, field_faults* faults = nullptr) {
    return read_array(v, read_gpu, faults, "gpus");
}

// Fields only, so a live update can put them beside its "type". A sample's time
// is Unix seconds in both styles: charts plot it as it is.
template <class Style = record_style>
void write_system_fields(json_writer& w, const system_sample& s) {
    w.field(Style::time_key, s.time)
        .field("cpu_percent", s.cpu_percent)
        .field("memory_percent", s.memory_percent)
        .field("memory_used", s.memory_used)
        .field("memory_total", s.memory_total)
        .field("process_rss", s.process_rss)
        .key("gpus");
    write_gpus(w, s.gpus);
    // A trainer's sample says where it was taken; the server's own says nothing new.
    if (!s.run_id.empty() || !s.host.empty()) w.field("run_id", s.run_id).field("host", s.host).field("rank", s.rank);
}
inline void write_system(json_writer& w, const system_sample& s) {
    w.begin_object();
    write_system_fields(w, s);
    w.end_object();
}

inline system_sample read_system(const json_value& o, field_faults* faults = nullptr) {
    system_sample s;
    s.time = get_double(o, "time", 0, faults);
    s.cpu_percent = get_double(o, "cpu_percent", 0, faults);
    s.memory_percent = get_double(o, "memory_percent", 0, faults);
    s.memory_used = get_uint(o, "memory_used", faults);
    s.memory_total = get_uint(o, "memory_total", faults);
    s.process_rss = get_uint(o, "process_rss", faults);
    if (auto* g = member(o, "gpus")) s.gpus = read_gpus(*g, faults);
    s.run_id = get_string(o, "run_id", {}, faults);
    s.host = get_string(o, "host", {}, faults);
    auto rank = get_opt_int(o, "rank", std::nullopt, faults).value_or(0);
    if (rank < 0 || rank > 65535) note_fault(faults, "rank"), rank = 0;
    s.rank = static_cast<int>(rank);
    return s;
}

// ---- layer statistics ------------------------------------------------------
inline void write_tensor_stats(json_writer& w, std::string_view key, const std::optional<tensor_stats>& t) {
    if (!t) return;
    w.key(key).begin_object().field("mean", t->mean).field("std", t->std).field("min", t->min).field("max", t->max);
    if (!t->histogram.empty()) {
        w.key("histogram").begin_object().key("counts").begin_array();
        for (double c : t->histogram) w.value(c);
        w.end_array();
        write_optional(w, "min", t->hist_min);
        write_optional(w, "max", t->hist_max);
        w.end_object();
    }
    w.end_object();
}

inline std::optional<tensor_stats> read_tensor_stats(const json_value& o, const char* name,
                                                     field_faults* faults = nullptr) {
    auto* v = member(o, name);
    if (!v || v->IsNull()) return std::nullopt;
    if (!v->IsObject()) {
        note_fault(faults, name);
        return std::nullopt;
    }
    tensor_stats t;
    t.mean = get_double(*v, "mean", 0, faults);
    t.std = get_double(*v, "std", 0, faults);
    t.min = get_double(*v, "min", 0, faults);
    t.max = get_double(*v, "max", 0, faults);
    if (auto* h = member(*v, "histogram")) {
        auto* counts = member(*h, "counts");
        if (counts && counts->IsArray()) {
            for (const auto& c : counts->GetArray()) {
                if (!c.IsNumber() && !c.IsNull()) note_fault(faults, "counts");
                t.histogram.push_back(c.IsNumber() ? c.GetDouble() : 0.0);  // 0 keeps the bins where they are
            }
        } else {
            note_fault(faults, "histogram");
        }
        t.hist_min = get_opt_double(*h, "min", std::nullopt, faults);
        t.hist_max = get_opt_double(*h, "max", std::nullopt, faults);
    }
    return t;
}

inline void write_layer_list(json_writer& w, const std::vector<layer_stat>& layers) {
    w.begin_array();
    for (const auto& l : layers) {
        w.begin_object().field("name", l.name);
        write_tensor_stats(w, "activations", l.activations);
        write_tensor_stats(w, "gradients", l.gradients);
        write_tensor_stats(w, "parameters", l.parameters);
        w.end_object();
    }
    w.end_array();
}
inline std::string layers_json(const std::vector<layer_stat>& layers) {
    return json_text([&](json_writer& w) { write_layer_list(w, layers); });
}
inline layer_stat read_layer(const json_value& o, field_faults* faults = nullptr) {
    layer_stat l;
    l.name = get_string(o, "name", {}, faults);
    l.activations = read_tensor_stats(o, "activations", faults);
    l.gradients = read_tensor_stats(o, "gradients", faults);
    l.parameters = read_tensor_stats(o, "parameters", faults);
    return l;
}
inline std::vector<layer_stat> read_layer_list(const json_value& v, field_faults* faults = nullptr) {
    return read_array(v, read_layer, faults, "layers");
}

template <class Style = record_style>
void write_layer_snapshot(json_writer& w, const layer_snapshot& s) {
    w.begin_object().field("run_id", s.run_id).field("step", s.step).field(Style::time_key, s.time).key("layers");
    write_layer_list(w, s.layers);
    w.end_object();
}
inline layer_snapshot read_layer_snapshot(const json_value& o, field_faults* faults = nullptr) {
    layer_snapshot s;
    s.run_id = get_string(o, "run_id", {}, faults);
    s.step = get_opt_int(o, "step", std::nullopt, faults).value_or(0);
    s.time = get_double(o, "time", 0, faults);
    if (auto* l = member(o, "layers")) s.layers = read_layer_list(*l, faults);
    return s;
}

// ---- events ------------------------------------------------------------------
template <class Style = record_style>
void write_event(json_writer& w, const event& e) {
    w.begin_object().field("id", e.id).field("run_id", e.run_id);
    Style::time(w, Style::time_key, e.time);
    w.field("type", e.type).field("message", e.message);
    Style::json(w, "data", e.data_json);
    if (!e.client_id.empty()) w.field("client_id", e.client_id);
    w.end_object();
}
inline event read_event(const json_value& o, field_faults* faults = nullptr) {
    event e;
    e.id = get_opt_int(o, "id", std::nullopt, faults).value_or(0);
    e.run_id = get_string(o, "run_id", {}, faults);
    e.time = get_double(o, "time", 0, faults);
    e.type = get_string(o, "type", {}, faults);
    e.message = get_string(o, "message", {}, faults);
    e.data_json = get_raw(o, "data");
    e.client_id = get_string(o, "client_id", {}, faults);
    return e;
}

// ---- metric points -------------------------------------------------------------
inline void write_point(json_writer& w, const metric_point& p) {
    w.begin_object()
        .field("key", p.key)
        .field("step", p.step)
        .field("time", p.time)
        .field("value", p.value)
        .end_object();
}
// A point is its key, step, time and value, each of its type: no default stands in for one.
inline std::optional<metric_point> read_point(const json_value& o) {
    auto* key = member(o, "key");
    auto* step = member(o, "step");
    auto* time = member(o, "time");
    auto* value = member(o, "value");
    if (!key || !key->IsString() || !step || !time || !time->IsNumber() || !value || !value->IsNumber())
        return std::nullopt;
    auto s = as_int64(*step);
    if (!s) return std::nullopt;
    return metric_point{{key->GetString(), key->GetStringLength()}, *s, time->GetDouble(), value->GetDouble()};
}

}  // namespace tmon::detail
