#pragma once
// Request bodies of the routes remote trainers use (docs/API.md, "Remote
// trainers"): heartbeats, their machines' system samples, events with client
// ids, commands and acknowledgements. Same rules as json_body.hpp: malformed
// JSON is a 400, a wrong type or a value out of bounds a 422 naming the field,
// and everything is checked before anything is written.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tmon/core/types.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/server/trainer_identity.hpp"

namespace tmon::json_body {

// "host" and "rank" of a body, over the headers' identity.
inline trainer_identity get_identity(const value& doc, trainer_identity who, const request_limits& limits,
                                     std::string_view where = {}) {
    if (auto* v = non_null_member(doc, "host")) {
        std::string field = fmt::format("'{}host'", where);
        if (!v->IsString()) throw invalid(fmt::format("{} must be a string", field));
        who.host = checked_host(as_view(*v), limits.host_bytes, field, 422);
    }
    if (auto* v = non_null_member(doc, "rank")) {
        if (!v->IsInt() || v->GetInt() < 0 || v->GetInt() > max_trainer_rank)
            throw invalid(fmt::format("'{}rank' must be an integer from 0 to {}", where, max_trainer_rank));
        who.rank = v->GetInt();
    }
    return who;
}

// An empty body is a heartbeat too.
inline trainer_identity parse_heartbeat(std::string_view body, const trainer_identity& who,
                                        const request_limits& limits = {}) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return who;
    auto doc = parse(body, limits);
    require_object(doc, "the heartbeat");
    return get_identity(doc, who, limits);
}

inline std::uint64_t get_count(const value& v, std::string_view field) {
    if (!v.IsNumber()) throw invalid(fmt::format("'{}' must be a non-negative integer", field));
    if (v.IsUint64()) return v.GetUint64();
    double d = v.GetDouble();
    if (!std::isfinite(d) || d < 0 || d >= 1.8e19 || std::floor(d) != d)
        throw invalid(fmt::format("'{}' must be a non-negative integer", field));
    return static_cast<std::uint64_t>(d);
}

inline gpu_sample parse_gpu(const value& v, const std::string& where, const request_limits& limits) {
    if (!v.IsObject()) throw invalid(fmt::format("{} must be an object", where));
    gpu_sample g;
    auto num = [&](const char* name, double& out) {
        if (auto* x = non_null_member(v, name)) out = get_finite(*x, fmt::format("{}.{}", where, name));
    };
    auto count = [&](const char* name, std::uint64_t& out) {
        if (auto* x = non_null_member(v, name)) out = get_count(*x, fmt::format("{}.{}", where, name));
    };
    if (auto* x = non_null_member(v, "index")) {
        if (!x->IsInt() || x->GetInt() < 0 || x->GetInt() > (1 << 20))
            throw invalid(fmt::format("'{}.index' must be an integer from 0 to {}", where, 1 << 20));
        g.index = x->GetInt();
    }
    if (auto* x = non_null_member(v, "name")) g.name = get_bounded_string(*x, where + ".name", limits.key_bytes);
    num("utilization", g.utilization);
    count("memory_used", g.memory_used);
    count("memory_total", g.memory_total);
    num("temperature", g.temperature);
    num("power", g.power);
    return g;
}

// One sample in the shape GET /api/system/status returns, plus host and rank;
// "timestamp" (Unix seconds) is required: a replay must carry its own time.
inline system_sample parse_system_sample(const value& v, const std::string& run_id, const trainer_identity& who,
                                         const request_limits& limits, const std::string& where) {
    if (!v.IsObject()) throw invalid(fmt::format("{} must be a JSON object", where.empty() ? "the sample" : where));
    std::string prefix = where.empty() ? std::string{} : where + ".";
    system_sample s;
    s.run_id = run_id;
    const value* t = non_null_member(v, "timestamp");
    if (!t) throw invalid(fmt::format("'{}timestamp' (Unix seconds) is required", prefix));
    s.time = get_finite(*t, prefix + "timestamp");
    auto num = [&](const char* name, double& out) {
        if (auto* x = non_null_member(v, name)) out = get_finite(*x, prefix + name);
    };
    auto count = [&](const char* name, std::uint64_t& out) {
        if (auto* x = non_null_member(v, name)) out = get_count(*x, prefix + name);
    };
    num("cpu_percent", s.cpu_percent);
    num("memory_percent", s.memory_percent);
    count("memory_used", s.memory_used);
    count("memory_total", s.memory_total);
    count("process_rss", s.process_rss);
    if (auto* g = non_null_member(v, "gpus")) {
        if (!g->IsArray()) throw invalid(fmt::format("'{}gpus' must be an array", prefix));
        if (g->Size() > limits.gpus_per_sample)
            throw invalid(fmt::format("'{}gpus' may hold at most {} GPUs", prefix, limits.gpus_per_sample));
        std::size_t i = 0;
        for (const auto& x : g->GetArray())
            s.gpus.push_back(parse_gpu(x, fmt::format("{}gpus[{}]", prefix, i++), limits));
    }
    trainer_identity id = get_identity(v, who, limits, prefix);
    if (id.host.empty())
        throw invalid(fmt::format("'{}host' is required (in the body or the X-Tmon-Host header)", prefix));
    s.host = std::move(id.host);
    s.rank = id.rank;
    return s;
}

