#pragma once
// Complete exports of a run's scalars (never downsampled): CSV, JSON, JSONL.
#include <algorithm>
#include <string>
#include <vector>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::api {

namespace detail {

struct export_row {
    step_t step;
    double time;
    const std::string* key;
    double value;
};

inline void append_csv_field(std::string& out, std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
        out += s;
        return;
    }
    out.push_back('"');
    for (char c : s) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

inline std::string to_csv(const std::vector<export_row>& rows) {
    std::string out = "step,timestamp,key,value\n";
    out.reserve(rows.size() * 40);
    for (const auto& r : rows) {
        fmt::format_to(std::back_inserter(out), "{},{},", r.step, r.time);
        append_csv_field(out, *r.key);
        out.push_back(',');
        tmon::detail::append_json_number(out, r.value);
        out.push_back('\n');
    }
    return out;
}

inline void write_row(json_out::json_writer& w, const export_row& r) {
    w.begin_object()
        .field("step", static_cast<std::int64_t>(r.step))
        .field("timestamp", r.time)
        .field("key", *r.key)
        .field("value", r.value)
        .end_object();
}

}  // namespace detail

// An export holds the whole run in memory while it is built (a 2.3 M-point run
// is about 400 MB as JSON), so only request_limits::concurrent_exports run at once.
template <class Store>
http::response export_run(server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    std::string_view format = r.query.get_or("format", "csv");
    if (format != "csv" && format != "json" && format != "jsonl")
        throw malformed(fmt::format("query parameter 'format' must be csv, json or jsonl, got '{}'", format));
    if (!s.try_begin_export()) {
        auto busy = http::error_response(503, fmt::format("{} exports are being built; retry shortly",
                                                          s.limits().concurrent_exports));
        busy.headers.push_back({"Retry-After", "2"});
        return busy;
    }
    struct slot_release {
        server_state<Store>& s;
        ~slot_release() { s.end_export(); }
    } release{s};

    std::vector<metric_series> all;
    for (auto& key : s.store().metric_keys(run.id)) {
        metric_query q;
        q.run_id = run.id;
        q.key = key;
        auto series = s.store().query_metrics(q);
        series.key = std::move(key);
        all.push_back(std::move(series));
    }
    std::vector<detail::export_row> rows;
    for (const auto& series : all)
        for (const auto& p : series.points) rows.push_back({p.step, p.time, &series.key, p.value});
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.step < b.step; });

    http::response res;
    if (format == "csv") {
        res.content_type = "text/csv; charset=utf-8";
        res.body = detail::to_csv(rows);
    } else if (format == "jsonl") {
        res.content_type = "application/x-ndjson";
        for (const auto& row : rows) {
            json_out::json_writer w(res.body);
            detail::write_row(w, row);
            res.body.push_back('\n');
        }
    } else {
        json_out::json_writer w(res.body);
        w.begin_object().field("run_id", run.id).key("run");
        json_out::write_run(w, run);
        w.key("points").begin_array();
        for (const auto& row : rows) detail::write_row(w, row);
        w.end_array().end_object();
    }
    res.headers.push_back({"Content-Disposition", fmt::format("attachment; filename=\"{}.{}\"", run.id, format)});
    return res;
}

template <class Store>
void add_export_routes(route_table<Store>& t) {
    t.get("/api/runs/{run_id}/export", export_run<Store>);
}

}  // namespace tmon::api
