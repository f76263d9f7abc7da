#pragma once
// Durable storage in one SQLite file. WAL mode with synchronous=NORMAL: a
// committed write survives kill -9 of the process (FULL also survives power
// loss). All writes go through one connection via group commit; reads use
// their own connections and never wait behind a write. Metric series are
// stored in blocks (see detail/metric_blocks.hpp), as time-series databases do.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "tmon/core/clock.hpp"
#include "tmon/core/downsample.hpp"
#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/storage/detail/group_commit.hpp"
#include "tmon/storage/detail/metric_blocks.hpp"
#include "tmon/storage/detail/reader_gate.hpp"
#include "tmon/storage/detail/run_listing.hpp"
#include "tmon/storage/detail/sqlite_db.hpp"
#include "tmon/storage/detail/sqlite_reader_pool.hpp"
#include "tmon/storage/detail/sqlite_schema.hpp"
#include "tmon/storage/detail/store_events.hpp"
#include "tmon/storage/detail/wal_checkpointer.hpp"
#include "tmon/storage/detail/write_checks.hpp"
#include "tmon/storage/storage_concept.hpp"

// Column lists shared by statements that must stay string literals (the
// statement cache is keyed by their address); undefined at the end.
#define TMON_SQLITE_RUN_COLUMNS \
    "id, name, status, config_json, tags_json, notes, start_time, end_time, created_at, updated_at, total_steps, last_step"
#define TMON_SQLITE_CHECKPOINT_COLUMNS "id, run_id, filepath, step, metrics_json, metadata_json, is_best, created_at"
#define TMON_SQLITE_EVENT_COLUMNS "id, run_id, time, type, message, data_json, client_id"

namespace tmon {

struct sqlite_store_options {
    std::string path = "tmon.db";
    bool synchronous_full = false;                 // FULL: also survive power loss, slower commits
    std::int64_t checkpoint_bytes = 8LL << 20;     // checkpoint on a background thread once the WAL holds this much
    std::int64_t wal_max_bytes = 64LL << 20;       // past this, new reads wait while the WAL is reset
    std::int64_t journal_size_limit = 64LL << 20;  // WAL file truncated to this after a checkpoint
    std::size_t reader_connections = 8;            // idle read connections kept open
    std::size_t small_block_points = 128;          // blocks below this are "small"...
    std::size_t compact_after_small_blocks = 32;   // ...and merged once a series has this many in a row
    int busy_timeout_ms = 5000;
    std::int64_t mmap_size = 1LL << 30;  // readers map the file: no read syscall per page
    int page_size = 4096;                // for new files; larger pages measured slower to ingest
};

class sqlite_store {
    using conn = detail::sqlite_connection;

public:
    using options = sqlite_store_options;

    explicit sqlite_store(options o = {})
        : opts_(std::move(o)),
          writer_(open_writer(opts_)),
          checkpoint_pages_(pages_in(opts_.checkpoint_bytes)),
          wal_max_pages_(pages_in(opts_.wal_max_bytes)),
          commit_([this](auto& jobs) { run_batch(jobs); }, [this] { maintain_wal(); }),
          readers_(opts_.path, opts_.reader_connections, opts_.busy_timeout_ms, opts_.mmap_size),
          checkpointer_(opts_.path, opts_.synchronous_full) {}

    ~sqlite_store() {
        try {
            checkpointer_.stop();  // then the last checkpoint below cannot meet a background one
            checkpoint_wal(SQLITE_CHECKPOINT_TRUNCATE, opts_.busy_timeout_ms);
        } catch (...) {}
    }
    sqlite_store(const sqlite_store&) = delete;
    sqlite_store& operator=(const sqlite_store&) = delete;

    // ---- runs --------------------------------------------------------------
    run_info create_run(const new_run& r) {
        return write([&](conn& db) {
            if (r.id)
                if (auto existing = load_run(db, *r.id)) {
                    detail::check_replay(*existing, r);
                    return *existing;
                }
            run_info info = detail::make_run(r, now_seconds());
            save_run(db, info);
            insert_event(db, detail::run_created_event(info));
            return info;
        });
    }

    std::optional<run_info> get_run(std::string_view id) {
        return read([&](conn& db) { return load_run(db, id); });
    }

    run_page list_runs(const run_query& q) {
        return read([&](conn& db) {
            std::vector<run_info> matching;
            auto s = db.prepare("SELECT " TMON_SQLITE_RUN_COLUMNS " FROM runs");
            while (s.step()) {
                run_info r = run_from_row(s);
                if (detail::run_matches(r, q)) matching.push_back(std::move(r));
            }
            return detail::page_runs(std::move(matching), q);
        });
    }

    run_info update_run(std::string_view id, const run_update& u) {
        return write([&](conn& db) {
            auto existing = require_run(db, id);
            double now = now_seconds();
            run_info updated = detail::apply_update(existing, u, now);
            save_run(db, updated);
            if (updated.status != existing.status)
                insert_event(db, detail::status_changed_event(updated, existing.status, now));
            return updated;
        });
    }