// One sample, or {"samples":[...]} (host and rank of the outer object apply to each).
inline std::vector<system_sample> parse_system_samples(std::string_view body, const std::string& run_id,
                                                       const trainer_identity& who, const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the body");
    std::vector<system_sample> out;
    const value* samples = member(doc, "samples");
    if (!samples) {
        out.push_back(parse_system_sample(doc, run_id, who, limits, {}));
        return out;
    }
    if (!samples->IsArray()) throw invalid("'samples' must be an array of samples");
    if (samples->Size() > limits.samples_per_post)
        throw invalid(fmt::format("'samples' may hold at most {} samples per request", limits.samples_per_post));
    trainer_identity outer = get_identity(doc, who, limits);
    std::size_t i = 0;
    for (const auto& x : samples->GetArray())
        out.push_back(parse_system_sample(x, run_id, outer, limits, fmt::format("samples[{}]", i++)));
    return out;
}

inline std::string get_type(const value& v, const request_limits& limits) {
    return get_bounded_name(v, "type", limits.type_bytes);
}

// {"id"?, "type", "message"?, "data"?, "timestamp"?}
inline event parse_trainer_event(std::string_view body, const std::string& run_id, const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the event");
    event e;
    e.run_id = run_id;
    const value* type = member(doc, "type");
    if (!type) throw invalid("'type' is required");
    e.type = get_type(*type, limits);
    if (auto* v = non_null_member(doc, "message")) e.message = get_bounded_string(*v, "message", limits.text_bytes);
    if (auto* v = non_null_member(doc, "data")) e.data_json = get_object_text(*v, "data");
    if (auto* v = non_null_member(doc, "timestamp")) e.time = get_finite(*v, "timestamp");
    if (auto* v = non_null_member(doc, "id")) e.client_id = get_id(*v, "id");
    return e;
}

// {"type", "payload"?, "checkpoint_id"?, "filepath"?}
inline command parse_command(std::string_view body, const std::string& run_id, const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the command");
    require_known_fields(doc, {"type", "payload", "checkpoint_id", "filepath"}, "a command");
    command c;
    c.run_id = run_id;
    const value* type = member(doc, "type");
    if (!type) throw invalid("'type' is required");
    c.type = get_type(*type, limits);
    if (auto* v = non_null_member(doc, "payload")) c.payload_json = get_object_text(*v, "payload");
    if (auto* v = non_null_member(doc, "checkpoint_id")) c.checkpoint_id = get_id(*v, "checkpoint_id");
    if (auto* v = non_null_member(doc, "filepath")) c.filepath = get_bounded_string(*v, "filepath", limits.path_bytes);
    return c;
}

struct command_ack {
    std::string status;  // ok, failed, ignored
    std::string message;
};

inline command_ack parse_command_ack(std::string_view body, const request_limits& limits = {}) {
    auto doc = parse(body, limits);
    require_object(doc, "the acknowledgement");
    command_ack a;
    const value* status = member(doc, "status");
    if (!status) throw invalid("'status' is required (ok, failed or ignored)");
    a.status = get_string(*status, "status");
    if (a.status != "ok" && a.status != "failed" && a.status != "ignored")
        throw invalid(fmt::format("'status' must be ok, failed or ignored, got '{}'", a.status.substr(0, 64)));
    if (auto* v = non_null_member(doc, "message")) a.message = get_bounded_string(*v, "message", limits.text_bytes);
    return a;
}

}  // namespace tmon::json_body
