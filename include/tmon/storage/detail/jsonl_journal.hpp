#pragma once
// The jsonl store's journal: turns each planned write of memory_state into
// lines in the run's folder, before the state changes. A change and the
// events it causes share one line, so a crash cannot keep one without the other.
// A line is written only if the replay would read it back (check_line_reads_back),
// and only whole or not at all (append_file).
//
//   <dir>/runs/<run id>/run.jsonl          {"run":{...},"events":[...]}   one full record per change
//   <dir>/runs/<run id>/metrics.jsonl      {"key":..,"steps":[..],"times":[..],"values":[..]} (detail/metric_lines.hpp)
//   <dir>/runs/<run id>/checkpoints.jsonl  {"op":"saved"|"deleted"|"best","checkpoint":{...},"events":[...]}
//   <dir>/runs/<run id>/layers.jsonl       {"run_id":..,"step":..,"time":..,"layers":[...]}
//   <dir>/runs/<run id>/events.jsonl       one event per line (events appended by callers)
//   <dir>/runs/<run id>/system.jsonl       samples a remote trainer posted for the run, tagged host and rank
//   <dir>/system.jsonl, <dir>/events.jsonl  samples, and events of no run
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "tmon/core/error.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/ids.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/storage/detail/append_file.hpp"
#include "tmon/storage/detail/jsonl_lines.hpp"

namespace tmon::detail {

// A run id becomes a folder name, and a folder name a run id on reopen: 1 to
// 128 letters, digits, '_', '-' and '.', never leading with '.' (so never '.',
// '..' or a hidden folder). Nothing else can leave runs/ or confuse a shell.
inline bool is_safe_name(std::string_view id) {
    bool ok = !id.empty() && id.size() <= 128 && id.front() != '.';
    for (char c : id)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.');
    return ok;
}

inline void check_id_is_a_safe_name(std::string_view id) {
    if (!is_safe_name(id))
        throw error(errc::invalid_argument,
                    fmt::format("run id '{}' must be 1 to 128 letters, digits, '_', '-' or '.', not beginning "
                                "with '.'",
                                id));
}

class jsonl_journal {
public:
    jsonl_journal() = default;
    jsonl_journal(std::filesystem::path root, bool sync) : root_(std::move(root)), sync_(sync) {}

    const std::filesystem::path& root() const noexcept { return root_; }
    std::filesystem::path runs_dir() const { return root_ / "runs"; }
    std::filesystem::path run_dir(std::string_view id) const { return runs_dir() / std::string{id}; }

    void on_run(const run_info& r, std::span<const event> evs) {
        check_id_is_a_safe_name(r.id);
        std::string line;
        json_writer w{line};
        w.begin_object().key("run");
        write_run(w, r);
        write_events(w, evs);
        w.end_object();
        line.push_back('\n');
        check_line_reads_back(line, fmt::format("run '{}'", r.id));
        files(r.id).run.append(line, sync_);
    }

    // Renamed first, so a crash mid-delete leaves a tombstone that the next
    // open finishes removing, never half a run.
    void on_run_deleted(const std::string& id) {
        files_.erase(id);
        std::error_code ec;
        auto dir = run_dir(id);
        if (!std::filesystem::exists(dir, ec)) return;
        auto tomb = runs_dir() / (".deleted-" + id + "-" + make_id("t"));
        std::filesystem::rename(dir, tomb, ec);
        if (ec)
            throw error(errc::unavailable,
                        fmt::format("cannot delete run folder '{}': {}", dir.string(), ec.message()));
        std::filesystem::remove_all(tomb, ec);
    }

    // `lines` come from metric_line_encoder, formatted before the store's lock.
    void on_encoded_metrics(const std::string& run_id, std::string_view lines) {
        files(run_id).metrics.append(lines, sync_);
    }

    void on_checkpoint_saved(const checkpoint_info& c, std::span<const event> evs) { checkpoint_line("saved", c, evs); }
    void on_checkpoint_deleted(const checkpoint_info& c, std::span<const event> evs) {
        checkpoint_line("deleted", c, evs);
    }
    void on_best(const checkpoint_info& c, std::span<const event> evs) { checkpoint_line("best", c, evs); }

    void on_system(const system_sample& s) {
        std::string line;
        json_writer w{line};
        write_system(w, s);
        line.push_back('\n');
        check_line_reads_back(line, "the system sample");
        if (s.run_id.empty()) system_.append(line, sync_);
        else files(s.run_id).system.append(line, sync_);
    }

    void on_layers(const layer_snapshot& l) {
        std::string line;
        json_writer w{line};
        write_layer_snapshot(w, l);
        line.push_back('\n');
        check_line_reads_back(line, fmt::format("the layers of run '{}' at step {}", l.run_id, l.step));
        files(l.run_id).layers.append(line, sync_);
    }

    void on_event(const event& e) {
        std::string line;
        json_writer w{line};
        write_event(w, e);
        line.push_back('\n');
        check_line_reads_back(line, fmt::format("event {:?}", e.type));
        if (e.run_id.empty()) events_.append(line, sync_);
        else files(e.run_id).events.append(line, sync_);
    }

private:
    struct run_files {
        append_file run, metrics, checkpoints, layers, events, system;
    };

    run_files& files(const std::string& run_id) {
        auto it = files_.find(run_id);
        if (it != files_.end()) return *it->second;
        auto dir = run_dir(run_id);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw error(errc::unavailable, fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
        auto f = std::make_unique<run_files>(run_files{
            append_file{dir / "run.jsonl"}, append_file{dir / "metrics.jsonl"}, append_file{dir / "checkpoints.jsonl"},
            append_file{dir / "layers.jsonl"}, append_file{dir / "events.jsonl"}, append_file{dir / "system.jsonl"}});
        return *files_.emplace(run_id, std::move(f)).first->second;
    }

    static void write_events(json_writer& w, std::span<const event> evs) {
        w.key("events").begin_array();
        for (const auto& e : evs) write_event(w, e);
        w.end_array();
    }

    void checkpoint_line(std::string_view op, const checkpoint_info& c, std::span<const event> evs) {
        std::string line;
        json_writer w{line};
        w.begin_object().field("op", op).key("checkpoint");
        write_checkpoint(w, c);
        write_events(w, evs);
        w.end_object();
        line.push_back('\n');
        check_line_reads_back(line, fmt::format("checkpoint {:?}", c.id));
        files(c.run_id).checkpoints.append(line, sync_);
    }

    std::filesystem::path root_;
    bool sync_ = false;
    std::unordered_map<std::string, std::unique_ptr<run_files>> files_;
    append_file system_{root_ / "system.jsonl"};
    append_file events_{root_ / "events.jsonl"};
};

}  // namespace tmon::detail
