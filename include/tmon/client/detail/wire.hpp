#pragma once
// What the remote client sends (request bodies in the shapes docs/API.md
// accepts) and the little it reads back (runs, checkpoints, commands).
// Objects the server also writes come from json_out, so both sides agree.
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "tmon/core/types.hpp"
#include "tmon/detail/json_read.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::detail::wire {

// Points as comma-separated `{"step","timestamp","metrics":{...}}` objects
// (the inside of a batch's "points" array, so journal records concatenate).
// Consecutive points of one step share an object.
inline std::uint32_t append_points(std::string& out, std::span<const metric_point> points) {
    std::uint32_t n = 0;
    json_writer w(out);
    const metric_point* open = nullptr;
    for (const auto& p : points) {
        if (!open || open->step != p.step) {
            if (open) w.end_object().end_object();
            if (!out.empty() && !open) out.push_back(',');
            w.begin_object()
                .field("step", static_cast<std::int64_t>(p.step))
                .field("timestamp", p.time)
                .key("metrics")
                .begin_object();
            open = &p;
        }
        w.field(p.key, p.value);
        ++n;
    }
    if (open) w.end_object().end_object();
    return n;
}

inline std::string metrics_batch(std::string_view joined_points) {
    std::string body;
    body.reserve(joined_points.size() + 16);
    body.append("{\"points\":[").append(joined_points).append("]}");
    return body;
}

inline std::string new_run_body(const new_run& r) {
    std::string out;
    json_writer w(out);
    w.begin_object().field("name", r.name).raw_field("config", r.config_json.empty() ? "{}" : r.config_json);
    write_strings(w.key("tags"), r.tags);
    w.field("notes", r.notes);
    if (r.total_steps) w.field("total_steps", static_cast<std::int64_t>(*r.total_steps));
    if (r.id) w.field("id", *r.id);
    w.end_object();
    return out;
}

inline std::string run_update_body(const run_update& u) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    if (u.name) w.field("name", *u.name);
    if (u.status) w.field("status", to_string(*u.status));
    if (u.config_json) w.raw_field("config", *u.config_json);
    if (u.tags) write_strings(w.key("tags"), *u.tags);
    if (u.notes) w.field("notes", *u.notes);
    if (u.total_steps) w.field("total_steps", static_cast<std::int64_t>(*u.total_steps));
    w.end_object();
    return out;
}

inline std::string checkpoint_body(const new_checkpoint& c) {
    std::string out;
    json_writer w(out);
    w.begin_object().field("id", c.id.value_or("")).field("filepath", c.filepath);
    if (c.step) w.field("step", static_cast<std::int64_t>(*c.step));
    w.raw_field("metrics", c.metrics_json.empty() ? "{}" : c.metrics_json)
        .raw_field("metadata", c.metadata_json.empty() ? "{}" : c.metadata_json)
        .field("is_best", c.is_best)
        .end_object();
    return out;
}

inline std::string event_body(std::string_view client_id, const event& e) {
    std::string out;
    json_writer w(out);
    w.begin_object()
        .field("id", client_id)
        .field("type", e.type)
        .field("message", e.message)
        .raw_field("data", e.data_json.empty() ? "{}" : e.data_json)
        .end_object();
    return out;
}

inline std::string system_body(const system_sample& s, std::string_view host, int rank) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    json_out::write_system_fields(w, s);
    w.field("host", host).field("rank", rank).end_object();
    return out;
}

inline std::string layers_body(const layer_snapshot& s) {
    std::string out;
    json_writer w(out);
    detail::write_layer_snapshot<json_out::wire_style>(w, s);
    return out;
}

inline std::string heartbeat_body(std::string_view host, int rank) {
    std::string out;
    json_writer(out).begin_object().field("host", host).field("rank", rank).end_object();
    return out;
}

inline std::string ack_body(std::string_view status, std::string_view message) {
    std::string out;
    json_writer(out).begin_object().field("status", status).field("message", message).end_object();
    return out;
}

// ---- reading the server's answers ------------------------------------------
using document = rapidjson::Document;
using value = rapidjson::Value;

inline std::optional<document> parse(std::string_view body) {
    document doc;
    if (!parse_document(doc, body) || !doc.IsObject()) return std::nullopt;
    return doc;
}

inline std::string str(const value& o, const char* k) {
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                       : std::string{};
}

inline std::optional<std::int64_t> integer(const value& o, const char* k) {
    auto it = o.FindMember(k);
    if (it == o.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
    return it->value.GetInt64();
}

inline std::string raw(const value& o, const char* k) { return get_raw(o, k); }

// "2025-10-07T14:32:00.123Z" -> Unix seconds (0 when absent or malformed).
inline double iso_seconds(const value& o, const char* k) {
    std::string s = str(o, k);
    std::tm tm{};
    int ms = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<double>(timegm(&tm)) + ms / 1000.0;
}

inline run_info read_run(const value& o) {
    run_info r;
    r.id = str(o, "id");
    r.name = str(o, "name");
    r.status = parse_run_status(str(o, "status")).value_or(run_status::running);
    r.config_json = raw(o, "config");
    if (auto it = o.FindMember("tags"); it != o.MemberEnd() && it->value.IsArray())
        for (const auto& t : it->value.GetArray())
            if (t.IsString()) r.tags.emplace_back(t.GetString(), t.GetStringLength());
    r.notes = str(o, "notes");
    r.start_time = iso_seconds(o, "start_time");
    if (double t = iso_seconds(o, "end_time"); t > 0) r.end_time = t;
    r.created_at = iso_seconds(o, "created_at");
    r.updated_at = iso_seconds(o, "updated_at");
    r.total_steps = integer(o, "total_steps");
    r.last_step = integer(o, "last_step");
    return r;
}

inline checkpoint_info read_checkpoint(const value& o) {
    checkpoint_info c;
    c.id = str(o, "id");
    c.run_id = str(o, "run_id");
    c.filepath = str(o, "filepath");
    c.step = integer(o, "step");
    c.metrics_json = raw(o, "metrics");
    c.metadata_json = raw(o, "metadata");
    auto it = o.FindMember("is_best");
    c.is_best = it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
    c.created_at = iso_seconds(o, "created_at");
    return c;
}

inline command read_command(const value& o) {
    command c;
    c.id = integer(o, "id").value_or(0);
    c.run_id = str(o, "run_id");
    c.type = str(o, "type");
    c.checkpoint_id = str(o, "checkpoint_id");
    c.filepath = str(o, "filepath");
    c.payload_json = raw(o, "payload");
    c.created_at = iso_seconds(o, "created_at");
    return c;
}

// The array member `k` of a response, each element read with `read`.
template <class T, class Read>
std::vector<T> read_list(std::string_view body, const char* k, Read read) {
    std::vector<T> out;
    auto doc = parse(body);
    if (!doc) return out;
    const auto& d = *doc;  // const: clang finds RapidJSON's iterator == ambiguous when reversed
    auto it = d.FindMember(k);
    if (it == d.MemberEnd() || !it->value.IsArray()) return out;
    for (const auto& x : it->value.GetArray())
        if (x.IsObject()) out.push_back(read(x));
    return out;
}

// The "total" a paged list reports (how many match, beyond this page); fallback when absent.
inline std::size_t total_of(std::string_view body, std::size_t fallback) {
    auto doc = parse(body);
    if (!doc) return fallback;
    auto t = integer(*doc, "total");
    return t && *t >= 0 ? static_cast<std::size_t>(*t) : fallback;
}

}  // namespace tmon::detail::wire
