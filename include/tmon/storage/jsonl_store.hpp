#pragma once
// Append-only JSON-lines files, one folder per run (layout in
// detail/jsonl_journal.hpp): greppable, tail -f-able, trivially backed up.
// Everything queries need is kept in memory and rebuilt by replaying the
// files on open; a torn last line from a crash is dropped with a warning.
#include <algorithm>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "tmon/core/log.hpp"
#include "tmon/storage/detail/append_file.hpp"
#include "tmon/storage/detail/jsonl_journal.hpp"
#include "tmon/storage/detail/memory_state.hpp"
#include "tmon/storage/detail/metric_groups.hpp"
#include "tmon/storage/detail/metric_lines.hpp"
#include "tmon/storage/detail/record_codec.hpp"
#include "tmon/storage/detail/write_checks.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

struct jsonl_store_options {
    std::string dir = "tmon-runs";
    bool fsync = false;   // fdatasync every write: survives power loss, not just kill -9
};

class jsonl_store {
    template <class F>
    auto read(F&& f) {
        std::shared_lock lock(mutex_);
        return f();
    }
    template <class F>
    auto write(F&& f) {
        std::unique_lock lock(mutex_);
        return f();
    }

public:
    using options = jsonl_store_options;

    explicit jsonl_store(options o = {}) : state_({}, open_journal(o)) { replay(); }

    run_info create_run(const new_run& r) { return write([&] { return state_.create_run(r); }); }
    std::optional<run_info> get_run(std::string_view id) { return read([&] { return state_.get_run(id); }); }
    run_page list_runs(const run_query& q) { return read([&] { return state_.list_runs(q); }); }
    run_info update_run(std::string_view id, const run_update& u) {
        return write([&] { return state_.update_run(id, u); });
    }
    bool delete_run(std::string_view id) { return write([&] { return state_.delete_run(id); }); }

    // Checked, grouped by key and formatted before taking the lock; under it
    // only the write(2) of the lines and the in-memory index update.
    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        detail::check_points(points);
        auto& scratch = metric_scratch::of_this_thread();
        scratch.groups.assign(points);
        auto lines = scratch.encoder.encode(scratch.groups);
        write([&] { state_.append_encoded_metrics(run_id, scratch.groups, lines); });
        if (points.size() > metric_scratch::keep_for_points) scratch = {};
    }
    metric_series query_metrics(const metric_query& q) { return read([&] { return state_.query_metrics(q); }); }
    std::vector<latest_metric> latest_metrics(std::string_view run_id) {
        return read([&] { return state_.latest_metrics(run_id); });
    }
    std::vector<std::string> metric_keys(std::string_view run_id) {
        return read([&] { return state_.metric_keys(run_id); });
    }

    checkpoint_info add_checkpoint(const new_checkpoint& c) { return write([&] { return state_.add_checkpoint(c); }); }
    std::optional<checkpoint_info> get_checkpoint(std::string_view id) {
        return read([&] { return state_.get_checkpoint(id); });
    }
    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id) {
        return read([&] { return state_.list_checkpoints(run_id); });
    }
    bool delete_checkpoint(std::string_view id) { return write([&] { return state_.delete_checkpoint(id); }); }
    checkpoint_info mark_best(std::string_view id) { return write([&] { return state_.mark_best(id); }); }

    void append_system(const system_sample& s) { write([&] { state_.append_system(s); }); }
    std::vector<system_sample> system_history(const system_query& q) {
        return read([&] { return state_.system_history(q); });
    }

    void append_layers(const layer_snapshot& l) { write([&] { state_.append_layers(l); }); }
    std::optional<layer_snapshot> get_layers(std::string_view run_id, step_t step) {
        return read([&] { return state_.get_layers(run_id, step); });
    }
    std::vector<step_t> layer_steps(std::string_view run_id) {
        return read([&] { return state_.layer_steps(run_id); });
    }

    event append_event(const event& e) { return write([&] { return state_.append_event(e); }); }
    std::vector<event> list_events(const event_query& q) { return read([&] { return state_.list_events(q); }); }

    // Every returned write is already in the files.
    void flush() {}

