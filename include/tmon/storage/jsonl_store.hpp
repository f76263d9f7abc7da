#pragma once
// Append-only JSON-lines files, one folder per run (layout in
// detail/jsonl_journal.hpp): greppable, tail -f-able, trivially backed up.
// Everything queries need is kept in memory and rebuilt by replaying the
// files on open; a torn last line from a crash is dropped with a warning.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <future>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "tmon/core/log.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/storage/detail/append_file.hpp"
#include "tmon/storage/detail/jsonl_journal.hpp"
#include "tmon/storage/detail/jsonl_lines.hpp"
#include "tmon/storage/detail/metric_groups.hpp"
#include "tmon/storage/detail/metric_lines.hpp"
#include "tmon/storage/detail/replay_progress.hpp"
#include "tmon/storage/detail/state_store.hpp"
#include "tmon/storage/detail/write_checks.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

struct jsonl_store_options {
    std::string dir = "tmon-runs";
    bool fsync = false;  // fdatasync every write: survives power loss, not just kill -9
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
        for (std::size_t g = 0; g < scratch.groups.size(); ++g) detail::check_key_reads_back(scratch.groups.key(g));
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
    // The files are read back as warily as a request body: every line parses
    // under json_read.hpp's limits, every field is type-checked, and a run is
    // the folder its files are in, whatever a record says. What cannot be read
    // is skipped and told once per file (detail::replay_faults); opening never
    // fails for a file's contents.

    // Calls fn(object, faults) for every complete line that holds a JSON object.
    template <class F>
    static void for_each_record(const std::filesystem::path& path, detail::replay_progress& progress, F&& fn) {
        detail::json_line_parser parser;
        detail::replay_faults faults;
        detail::for_each_line(path, [&](std::string_view line) {
            progress.line_read(line.size() + 1);
            if (const rapidjson::Value* v = parser.parse(line, faults)) fn(*v, faults);
        });
        faults.report(path);
    }

    // A record in a run's folder belongs to that run: one naming another is read
    // as the folder's (a copied or renamed folder), and counted.
    static void claim(std::string& record_run_id, const std::string& run_id, detail::replay_faults& faults) {
        if (!record_run_id.empty() && record_run_id != run_id) faults.names_another_run(record_run_id);
        record_run_id = run_id;
    }

    // Events are ordered and told apart by their ids: one without is skipped,
    // as is one past 2^53 (the next id must not overflow, and a browser reads
    // ids as doubles). `run_id` is the folder's, or empty for the store's own
    // events.jsonl. Whether it was applied.
    bool apply_event_record(const rapidjson::Value& v, const std::string& run_id, detail::replay_faults& faults) {
        auto* v_id = detail::member(v, "id");
        auto id = v_id ? detail::as_int64(*v_id) : std::nullopt;
        if (!id || *id < 1 || *id > max_event_id) {
            faults.record_skipped("an event without an integer id from 1 to 2^53");
            return false;
        }
        event e = detail::read_event(v, &faults.fields);
        if (!run_id.empty()) claim(e.run_id, run_id, faults);
        state_.apply_event(e);
        return true;
    }

    void apply_events(const rapidjson::Value& line, const std::string& run_id, detail::replay_faults& faults) {
        auto* evs = detail::member(line, "events");
        if (!evs) return;
        if (!evs->IsArray()) return faults.fields.note("events");
        for (const auto& e : evs->GetArray()) {
            if (e.IsObject()) apply_event_record(e, run_id, faults);
            else faults.record_skipped("an event that is not a JSON object");
        }
    }

