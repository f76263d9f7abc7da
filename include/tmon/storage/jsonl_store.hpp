#pragma once
// Append-only JSON-lines files, one folder per run (layout in
// detail/jsonl_journal.hpp): greppable, tail -f-able, trivially backed up.
// Everything queries need is kept in memory and rebuilt by replaying the
// files on open; a torn last line from a crash is dropped with a warning.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <future>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "tmon/core/log.hpp"
#include "tmon/storage/detail/append_file.hpp"
#include "tmon/storage/detail/jsonl_journal.hpp"
#include "tmon/storage/detail/jsonl_lines.hpp"
#include "tmon/storage/detail/metric_groups.hpp"
#include "tmon/storage/detail/metric_lines.hpp"
#include "tmon/storage/detail/replay_progress.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/storage/detail/state_store.hpp"
#include "tmon/storage/detail/write_checks.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

struct jsonl_store_options {
    std::string dir = "tmon-runs";
    bool fsync = false;   // fdatasync every write: survives power loss, not just kill -9
};

class jsonl_store : public detail::state_store<detail::jsonl_journal> {
public:
    using options = jsonl_store_options;

    explicit jsonl_store(options o = {}) : state_store({}, open_journal(o)) { replay(); }

    // Checked, grouped by key and formatted before taking the lock; under it
    // only the write(2) of the lines and the in-memory index update.
    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        auto& scratch = metric_scratch::of_this_thread();
        scratch.groups.assign(points);
        if (!scratch.groups.valid()) detail::check_points(points);  // throws, naming the point
        auto lines = scratch.encoder.encode(scratch.groups);
        write([&] { state_.append_encoded_metrics(run_id, scratch.groups, lines); });
        if (points.size() > metric_scratch::keep_for_points) scratch = {};
    }

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
    static void for_each_record(const std::filesystem::path& path, detail::replay_progress& progress, F&& fn) {
        detail::json_line_parser parser;
        detail::for_each_line(path, [&](std::string_view line) {
            progress.line_read(line.size() + 1);
            if (const rapidjson::Value* v = parser.parse(line)) fn(*v);
            else log(log_level::warn, "jsonl", "skipping a malformed line in {}", path.string());
        });
    }

    void apply_events(const rapidjson::Value& line) {
        if (auto* evs = detail::member(line, "events"); evs && evs->IsArray())
            for (const auto& e : evs->GetArray()) state_.apply_event(detail::read_event(e));
    }

    void replay() {
        const auto& journal = state_.journal();
        remove_tombstones(journal.runs_dir());
        detail::replay_progress progress{journal.root()};
        std::size_t runs = 0;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(journal.runs_dir(), ec)) {
            if (entry.is_directory() && entry.path().filename().string().front() != '.')
                runs += replay_run(entry.path(), progress);
        }
        for_each_record(journal.root() / "system.jsonl", progress,
                        [&](const rapidjson::Value& v) { state_.apply_system(detail::read_system(v)); });
        for_each_record(journal.root() / "events.jsonl", progress,
                        [&](const rapidjson::Value& v) { state_.apply_event(detail::read_event(v)); });
        progress.finish(runs);
    }

    static void remove_tombstones(const std::filesystem::path& runs_dir) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(runs_dir, ec))
            if (entry.path().filename().string().rfind(".deleted-", 0) == 0) std::filesystem::remove_all(entry.path(), ec);
    }

    // Whether the folder held a run.
    bool replay_run(const std::filesystem::path& dir, detail::replay_progress& progress) {
        std::string run_id;
        for_each_record(dir / "run.jsonl", progress, [&](const rapidjson::Value& v) {
            auto* r = detail::member(v, "run");
            if (!r) return;
            run_info info = detail::read_run(*r);
            info.last_step.reset();  // rebuilt from the metrics below
            run_id = info.id;
            state_.apply_run(info);
            apply_events(v);
        });
        if (run_id.empty()) return false;
        for_each_record(dir / "checkpoints.jsonl", progress, [&](const rapidjson::Value& v) {
            auto* c = detail::member(v, "checkpoint");
            if (!c) return;
            auto info = detail::read_checkpoint(*c);
            auto op = detail::get_string(v, "op");
            if (op == "saved") state_.apply_checkpoint_saved(info);
            else if (op == "deleted") state_.apply_checkpoint_deleted(info.id);
            else if (op == "best") state_.apply_best(info.id);
            apply_events(v);
        });
        replay_metrics(dir / "metrics.jsonl", run_id, progress);
        for_each_record(dir / "layers.jsonl", progress, [&](const rapidjson::Value& v) {
            auto snap = detail::read_layer_snapshot(v);
            snap.run_id = run_id;
            state_.apply_layers(snap, 0);
        });
        for_each_record(dir / "events.jsonl", progress,
                        [&](const rapidjson::Value& v) { state_.apply_event(detail::read_event(v)); });
        return true;
    }

    // Metrics files are most of a store's bytes, and parsing their numbers most
    // of a reopen: chunks are parsed on worker threads while this thread applies
    // the chunks before them, in file order, so the last write of a (key, step)
    // still wins. A small file is parsed right here.
    void replay_metrics(const std::filesystem::path& file, const std::string& run_id, detail::replay_progress& progress) {
        std::deque<std::future<detail::parsed_metric_lines>> parsing;
        const std::size_t workers = std::max(2u, std::thread::hardware_concurrency());
        auto apply = [&](const detail::parsed_metric_lines& chunk) {
            warn_skipped(file, chunk);
            for (const auto& line : chunk.lines) {
                double last_write = 0;
                for (const auto& p : line.points) last_write = std::max(last_write, p.time);
                state_.apply_series(run_id, line.key, line.points, last_write);
                progress.points_applied(line.points.size());
            }
        };
        auto apply_all_parsing = [&] {
            for (; !parsing.empty(); parsing.pop_front()) apply(parsing.front().get());
        };
        detail::for_each_chunk(file, [&](std::span<char> text) {
            progress.chunk_read(text.size());
            if (parsing.empty() && text.size() < parse_here_below_bytes) return apply(detail::parse_metric_lines(text));
            try {
                parsing.push_back(std::async(std::launch::async, [copy = std::string(text.data(), text.size())]() mutable {
                    return detail::parse_metric_lines(copy);
                }));
            } catch (const std::system_error&) {  // no thread to be had: parse here, after those in flight
                apply_all_parsing();
                return apply(detail::parse_metric_lines(text));
            }
            if (parsing.size() > workers) apply(parsing.front().get()), parsing.pop_front();
        });
        apply_all_parsing();
    }

    static constexpr std::size_t parse_here_below_bytes = 256 << 10;

    static void warn_skipped(const std::filesystem::path& file, const detail::parsed_metric_lines& chunk) {
        if (chunk.malformed == 1) log(log_level::warn, "jsonl", "skipping a malformed line in {}", file.string());
        if (chunk.malformed > 1)
            log(log_level::warn, "jsonl", "skipping {} malformed lines in {}", chunk.malformed, file.string());
        if (chunk.unknown_shape == 1)
            log(log_level::warn, "jsonl", "skipping a metrics line of no known shape in {}", file.string());
        if (chunk.unknown_shape > 1)
            log(log_level::warn, "jsonl", "skipping {} metrics lines of no known shape in {}", chunk.unknown_shape,
                file.string());
    }
};

static_assert(assert_storage<jsonl_store>());

}  // namespace tmon
