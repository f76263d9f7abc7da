#pragma once
// Complete exports of a run's scalars (never downsampled): CSV, JSON, JSONL.
//
// Streamed (http::body_stream, chunked): the store is read a window of steps
// at a time on the work pool, and the next window only once the transport has
// written the last piece, so an export of any size holds about one window of
// points and one piece of text, and a client that stops reading stops the
// reading. Rows come in step order, and within a step in key order: the same
// bytes as sorting the whole run at once.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tmon/core/log.hpp"
#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::detail {

enum class export_format { csv, json, jsonl };

struct export_row {
    step_t step;
    double time;
    std::uint32_t key;  // index into the export's keys
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

// A double as fmt's "{}" writes it: the JSON number text, and nan/inf spelt out.
inline void append_csv_number(std::string& out, double v) {
    if (std::isnan(v)) out += std::signbit(v) ? "-nan" : "nan";
    else if (std::isinf(v)) out += v < 0 ? "-inf" : "inf";
    else tmon::detail::append_json_number(out, v);
}

inline void write_row(json_out::json_writer& w, const export_row& r, std::string_view key) {
    w.begin_object()
        .field("step", static_cast<std::int64_t>(r.step))
        .field("timestamp", r.time)
        .field("key", key)
        .field("value", r.value)
        .end_object();
}

// One row as text; `first`: no separator before it (JSON's array).
inline void append_row(std::string& out, export_format f, const export_row& r, std::string_view key, bool first) {
    switch (f) {
        case export_format::csv:
            tmon::detail::append_json_integer(out, r.step);  // fmt's "{}" text, without its formatter compiled here
            out.push_back(',');
            append_csv_number(out, r.time);
            out.push_back(',');
            append_csv_field(out, key);
            out.push_back(',');
            tmon::detail::append_json_number(out, r.value);
            out.push_back('\n');
            return;
        case export_format::jsonl: {
            json_out::json_writer w(out);
            write_row(w, r, key);
            out.push_back('\n');
            return;
        }
        case export_format::json: {
            if (!first) out.push_back(',');
            json_out::json_writer w(out);
            write_row(w, r, key);
            return;
        }
    }
}

// One of request_limits::concurrent_exports, held until the export's stream is
// gone (sent, or dropped with its connection).
template <class Store>
class export_slot {
public:
    explicit export_slot(detail::server_state<Store>& s) : s_(&s) {}
    export_slot(export_slot&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    export_slot(const export_slot&) = delete;
    export_slot& operator=(const export_slot&) = delete;
    export_slot& operator=(export_slot&&) = delete;
    ~export_slot() {
        if (s_) s_->end_export();
    }

private:
    detail::server_state<Store>* s_;
};

// Reads windows of steps [lo, hi] of every key, sized so that a window holds
// about target_rows rows: grown while they come back sparse, shrunk when dense.
template <class Store>
class export_stream final : public http::body_stream, public std::enable_shared_from_this<export_stream<Store>> {
public:
    static constexpr std::size_t piece_bytes = 256 * 1024;  // text handed to the transport per pull
    static constexpr std::size_t target_rows = 32 * 1024;   // points read from the store per window
    static constexpr step_t first_span = 1024;

    export_stream(detail::server_state<Store>& s, tmon::detail::work_pool* pool, export_slot<Store> slot, run_info run,
                  export_format f, std::vector<std::string> keys)
        : s_(s), pool_(pool), slot_(std::move(slot)), run_(std::move(run)), format_(f), keys_(std::move(keys)) {
        // Steps past the run's highest at the start are not part of this export.
        if (run_.last_step && !keys_.empty()) last_ = *run_.last_step;
        else exhausted_ = true;
        switch (format_) {
            case export_format::csv: head_ = "step,timestamp,key,value\n"; break;
            case export_format::jsonl: break;
            case export_format::json: {
                json_out::json_writer w(head_);
                w.begin_object().field("run_id", run_.id).key("run");
                json_out::write_run(w, run_);
                w.key("points").begin_array();
                tail_ = "]}";
                break;
            }
        }
    }