    bool delete_run(std::string_view id) {
        return write([&](conn& db) {
            if (!load_run(db, id)) return false;
            db.prepare("DELETE FROM metric_blocks WHERE series_id IN (SELECT id FROM series WHERE run_id = ?)")
                .bind(1, id)
                .run();
            for (const char* sql : {"DELETE FROM series WHERE run_id = ?", "DELETE FROM checkpoints WHERE run_id = ?",
                                    "DELETE FROM layers WHERE run_id = ?", "DELETE FROM events WHERE run_id = ?",
                                    "DELETE FROM run_system_samples WHERE run_id = ?", "DELETE FROM runs WHERE id = ?"})
                db.prepare(sql).bind(1, id).run();
            forget_write_caches();
            return true;
        });
    }

    // ---- metrics -----------------------------------------------------------
    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        detail::check_points(points);
        write([&](conn& db) {
            require_run_exists(db, run_id);
            if (points.empty()) return;
            step_t max_step = points.front().step;
            for (auto& [key, pts] : group_by_key(points)) {
                for (auto& p : pts) max_step = std::max(max_step, p.step);
                write_block(db, series_id_for(db, run_id, key), std::move(pts));
            }
            db.prepare(
                  "UPDATE runs SET last_step = CASE WHEN last_step IS NULL OR last_step < ?1 THEN ?1 ELSE last_step "
                  "END, updated_at = max(updated_at, ?2) WHERE id = ?3")
                .bind(1, max_step)
                .bind(2, now_seconds())
                .bind(3, run_id)
                .run();
        });
    }

    metric_series query_metrics(const metric_query& q) {
        metric_series out;
        out.key = q.key;
        // A downsampled query decodes into a per-thread buffer that is reused,
        // so a million-point series costs no fresh allocation (and no page
        // faults) per query; only the downsampled points are copied out.
        thread_local std::vector<series_point> scratch;
        std::vector<series_point>& pts = q.max_points != 0 ? scratch : out.points;
        read([&](conn& db) { load_series(db, q, pts); });
        if (std::isfinite(q.time_min) || std::isfinite(q.time_max))
            std::erase_if(pts, [&](const series_point& p) { return p.time < q.time_min || p.time > q.time_max; });
        out.total_in_range = pts.size();
        keep_newest(pts, q.last);
        if (q.max_points == 0) return out;
        if (pts.size() > q.max_points) {
            out.points = downsample(pts, q.max_points, q.method);
            out.downsampled = true;
        } else {
            out.points.assign(pts.begin(), pts.end());
        }
        // Past 4M points (96 MB) the buffer is not worth keeping per thread.
        if (scratch.capacity() > (std::size_t{1} << 22)) std::vector<series_point>{}.swap(scratch);
        return out;
    }

    std::vector<latest_metric> latest_metrics(std::string_view run_id) {
        return read([&](conn& db) {
            std::vector<latest_metric> out;
            auto s = db.prepare(
                "SELECT key, latest_step, latest_time, latest_value FROM series WHERE run_id = ? AND latest_step IS "
                "NOT NULL ORDER BY key");
            s.bind(1, run_id);
            while (s.step()) out.push_back({s.text(0), s.int64(1), s.real(2), s.real(3)});
            return out;
        });
    }

    std::vector<std::string> metric_keys(std::string_view run_id) {
        return read([&](conn& db) {
            std::vector<std::string> out;
            auto s = db.prepare("SELECT key FROM series WHERE run_id = ? ORDER BY key");
            s.bind(1, run_id);
            while (s.step()) out.push_back(s.text(0));
            return out;
        });
    }

    // ---- checkpoints -------------------------------------------------------
    checkpoint_info add_checkpoint(const new_checkpoint& c) {
        return write([&](conn& db) {
            require_run_exists(db, c.run_id);
            if (c.id)
                if (auto existing = load_checkpoint(db, *c.id)) {
                    if (existing->run_id != c.run_id || existing->filepath != c.filepath)
                        throw error(errc::conflict, fmt::format("checkpoint id '{}' already exists", *c.id));
                    return *existing;
                }
            double now = now_seconds();
            checkpoint_info info = detail::make_checkpoint(c, now);
            std::optional<std::string> previous;
            if (info.is_best) previous = unmark_best(db, info.run_id);
            save_checkpoint(db, info);
            insert_event(db, detail::checkpoint_saved_event(info, now));
            if (info.is_best) insert_event(db, detail::best_changed_event(info, previous, now));
            touch_run(db, info.run_id, now);
            return info;
        });
    }