private:
    // Reused across a thread's appends: no allocation per batch in the steady state.
    struct metric_scratch {
        static constexpr std::size_t keep_for_points = 1 << 16;  // a larger batch's buffers are freed
        detail::metric_groups groups;
        detail::metric_line_encoder encoder;
        static metric_scratch& of_this_thread() {
            thread_local metric_scratch s;
            return s;
        }
    };

    static detail::jsonl_journal open_journal(const options& o) {
        std::filesystem::path root{o.dir};
        std::error_code ec;
        std::filesystem::create_directories(root / "runs", ec);
        if (ec) throw error(errc::unavailable, fmt::format("cannot create '{}': {}", root.string(), ec.message()));
        return detail::jsonl_journal{root, o.fsync};
    }

    // ---- replay ------------------------------------------------------------------
    // Calls fn(parsed line) for every complete line; a line that does not parse
    // (disk corruption, a foreign edit) is skipped with a warning, never fatal.
    template <class F>
    static void for_each_record(const std::filesystem::path& path, F&& fn) {
        std::string storage;
        auto lines = detail::read_lines(path, storage);
        rapidjson::Document doc;
        for (auto line : lines) {
            doc.Parse<rapidjson::kParseFullPrecisionFlag>(line.data(), line.size());
            if (doc.HasParseError() || !doc.IsObject()) {
                log(log_level::warn, "jsonl", "skipping a malformed line in {}", path.string());
                continue;
            }
            fn(static_cast<const rapidjson::Value&>(doc));
        }
    }

    void apply_events(const rapidjson::Value& line) {
        if (auto* evs = detail::member(line, "events"); evs && evs->IsArray())
            for (const auto& e : evs->GetArray()) state_.apply_event(detail::read_event(e));
    }

    void replay() {
        const auto& journal = state_.journal();
        remove_tombstones(journal.runs_dir());
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(journal.runs_dir(), ec)) {
            if (entry.is_directory() && entry.path().filename().string().front() != '.') replay_run(entry.path());
        }
        for_each_record(journal.root() / "system.jsonl",
                        [&](const rapidjson::Value& v) { state_.apply_system(detail::read_system(v)); });
        for_each_record(journal.root() / "events.jsonl",
                        [&](const rapidjson::Value& v) { state_.apply_event(detail::read_event(v)); });
    }

    static void remove_tombstones(const std::filesystem::path& runs_dir) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(runs_dir, ec))
            if (entry.path().filename().string().rfind(".deleted-", 0) == 0) std::filesystem::remove_all(entry.path(), ec);
    }

    void replay_run(const std::filesystem::path& dir) {
        std::string run_id;
        for_each_record(dir / "run.jsonl", [&](const rapidjson::Value& v) {
            auto* r = detail::member(v, "run");
            if (!r) return;
            run_info info = detail::read_run(*r);
            info.last_step.reset();  // rebuilt from the metrics below
            run_id = info.id;
            state_.apply_run(info);
            apply_events(v);
        });
        if (run_id.empty()) return;
        for_each_record(dir / "checkpoints.jsonl", [&](const rapidjson::Value& v) {
            auto* c = detail::member(v, "checkpoint");
            if (!c) return;
            auto info = detail::read_checkpoint(*c);
            auto op = detail::get_string(v, "op");
            if (op == "saved") state_.apply_checkpoint_saved(info);
            else if (op == "deleted") state_.apply_checkpoint_deleted(info.id);
            else if (op == "best") state_.apply_best(info.id);
            apply_events(v);
        });
        replay_metrics(dir / "metrics.jsonl", run_id);
        for_each_record(dir / "layers.jsonl", [&](const rapidjson::Value& v) {
            auto snap = detail::read_layer_snapshot(v);
            snap.run_id = run_id;
            state_.apply_layers(snap, 0);
        });
        for_each_record(dir / "events.jsonl",
                        [&](const rapidjson::Value& v) { state_.apply_event(detail::read_event(v)); });
    }

    // Applied line by line, in file order, so the last write of a (key, step) wins.
    void replay_metrics(const std::filesystem::path& file, const std::string& run_id) {
        std::string key;
        std::vector<series_point> points;
        for_each_record(file, [&](const rapidjson::Value& v) {
            if (!detail::read_metric_line(v, key, points)) {
                log(log_level::warn, "jsonl", "skipping a metrics line of no known shape in {}", file.string());
                return;
            }
            double last_write = 0;
            for (const auto& p : points) last_write = std::max(last_write, p.time);
            state_.apply_series(run_id, key, points, last_write);
        });
    }

    std::shared_mutex mutex_;
    detail::memory_state<detail::jsonl_journal> state_;
};

static_assert(assert_storage<jsonl_store>());

}  // namespace tmon