    // On the work pool (or here, when its queue is full): store reads never
    // run on an io thread. A read that fails drops `deliver`, which cuts the
    // transfer short: the client never takes a partial export for a whole one.
    void pull(deliver_fn deliver) override {
        auto work = [self = this->shared_from_this(), deliver]() mutable {
            std::optional<std::string> piece;
            try {
                piece = self->next_piece();
            } catch (const std::exception& e) {
                log(log_level::error, "server", "export of run '{}' failed while streaming: {}", self->run_.id,
                    e.what());
                return;
            }
            // The connection owns the stream: after the last piece nothing here may hold it (and its slot).
            self.reset();
            deliver(std::move(piece));
        };
        if (pool_ && pool_->try_post(work)) return;
        work();
    }

private:
    std::optional<std::string> next_piece() {
        if (done_) return std::nullopt;
        std::string out = std::exchange(head_, {});
        while (out.size() < piece_bytes) {
            if (pos_ < rows_.size()) {
                const auto& r = rows_[pos_++];
                append_row(out, format_, r, keys_[r.key], rows_written_++ == 0);
                continue;
            }
            if (!load_window()) {
                out += tail_;
                done_ = true;
                break;
            }
        }
        return out;
    }

    // The next window that holds any rows; false when the steps are exhausted.
    bool load_window() {
        rows_.clear();
        pos_ = 0;
        if (rows_.capacity() > 4 * target_rows) std::vector<export_row>{}.swap(rows_);
        while (!exhausted_) {
            // The first window also takes every step below 0 (only the C++ API can log those).
            const step_t lo = first_window_ ? std::numeric_limits<step_t>::min() : next_;
            const step_t from = first_window_ ? 0 : next_;
            step_t hi = last_;
            if (from <= last_ && span_ - 1 < last_ - from) hi = from + (span_ - 1);
            else exhausted_ = true;
            first_window_ = false;
            if (!exhausted_) next_ = hi + 1;

            metric_query q;
            q.run_id = run_.id;
            q.step_min = lo;
            q.step_max = hi;
            for (std::uint32_t k = 0; k < keys_.size(); ++k) {
                q.key = keys_[k];
                auto series = s_.store().query_metrics(q);
                for (const auto& p : series.points) rows_.push_back({p.step, p.time, k, p.value});
            }
            // Keys were read in order: a stable sort by step keeps them so within a step.
            std::stable_sort(rows_.begin(), rows_.end(),
                             [](const export_row& a, const export_row& b) { return a.step < b.step; });
            resize_span(rows_.size());
            if (!rows_.empty()) return true;
        }
        return false;
    }

    void resize_span(std::size_t rows) {
        constexpr step_t most = step_t{1} << 60;
        if (rows > target_rows) {
            double scaled = static_cast<double>(span_) * static_cast<double>(target_rows) / static_cast<double>(rows);
            span_ = std::max<step_t>(1, static_cast<step_t>(scaled));
        } else if (rows < target_rows / 2 && span_ < most) {
            span_ *= 2;  // at most doubled, so a dense stretch after a sparse one costs two windows' worth
        }
    }

    detail::server_state<Store>& s_;
    tmon::detail::work_pool* pool_;
    export_slot<Store> slot_;
    run_info run_;
    export_format format_;
    std::vector<std::string> keys_;
    std::string head_, tail_;

    std::vector<export_row> rows_;  // the window being written
    std::size_t pos_ = 0;
    std::uint64_t rows_written_ = 0;
    step_t last_ = 0;
    step_t next_ = 0;
    step_t span_ = first_span;
    bool first_window_ = true;
    bool exhausted_ = false;
    bool done_ = false;
};

}  // namespace tmon::detail

namespace tmon::api {

template <class Store>
http::response export_run(detail::server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    std::string_view format = r.query.get_or("format", "csv");
    detail::export_format f;
    if (format == "csv") f = detail::export_format::csv;
    else if (format == "json") f = detail::export_format::json;
    else if (format == "jsonl") f = detail::export_format::jsonl;
    else throw malformed(fmt::format("query parameter 'format' must be csv, json or jsonl, got '{}'", format));
    // A backstop: each export holds little memory now, but a client that
    // stops reading holds its slot until the send timeout closes it.
    if (!s.try_begin_export()) {
        auto busy = http::error_response(
            503, fmt::format("{} exports are being sent; retry shortly", s.limits().concurrent_exports));
        busy.headers.push_back({"Retry-After", "2"});
        return busy;
    }
    detail::export_slot<Store> slot{s};
    auto keys = s.store().metric_keys(run.id);

    http::response res;
    if (f == detail::export_format::csv) res.content_type = "text/csv; charset=utf-8";
    else if (f == detail::export_format::jsonl) res.content_type = "application/x-ndjson";
    res.headers.push_back({"Content-Disposition", fmt::format("attachment; filename=\"{}.{}\"", run.id, format)});
    res.stream =
        std::make_shared<detail::export_stream<Store>>(s, r.pool, std::move(slot), std::move(run), f, std::move(keys));
    return res;
}

template <class Store>
void add_export_routes(route_table<Store>& t) {
    t.get("/api/runs/{run_id}/export", export_run<Store>, accepts{"format"});
}

}  // namespace tmon::api