    std::optional<checkpoint_info> get_checkpoint(std::string_view id) {
        return read([&](conn& db) { return load_checkpoint(db, id); });
    }

    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id) {
        return read([&](conn& db) {
            std::vector<checkpoint_info> out;
            auto s = db.prepare("SELECT " TMON_SQLITE_CHECKPOINT_COLUMNS
                                " FROM checkpoints WHERE run_id = ? ORDER BY created_at DESC, rowid DESC");
            s.bind(1, run_id);
            while (s.step()) out.push_back(checkpoint_from_row(s));
            return out;
        });
    }

    bool delete_checkpoint(std::string_view id) {
        return write([&](conn& db) {
            auto c = load_checkpoint(db, id);
            if (!c) return false;
            db.prepare("DELETE FROM checkpoints WHERE id = ?").bind(1, id).run();
            double now = now_seconds();
            insert_event(db, detail::checkpoint_deleted_event(*c, now));
            touch_run(db, c->run_id, now);
            return true;
        });
    }

    checkpoint_info mark_best(std::string_view id) {
        return write([&](conn& db) {
            auto c = load_checkpoint(db, id);
            if (!c) detail::throw_unknown_checkpoint(id);
            if (c->is_best) return *c;
            auto previous = unmark_best(db, c->run_id);
            db.prepare("UPDATE checkpoints SET is_best = 1 WHERE id = ?").bind(1, id).run();
            c->is_best = true;
            double now = now_seconds();
            insert_event(db, detail::best_changed_event(*c, previous, now));
            touch_run(db, c->run_id, now);
            return *c;
        });
    }

    // ---- system ------------------------------------------------------------
    void append_system(const system_sample& x) {
        detail::check_system_sample(x);
        std::string gpus = detail::gpus_json(x.gpus);
        if (!x.run_id.empty()) return append_run_system(x, gpus);
        write([&](conn& db) {
            db.prepare(
                  "INSERT INTO system_samples (time, cpu_percent, memory_percent, memory_used, memory_total, "
                  "process_rss, gpus_json) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(1, x.time)
                .bind(2, x.cpu_percent)
                .bind(3, x.memory_percent)
                .bind(4, x.memory_used)
                .bind(5, x.memory_total)
                .bind(6, x.process_rss)
                .bind(7, gpus)
                .run();
        });
    }

    std::vector<system_sample> system_history(const system_query& q) {
        if (!q.run_id.empty()) return run_system_history(q);
        return read([&](conn& db) {
            std::vector<system_sample> out;
            auto s = db.prepare(
                "SELECT time, cpu_percent, memory_percent, memory_used, memory_total, process_rss, gpus_json FROM "
                "system_samples WHERE time >= ? AND time <= ? ORDER BY time DESC LIMIT ?");
            s.bind(1, q.time_min).bind(2, q.time_max).bind(3, static_cast<std::int64_t>(q.limit));
            while (s.step()) {
                system_sample x;
                x.time = s.real(0);
                x.cpu_percent = s.real(1);
                x.memory_percent = s.real(2);
                x.memory_used = static_cast<std::uint64_t>(s.int64(3));
                x.memory_total = static_cast<std::uint64_t>(s.int64(4));
                x.process_rss = static_cast<std::uint64_t>(s.int64(5));
                x.gpus = detail::read_gpus(detail::parse_json(s.text(6)));
                out.push_back(std::move(x));
            }
            std::reverse(out.begin(), out.end());
            return out;
        });
    }

    // A trainer's sample of its own machine: (run, host, rank, time) is the key, a replay replaces.
    void append_run_system(const system_sample& x, const std::string& gpus) {
        write([&](conn& db) {
            require_run_exists(db, x.run_id);
            db.prepare(
                  "INSERT OR REPLACE INTO run_system_samples (run_id, host, rank, time, cpu_percent, memory_percent, "
                  "memory_used, memory_total, process_rss, gpus_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(1, x.run_id)
                .bind(2, x.host)
                .bind(3, x.rank)
                .bind(4, x.time)
                .bind(5, x.cpu_percent)
                .bind(6, x.memory_percent)
                .bind(7, x.memory_used)
                .bind(8, x.memory_total)
                .bind(9, x.process_rss)
                .bind(10, gpus)
                .run();
            touch_run(db, x.run_id, now_seconds());
        });
    }

    // Optional member (not in the concept): the newest sample time of each
    // (host, rank) that posted to the run; the server seeds a run's hosts from it.
    std::vector<system_sample> system_hosts(std::string_view run_id) {
        return read([&](conn& db) {
            std::vector<system_sample> out;
            auto s = db.prepare(
                "SELECT host, rank, max(time) FROM run_system_samples WHERE run_id = ? GROUP BY host, rank ORDER BY "
                "rank, host");
            s.bind(1, run_id);
            while (s.step()) {
                system_sample x;
                x.run_id = std::string(run_id);
                x.host = s.text(0);
                x.rank = static_cast<int>(s.int64(1));
                x.time = s.real(2);
                out.push_back(std::move(x));
            }
            return out;
        });
    }

    std::vector<system_sample> run_system_history(const system_query& q) {
        return read([&](conn& db) {
            std::vector<system_sample> out;
            auto s = db.prepare(
                "SELECT host, rank, time, cpu_percent, memory_percent, memory_used, memory_total, process_rss, "
                "gpus_json FROM run_system_samples WHERE run_id = ?1 AND time >= ?2 AND time <= ?3 AND (?4 = '' OR "
                "host = ?4) AND (?5 IS NULL OR rank = ?5) ORDER BY time DESC, rank DESC, host DESC LIMIT ?6");
            s.bind(1, q.run_id)
                .bind(2, q.time_min)
                .bind(3, q.time_max)
                .bind(4, q.host)
                .bind(5, q.rank)
                .bind(6, static_cast<std::int64_t>(q.limit));
            while (s.step()) {
                system_sample x;
                x.run_id = q.run_id;
                x.host = s.text(0);
                x.rank = static_cast<int>(s.int64(1));
                x.time = s.real(2);
                x.cpu_percent = s.real(3);
                x.memory_percent = s.real(4);
                x.memory_used = static_cast<std::uint64_t>(s.int64(5));
                x.memory_total = static_cast<std::uint64_t>(s.int64(6));
                x.process_rss = static_cast<std::uint64_t>(s.int64(7));
                x.gpus = detail::read_gpus(detail::parse_json(s.text(8)));
                out.push_back(std::move(x));
            }
            std::reverse(out.begin(), out.end());
            return out;
        });
    }

    // ---- layers ------------------------------------------------------------
    void append_layers(const layer_snapshot& l) {
        detail::check_layers(l);
        std::string json = detail::layers_json(l.layers);
        write([&](conn& db) {
            require_run_exists(db, l.run_id);
            db.prepare("INSERT OR REPLACE INTO layers (run_id, step, time, layers_json) VALUES (?, ?, ?, ?)")
                .bind(1, l.run_id)
                .bind(2, l.step)
                .bind(3, l.time)
                .bind(4, json)
                .run();
            touch_run(db, l.run_id, now_seconds());
        });
    }

    std::optional<layer_snapshot> get_layers(std::string_view run_id, step_t step) {
        return read([&](conn& db) -> std::optional<layer_snapshot> {
            auto s = db.prepare(
                "SELECT step, time, layers_json FROM layers WHERE run_id = ? AND step <= ? ORDER BY step DESC LIMIT 1");
            s.bind(1, run_id).bind(2, step);
            if (!s.step()) return std::nullopt;
            layer_snapshot out;
            out.run_id = std::string{run_id};
            out.step = s.int64(0);
            out.time = s.real(1);
            out.layers = detail::read_layer_list(detail::parse_json(s.text(2)));
            return out;
        });
    }

    std::vector<step_t> layer_steps(std::string_view run_id) {
        return read([&](conn& db) {
            std::vector<step_t> out;
            auto s = db.prepare("SELECT step FROM layers WHERE run_id = ? ORDER BY step");
            s.bind(1, run_id);
            while (s.step()) out.push_back(s.int64(0));
            return out;
        });
    }

    // ---- events ------------------------------------------------------------
    event append_event(const event& e) {
        detail::check_event(e);
        return write([&](conn& db) {
            if (!e.run_id.empty()) require_run_exists(db, e.run_id);
            if (!e.client_id.empty())
                if (auto stored = load_client_event(db, e.run_id, e.client_id)) return *stored;  // a replay
            event ev = e;
            if (ev.time == 0) ev.time = now_seconds();
            if (ev.data_json.empty()) ev.data_json = "{}";
            if (!ev.run_id.empty()) touch_run(db, ev.run_id, now_seconds());
            return insert_event(db, std::move(ev));
        });
    }

    std::vector<event> list_events(const event_query& q) {
        return read([&](conn& db) {
            std::vector<event> out;
            auto s = q.run_id.empty() ? db.prepare("SELECT " TMON_SQLITE_EVENT_COLUMNS
                                                   " FROM events WHERE id > ?2 "
                                                   "ORDER BY id DESC LIMIT ?3")
                                      : db.prepare("SELECT " TMON_SQLITE_EVENT_COLUMNS
                                                   " FROM events WHERE run_id = "
                                                   "?1 AND id > ?2 ORDER BY id DESC LIMIT ?3");
            if (!q.run_id.empty()) s.bind(1, q.run_id);
            s.bind(2, q.after_id).bind(3, static_cast<std::int64_t>(q.limit));
            while (s.step()) out.push_back(event_from_row(s));
            std::reverse(out.begin(), out.end());
            return out;
        });
    }

    // Every returned write is already durable; flush also empties the WAL.
    void flush() {
        truncate_requested_ = true;
        write([](conn&) {});
    }

    // Size of the -wal file in bytes (0 when absent), for monitoring and benchmarks.
    std::uintmax_t wal_size_bytes() const {
        std::error_code ec;
        auto n = std::filesystem::file_size(opts_.path + "-wal", ec);
        return ec ? 0 : n;
    }

private:
    static std::unique_ptr<conn> open_writer(const options& o) {
        auto db = std::make_unique<conn>(o.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        sqlite3_busy_timeout(db->handle(), o.busy_timeout_ms);
        db->exec(fmt::format("PRAGMA page_size={}", o.page_size).c_str());  // no effect on an existing file
        db->exec("PRAGMA journal_mode=WAL");
        db->exec(o.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        db->exec("PRAGMA wal_autocheckpoint=0");  // checkpoints are ours: see maintain_wal
        db->exec(fmt::format("PRAGMA journal_size_limit={}", o.journal_size_limit).c_str());
        db->exec("PRAGMA temp_store=MEMORY");
        detail::migrate_schema(*db, o.path);
        return db;
    }

    int pages_in(std::int64_t bytes) {
        auto s = writer_->prepare("PRAGMA page_size");
        std::int64_t page = s.step() ? s.int64(0) : 4096;
        return static_cast<int>(std::max<std::int64_t>(1, bytes / std::max<std::int64_t>(page, 512)));
    }

    // ---- the write path ------------------------------------------------------
    // Explicit return types: members defined above call these.
    template <class F>
    std::invoke_result_t<F&, conn&> write(F&& f) {
        using R = std::invoke_result_t<F&, conn&>;
        if constexpr (std::is_void_v<R>) {
            commit_.submit([&] { f(*writer_); });
        } else {
            std::optional<R> result;
            commit_.submit([&] { result.emplace(f(*writer_)); });
            return std::move(*result);
        }
    }

    template <class F>
    std::invoke_result_t<F&, conn&> read(F&& f) {
        detail::reader_gate::pass pass{gate_};
        return readers_.with_connection([&](conn& db) {
            db.exec("BEGIN");  // one snapshot for the whole read
            struct ender {
                conn& db;
                ~ender() { sqlite3_exec(db.handle(), "COMMIT", nullptr, nullptr, nullptr); }
            } end{db};
            return f(db);
        });
    }

    void run_batch(std::vector<detail::group_commit::job*>& jobs) {
        conn& db = *writer_;
        try {
            db.prepare("BEGIN IMMEDIATE").run();
        } catch (...) {
            for (auto* j : jobs) j->error = std::current_exception();
            return;
        }
        install_wal_hook();
        for (auto* j : jobs) {
            db.prepare("SAVEPOINT w").run();
            try {
                j->op();
                db.prepare("RELEASE w").run();
            } catch (...) {
                j->error = std::current_exception();
                sqlite3_exec(db.handle(), "ROLLBACK TO w; RELEASE w", nullptr, nullptr, nullptr);
                forget_write_caches();
            }
        }
        try {
            db.prepare("COMMIT").run();
        } catch (...) {
            auto err = std::current_exception();
            sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
            forget_write_caches();
            for (auto* j : jobs)
                if (!j->error) j->error = err;
        }
    }

    void forget_write_caches() {
        series_ids_.clear();
        series_spans_.clear();
        small_tails_.clear();
    }

    // ---- WAL upkeep ----------------------------------------------------------
    // SQLite's own auto-checkpoint is off: it would run on the writer, inside
    // the commit path. After a commit that leaves the WAL past checkpoint_pages,
    // the checkpointer thread copies it back without blocking anyone; at twice
    // that, it is not keeping up and the writer finishes the copy. Readers
    // that always hold some snapshot can starve both (the WAL can only restart
    // once fully copied back), so past wal_max_pages the writer closes the
    // reader gate: in-flight reads of this store finish, new ones wait for the
    // few milliseconds the TRUNCATE takes, and the WAL resets.
    // journal_size_limit caps the file that remains.
    void install_wal_hook() {
        if (hook_set_) return;
        sqlite3_wal_hook(
            writer_->handle(),
            [](void* self, sqlite3*, const char*, int pages) {
                static_cast<sqlite_store*>(self)->wal_pages_ = pages;
                return SQLITE_OK;
            },
            this);
        hook_set_ = true;
    }

    void maintain_wal() {
        if (truncate_requested_.exchange(false)) {
            auto exclusive = checkpointer_.hold();
            checkpoint_wal(SQLITE_CHECKPOINT_TRUNCATE, opts_.busy_timeout_ms);
            return;
        }
        if (wal_pages_ >= wal_max_pages_) {
            reset_wal_without_readers();
        } else if (wal_pages_ >= 2 * checkpoint_pages_) {
            // Commits back to back leave the checkpointer no gap to finish in:
            // copy the rest here, so the next commit can restart the WAL. A
            // pass already running covers only the frames before it started,
            // so wait for it and copy the rest: this is the backpressure that
            // keeps a writer that never pauses from outgrowing the WAL.
            auto exclusive = checkpointer_.hold();
            checkpoint_wal(SQLITE_CHECKPOINT_PASSIVE, 0);
        } else if (wal_pages_ >= checkpoint_pages_) {
            checkpointer_.request();
        }
    }

    void reset_wal_without_readers() {
        auto exclusive = checkpointer_.hold();
        detail::reader_gate::closed no_new_reads{gate_};
        checkpoint_wal(SQLITE_CHECKPOINT_TRUNCATE, opts_.busy_timeout_ms);
        bool stuck = wal_pages_ != 0;
        if (stuck && !warned_wal_stuck_)
            log(log_level::warn, "sqlite", "wal past {} pages and readers outside this store keep it from resetting",
                wal_max_pages_);
        warned_wal_stuck_ = stuck;
    }

    void checkpoint_wal(int mode, int busy_ms) {
        sqlite3* db = writer_->handle();
        sqlite3_busy_timeout(db, busy_ms);
        int log_frames = 0, done_frames = 0;
        int rc = sqlite3_wal_checkpoint_v2(db, nullptr, mode, &log_frames, &done_frames);
        sqlite3_busy_timeout(db, opts_.busy_timeout_ms);
        if (rc == SQLITE_OK && mode == SQLITE_CHECKPOINT_TRUNCATE) wal_pages_ = 0;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            log(log_level::warn, "sqlite", "wal checkpoint failed: {}", sqlite3_errmsg(db));
    }

    // ---- rows --------------------------------------------------------------------
    static run_info run_from_row(const detail::sqlite_stmt& s) {
        run_info r;
        r.id = s.text(0);
        r.name = s.text(1);
        r.status = parse_run_status(s.text(2)).value_or(run_status::running);
        r.config_json = s.text(3);
        r.tags = detail::read_tags(detail::parse_json(s.text(4)));
        r.notes = s.text(5);
        r.start_time = s.real(6);
        r.end_time = s.opt_real(7);
        r.created_at = s.real(8);
        r.updated_at = s.real(9);
        r.total_steps = s.opt_int64(10);
        r.last_step = s.opt_int64(11);
        return r;
    }

    static std::optional<run_info> load_run(conn& db, std::string_view id) {
        auto s = db.prepare("SELECT " TMON_SQLITE_RUN_COLUMNS " FROM runs WHERE id = ?");
        s.bind(1, id);
        if (!s.step()) return std::nullopt;
        return run_from_row(s);
    }

    static run_info require_run(conn& db, std::string_view id) {
        if (auto r = load_run(db, id)) return *r;
        detail::throw_unknown_run(id);
    }

    static void require_run_exists(conn& db, std::string_view id) {
        auto s = db.prepare("SELECT 1 FROM runs WHERE id = ?");
        s.bind(1, id);
        if (!s.step()) detail::throw_unknown_run(id);
    }

    static void save_run(conn& db, const run_info& r) {
        db.prepare("INSERT OR REPLACE INTO runs (" TMON_SQLITE_RUN_COLUMNS
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, r.id)
            .bind(2, r.name)
            .bind(3, to_string(r.status))
            .bind(4, r.config_json)
            .bind(5, detail::tags_json(r.tags))
            .bind(6, r.notes)
            .bind(7, r.start_time)
            .bind(8, r.end_time)
            .bind(9, r.created_at)
            .bind(10, r.updated_at)
            .bind(11, r.total_steps)
            .bind(12, r.last_step)
            .run();
    }

    static void touch_run(conn& db, std::string_view id, double now) {
        db.prepare("UPDATE runs SET updated_at = max(updated_at, ?) WHERE id = ?").bind(1, now).bind(2, id).run();
    }

    static event insert_event(conn& db, event e) {
        std::optional<std::string_view> client_id;
        if (!e.client_id.empty()) client_id = e.client_id;
        db.prepare("INSERT INTO events (run_id, time, type, message, data_json, client_id) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(1, e.run_id)
            .bind(2, e.time)
            .bind(3, e.type)
            .bind(4, e.message)
            .bind(5, e.data_json)
            .bind(6, client_id)
            .run();
        e.id = db.last_insert_id();
        return e;
    }

    static event event_from_row(const detail::sqlite_stmt& s) {
        event e;
        e.id = s.int64(0);
        e.run_id = s.text(1);
        e.time = s.real(2);
        e.type = s.text(3);
        e.message = s.text(4);
        e.data_json = s.text(5);
        if (!s.is_null(6)) e.client_id = s.text(6);
        return e;
    }

    static std::optional<event> load_client_event(conn& db, std::string_view run_id, std::string_view client_id) {
        auto s = db.prepare("SELECT " TMON_SQLITE_EVENT_COLUMNS " FROM events WHERE run_id = ? AND client_id = ?");
        s.bind(1, run_id).bind(2, client_id);
        if (!s.step()) return std::nullopt;
        return event_from_row(s);
    }

    static checkpoint_info checkpoint_from_row(const detail::sqlite_stmt& s) {
        checkpoint_info c;
        c.id = s.text(0);
        c.run_id = s.text(1);
        c.filepath = s.text(2);
        c.step = s.opt_int64(3);
        c.metrics_json = s.text(4);
        c.metadata_json = s.text(5);
        c.is_best = s.int64(6) != 0;
        c.created_at = s.real(7);
        return c;
    }

    static std::optional<checkpoint_info> load_checkpoint(conn& db, std::string_view id) {
        auto s = db.prepare("SELECT " TMON_SQLITE_CHECKPOINT_COLUMNS " FROM checkpoints WHERE id = ?");
        s.bind(1, id);
        if (!s.step()) return std::nullopt;
        return checkpoint_from_row(s);
    }

    static void save_checkpoint(conn& db, const checkpoint_info& c) {
        db.prepare("INSERT INTO checkpoints (" TMON_SQLITE_CHECKPOINT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, c.id)
            .bind(2, c.run_id)
            .bind(3, c.filepath)
            .bind(4, c.step)
            .bind(5, c.metrics_json)
            .bind(6, c.metadata_json)
            .bind(7, c.is_best)
            .bind(8, c.created_at)
            .run();
    }

    // Returns the id of the best checkpoint it unmarked, if there was one.
    static std::optional<std::string> unmark_best(conn& db, std::string_view run_id) {
        std::optional<std::string> previous;
        {
            auto s = db.prepare("SELECT id FROM checkpoints WHERE run_id = ? AND is_best");
            s.bind(1, run_id);
            if (s.step()) previous = s.text(0);
        }
        if (previous) db.prepare("UPDATE checkpoints SET is_best = 0 WHERE id = ?").bind(1, *previous).run();
        return previous;
    }

    // ---- metric blocks -------------------------------------------------------------
    // Decodes only the blocks that overlap the step range.
    static void load_series(conn& db, const metric_query& q, std::vector<series_point>& pts) {
        pts.clear();
        auto id = db.prepare("SELECT id, max_span FROM series WHERE run_id = ? AND key = ?");
        id.bind(1, q.run_id).bind(2, q.key);
        if (!id.step()) return;
        const std::int64_t series_id = id.int64(0);
        const step_t span = id.int64(1);
        const step_t lowest_first = q.step_min < std::numeric_limits<step_t>::min() + span
                                        ? std::numeric_limits<step_t>::min()
                                        : q.step_min - span;
        {
            auto count = db.prepare(
                "SELECT sum(n) FROM metric_blocks WHERE series_id = ? AND first_step BETWEEN ? AND ? AND "
                "last_step >= ?");
            count.bind(1, series_id).bind(2, lowest_first).bind(3, q.step_max).bind(4, q.step_min);
            if (count.step()) pts.reserve(static_cast<std::size_t>(count.int64(0)));
        }
        auto blocks = db.prepare(
            "SELECT id, first_step, last_step, data FROM metric_blocks WHERE series_id = ? AND first_step BETWEEN ? "
            "AND ? AND last_step >= ? ORDER BY first_step");
        blocks.bind(1, series_id).bind(2, lowest_first).bind(3, q.step_max).bind(4, q.step_min);
        detail::block_merger merger{pts};
        while (blocks.step())
            merger.add(blocks.int64(0), blocks.blob(3), blocks.int64(1), blocks.int64(2), q.step_min, q.step_max);
        merger.finish();
    }

    static std::vector<std::pair<std::string_view, std::vector<series_point>>> group_by_key(
        std::span<const metric_point> points) {
        std::vector<std::pair<std::string_view, std::vector<series_point>>> groups;
        std::size_t last = 0;
        for (const auto& p : points) {
            if (groups.empty() || groups[last].first != p.key) {
                last = groups.size();
                for (std::size_t i = 0; i < groups.size(); ++i)
                    if (groups[i].first == p.key) {
                        last = i;
                        break;
                    }
                if (last == groups.size()) groups.emplace_back(p.key, std::vector<series_point>{});
            }
            groups[last].second.push_back({p.step, p.time, p.value});
        }
        return groups;
    }

    std::int64_t series_id_for(conn& db, std::string_view run_id, std::string_view key) {
        std::string cache_key;
        cache_key.reserve(run_id.size() + key.size() + 1);
        cache_key.append(run_id).push_back('\x1f');
        cache_key.append(key);
        if (auto it = series_ids_.find(cache_key); it != series_ids_.end()) return it->second;
        std::int64_t id = 0;
        {
            auto s = db.prepare("SELECT id FROM series WHERE run_id = ? AND key = ?");
            s.bind(1, run_id).bind(2, key);
            if (s.step()) id = s.int64(0);
        }
        if (id == 0) {
            db.prepare("INSERT INTO series (run_id, key) VALUES (?, ?)").bind(1, run_id).bind(2, key).run();
            id = db.last_insert_id();
        }
        series_ids_.emplace(std::move(cache_key), id);
        return id;
    }

    void write_block(conn& db, std::int64_t series_id, std::vector<series_point> pts) {
        detail::metric_block b = detail::make_block(std::move(pts));
        std::int64_t block_id = insert_block(db, series_id, b);
        const auto& newest = b.points.back();
        db.prepare(
              "UPDATE series SET latest_step = ?1, latest_time = ?2, latest_value = ?3 WHERE id = ?4 AND "
              "(latest_step IS NULL OR latest_step <= ?1)")
            .bind(1, newest.step)
            .bind(2, newest.time)
            .bind(3, newest.value)
            .bind(4, series_id)
            .run();
        track_small_block(db, series_id, block_id, b.points.size());
    }

    std::int64_t insert_block(conn& db, std::int64_t series_id, const detail::metric_block& b) {
        db.prepare(
              "INSERT INTO metric_blocks (series_id, first_step, last_step, n, min_value, max_value, data) VALUES (?, "
              "?, ?, ?, ?, ?, ?)")
            .bind(1, series_id)
            .bind(2, b.first_step)
            .bind(3, b.last_step)
            .bind(4, static_cast<std::int64_t>(b.points.size()))
            .bind(5, b.min_value)
            .bind(6, b.max_value)
            .bind_blob(7, b.data.data(), b.data.size())
            .run();
        std::int64_t id = db.last_insert_id();
        // Written only when it grows; an unknown cached span (after a restart) costs one update.
        const step_t span = b.last_step - b.first_step;
        auto known = series_spans_.find(series_id);
        if (known == series_spans_.end() || known->second < span) {
            db.prepare("UPDATE series SET max_span = ?1 WHERE id = ?2 AND max_span < ?1")
                .bind(1, span)
                .bind(2, series_id)
                .run();
            auto stored = db.prepare("SELECT max_span FROM series WHERE id = ?");
            stored.bind(1, series_id);
            series_spans_[series_id] = stored.step() ? stored.int64(0) : span;
        }
        return id;
    }

    // Many tiny appends (one point per call) would leave one row per point;
    // the newest run of small blocks of a series is merged into one block.
    // Only a trailing run is merged, so "later block wins" still holds.
    void track_small_block(conn& db, std::int64_t series_id, std::int64_t block_id, std::size_t n) {
        auto& tail = small_tails_[series_id];
        if (n >= opts_.small_block_points) {
            tail.clear();
            return;
        }
        tail.push_back(block_id);
        if (tail.size() < opts_.compact_after_small_blocks) return;
        std::vector<series_point> merged;
        for (auto id : tail) {
            auto s = db.prepare("SELECT data FROM metric_blocks WHERE id = ?");
            s.bind(1, id);
            if (s.step())
                detail::decode_block(s.blob(0), std::numeric_limits<step_t>::min(), std::numeric_limits<step_t>::max(),
                                     merged);
        }
        for (auto id : tail) db.prepare("DELETE FROM metric_blocks WHERE id = ?").bind(1, id).run();
        tail.clear();
        if (merged.empty()) return;
        detail::metric_block b = detail::make_block(std::move(merged));
        std::int64_t merged_id = insert_block(db, series_id, b);
        if (b.points.size() < opts_.small_block_points) tail.push_back(merged_id);
    }

    options opts_;
    std::unique_ptr<conn> writer_;
    // Writer-only state, touched by the group-commit leader alone.
    std::unordered_map<std::string, std::int64_t> series_ids_;
    std::unordered_map<std::int64_t, step_t> series_spans_;  // widest block span written, per series id
    std::unordered_map<std::int64_t, std::vector<std::int64_t>> small_tails_;
    int checkpoint_pages_;
    int wal_max_pages_;
    bool hook_set_ = false;
    bool warned_wal_stuck_ = false;
    std::atomic<int> wal_pages_{0};
    std::atomic<bool> truncate_requested_{false};
    detail::reader_gate gate_;
    detail::group_commit commit_;
    detail::sqlite_reader_pool readers_;
    detail::wal_checkpointer checkpointer_;
};

static_assert(assert_storage<sqlite_store>());

}  // namespace tmon

// Separate compilation: see TMON_MEMORY_STORE_TEMPLATES (storage/memory_store.hpp);
// defined in src/sqlite_store.cpp.
#define TMON_SQLITE_STORE_TEMPLATES(declare)                                   \
    declare template class detail::monitor_core<sqlite_store, no_sampler>;     \
    declare template class monitor<sqlite_store, no_sampler>;                  \
    declare template class detail::monitor_core<sqlite_store, system_sampler>; \
    declare template class monitor<sqlite_store, system_sampler>;
#if defined(TMON_SEPARATE_COMPILATION)
#include "tmon/monitor/monitor.hpp"
#include "tmon/sampler/system_sampler.hpp"
namespace tmon {
TMON_SQLITE_STORE_TEMPLATES(extern)
}  // namespace tmon
#endif

#undef TMON_SQLITE_RUN_COLUMNS
#undef TMON_SQLITE_CHECKPOINT_COLUMNS
#undef TMON_SQLITE_EVENT_COLUMNS