    void replay() {
        const auto& journal = state_.journal();
        remove_tombstones(journal.runs_dir());
        detail::replay_progress progress{journal.root()};
        std::size_t runs = 0;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(journal.runs_dir(), ec)) {
            std::error_code type_ec;
            if (!entry.is_directory(type_ec)) continue;
            std::string name = entry.path().filename().string();
            if (!detail::is_safe_name(name)) {
                log(log_level::warn, "jsonl",
                    "skipping folder {:?} in {}: a run id is 1 to 128 letters, digits, '_', '-' or '.', not "
                    "beginning with '.'",
                    name, journal.runs_dir().string());
                continue;
            }
            runs += replay_run(entry.path(), name, progress);
        }
        for_each_record(journal.root() / "system.jsonl", progress,
                        [&](const rapidjson::Value& v, detail::replay_faults& faults) {
                            auto* time = detail::member(v, "time");
                            if (!time || !time->IsNumber())
                                return faults.record_skipped("a system sample without a numeric time");
                            auto sample = detail::read_system(v, &faults.fields);
                            sample.run_id.clear();  // the store's own file holds the server's samples
                            state_.apply_system(sample);
                        });
        for_each_record(
            journal.root() / "events.jsonl", progress,
            [&](const rapidjson::Value& v, detail::replay_faults& faults) { apply_event_record(v, {}, faults); });
        progress.finish(runs);
    }

    static void remove_tombstones(const std::filesystem::path& runs_dir) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(runs_dir, ec))
            if (entry.path().filename().string().rfind(".deleted-", 0) == 0)
                std::filesystem::remove_all(entry.path(), ec);
    }

    // Whether the folder held a run. `run_id` is the folder's name.
    bool replay_run(const std::filesystem::path& dir, const std::string& run_id, detail::replay_progress& progress) {
        std::optional<run_info> run;
        for_each_record(dir / "run.jsonl", progress, [&](const rapidjson::Value& v, detail::replay_faults& faults) {
            auto* r = detail::member(v, "run");
            if (!r || !r->IsObject()) return faults.record_skipped("a line without a \"run\" object");
            // Each line is the whole run: a field this one lacks or mistypes keeps the previous line's value.
            run_info info = detail::read_run(*r, run ? *run : unnamed_run(run_id), &faults.fields);
            claim(info.id, run_id, faults);
            if (info.name.empty()) {  // a run always has a name
                faults.fields.note("name");
                info.name = run ? run->name : run_id;
            }
            info.last_step.reset();  // rebuilt from the metrics below
            state_.apply_run(info);
            run = info;
            apply_events(v, run_id, faults);
        });
        // No run record read (a damaged run.jsonl): the run's other records are
        // kept under its folder's name, rather than lost with it; a folder with
        // none (a crash before its first line) holds no run.
        const bool unrecorded = !run;
        if (unrecorded) {
            run = unnamed_run(run_id);
            run->status = run_status::interrupted;
            state_.apply_run(*run);
        }
        std::size_t records = 0;
        for_each_record(dir / "checkpoints.jsonl", progress,
                        [&](const rapidjson::Value& v, detail::replay_faults& faults) {
                            records += apply_checkpoint_record(v, run_id, faults);
                        });
        records += replay_metrics(dir / "metrics.jsonl", run_id, progress);
        for_each_record(dir / "layers.jsonl", progress, [&](const rapidjson::Value& v, detail::replay_faults& faults) {
            auto* step = detail::member(v, "step");
            if (!step || !detail::as_int64(*step))
                return faults.record_skipped("a layers line without an integer step");
            auto snap = detail::read_layer_snapshot(v, &faults.fields);
            claim(snap.run_id, run_id, faults);
            state_.apply_layers(snap, 0);
            ++records;
        });
        for_each_record(dir / "events.jsonl", progress, [&](const rapidjson::Value& v, detail::replay_faults& faults) {
            records += apply_event_record(v, run_id, faults);
        });
        for_each_record(dir / "system.jsonl", progress, [&](const rapidjson::Value& v, detail::replay_faults& faults) {
            auto* time = detail::member(v, "time");
            if (!time || !time->IsNumber() || !std::isfinite(time->GetDouble()))
                return faults.record_skipped("a system sample without a numeric time");
            auto sample = detail::read_system(v, &faults.fields);
            claim(sample.run_id, run_id, faults);
            state_.apply_system(sample);
            ++records;
        });
        if (unrecorded) {
            if (records == 0) {
                state_.apply_run_deleted(run_id);
                return false;
            }
            log(log_level::warn, "jsonl", "no readable run record in {}: its other records are kept as run '{}', {}",
                (dir / "run.jsonl").string(), run_id, to_string(run->status));
        }
        return true;
    }

    static run_info unnamed_run(const std::string& run_id) {
        run_info r;
        r.id = run_id;
        r.name = run_id;
        return r;
    }

    // Whether it was applied.
    bool apply_checkpoint_record(const rapidjson::Value& v, const std::string& run_id, detail::replay_faults& faults) {
        auto* c = detail::member(v, "checkpoint");
        if (!c || !c->IsObject()) {
            faults.record_skipped("a line without a \"checkpoint\" object");
            return false;
        }
        auto* id = detail::member(*c, "id");
        if (!id || !id->IsString() || id->GetStringLength() == 0) {
            faults.record_skipped("a checkpoint without an id");
            return false;
        }
        auto op = detail::get_string(v, "op");
        if (op != "saved" && op != "deleted" && op != "best") {
            faults.record_skipped("a checkpoint line whose \"op\" is not saved, deleted or best");
            return false;
        }
        auto info = detail::read_checkpoint(*c, &faults.fields);
        claim(info.run_id, run_id, faults);
        // Checkpoint ids are unique in a store (add_checkpoint refuses a taken
        // one): a line reusing one, or changing another run's, is not this run's.
        auto existing = state_.get_checkpoint(info.id);
        if (existing && existing->run_id != run_id) {
            faults.record_skipped("a checkpoint whose id is another run's");
            return false;
        }
        if ((op == "saved") == existing.has_value()) {
            faults.record_skipped(op == "saved" ? "a checkpoint saved twice" : "a change to a checkpoint not saved");
            return false;
        }
        if (op == "saved") state_.apply_checkpoint_saved(info);
        else if (op == "deleted") state_.apply_checkpoint_deleted(info.id);
        else state_.apply_best(info.id);
        apply_events(v, run_id, faults);
        return true;
    }

    // Metrics files are most of a store's bytes, and parsing their numbers most
    // of a reopen: chunks are parsed on worker threads while this thread applies
    // the chunks before them, in file order, so the last write of a (key, step)
    // still wins. A small file is parsed right here. Returns the lines applied.
    std::size_t replay_metrics(const std::filesystem::path& file, const std::string& run_id,
                               detail::replay_progress& progress) {
        std::deque<std::future<detail::parsed_metric_lines>> parsing;
        const std::size_t workers = std::max(2u, std::thread::hardware_concurrency());
        detail::replay_faults faults;
        std::size_t lines = 0;
        auto apply = [&](const detail::parsed_metric_lines& chunk) {
            faults.merge(chunk.faults);
            lines += chunk.lines.size();
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
                parsing.push_back(
                    std::async(std::launch::async, [copy = std::string(text.data(), text.size())]() mutable {
                        return detail::parse_metric_lines(copy);
                    }));
            } catch (const std::system_error&) {  // no thread to be had: parse here, after those in flight
                apply_all_parsing();
                return apply(detail::parse_metric_lines(text));
            }
            if (parsing.size() > workers) apply(parsing.front().get()), parsing.pop_front();
        });
        apply_all_parsing();
        faults.report(file);
        return lines;
    }

    static constexpr std::size_t parse_here_below_bytes = 256 << 10;
    static constexpr std::int64_t max_event_id = std::int64_t{1} << 53;
};

static_assert(assert_storage<jsonl_store>());

}  // namespace tmon

// Separate compilation: see TMON_MEMORY_STORE_TEMPLATES (storage/memory_store.hpp);
// defined in src/jsonl_store.cpp.
#define TMON_JSONL_STORE_TEMPLATES(declare)                                   \
    declare template class detail::memory_state<detail::jsonl_journal>;       \
    declare template class detail::state_store<detail::jsonl_journal>;        \
    declare template class detail::monitor_core<jsonl_store, no_sampler>;     \
    declare template class monitor<jsonl_store, no_sampler>;                  \
    declare template class detail::monitor_core<jsonl_store, system_sampler>; \
    declare template class monitor<jsonl_store, system_sampler>;
#if defined(TMON_SEPARATE_COMPILATION)
#include "tmon/monitor/monitor.hpp"
#include "tmon/sampler/system_sampler.hpp"
namespace tmon {
TMON_JSONL_STORE_TEMPLATES(extern)
}  // namespace tmon
#endif
