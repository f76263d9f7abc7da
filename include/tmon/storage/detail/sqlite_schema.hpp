#pragma once
// The on-disk layout and its migrations. schema_version holds one row; each
// migration moves the file one version up inside one transaction. A file
// written by a newer tmon is refused with a clear error instead of misread.
#include <array>
#include <cstdint>

#include <fmt/format.h>

#include "tmon/core/error.hpp"
#include "tmon/storage/detail/sqlite_db.hpp"

namespace tmon::detail {

inline constexpr int sqlite_schema_version = 2;

// Metrics live in blocks: one row per (series, append call) holding packed
// steps/times/values, with first/last step so a range query decodes only the
// blocks it overlaps. `series` doubles as the latest-value table; its max_span
// (the widest last_step - first_step of its blocks) bounds the index range a
// query scans from below: an overlapping block starts at >= step_min - max_span.
inline constexpr const char* sqlite_migration_v1 = R"sql(
CREATE TABLE runs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, config_json TEXT NOT NULL,
  tags_json TEXT NOT NULL, notes TEXT NOT NULL, start_time REAL NOT NULL, end_time REAL,
  created_at REAL NOT NULL, updated_at REAL NOT NULL, total_steps INTEGER, last_step INTEGER);
CREATE TABLE series (
  id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, key TEXT NOT NULL,
  latest_step INTEGER, latest_time REAL, latest_value REAL, max_span INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, key));
CREATE TABLE metric_blocks (
  id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, first_step INTEGER NOT NULL,
  last_step INTEGER NOT NULL, n INTEGER NOT NULL, min_value REAL, max_value REAL, data BLOB NOT NULL);
CREATE INDEX metric_blocks_by_series ON metric_blocks (series_id, first_step);
CREATE TABLE checkpoints (
  id TEXT PRIMARY KEY, run_id TEXT NOT NULL, filepath TEXT NOT NULL, step INTEGER,
  metrics_json TEXT NOT NULL, metadata_json TEXT NOT NULL, is_best INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE INDEX checkpoints_by_run ON checkpoints (run_id, created_at);
CREATE UNIQUE INDEX one_best_checkpoint_per_run ON checkpoints (run_id) WHERE is_best;
CREATE TABLE system_samples (
  time REAL NOT NULL, cpu_percent REAL, memory_percent REAL, memory_used INTEGER, memory_total INTEGER,
  process_rss INTEGER, gpus_json TEXT NOT NULL);
CREATE INDEX system_samples_by_time ON system_samples (time);
CREATE TABLE layers (
  run_id TEXT NOT NULL, step INTEGER NOT NULL, time REAL NOT NULL, layers_json TEXT NOT NULL,
  PRIMARY KEY (run_id, step)) WITHOUT ROWID;
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, time REAL NOT NULL, type TEXT NOT NULL,
  message TEXT NOT NULL, data_json TEXT NOT NULL);
CREATE INDEX events_by_run ON events (run_id, id);
)sql";

// Remote trainers: their machines' samples per run, (run, host, rank, time)
// unique so a replay replaces; events may carry a client id, unique per run.
inline constexpr const char* sqlite_migration_v2 = R"sql(
CREATE TABLE run_system_samples (
  run_id TEXT NOT NULL, host TEXT NOT NULL, rank INTEGER NOT NULL, time REAL NOT NULL,
  cpu_percent REAL, memory_percent REAL, memory_used INTEGER, memory_total INTEGER, process_rss INTEGER,
  gpus_json TEXT NOT NULL, PRIMARY KEY (run_id, host, rank, time)) WITHOUT ROWID;
CREATE INDEX run_system_samples_by_time ON run_system_samples (run_id, time);
ALTER TABLE events ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX events_by_client_id ON events (run_id, client_id) WHERE client_id IS NOT NULL;
)sql";

inline constexpr std::array<const char*, sqlite_schema_version> sqlite_migrations{sqlite_migration_v1,
                                                                                  sqlite_migration_v2};

inline int read_schema_version(sqlite_connection& db) {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    auto s = db.prepare("SELECT max(version) FROM schema_version");
    return s.step() && !s.is_null(0) ? static_cast<int>(s.int64(0)) : 0;
}

inline void migrate_schema(sqlite_connection& db, const std::string& path) {
    db.exec("BEGIN IMMEDIATE");
    try {
        int version = read_schema_version(db);
        if (version > sqlite_schema_version)
            throw error(errc::unavailable,
                        fmt::format("database '{}' has schema version {}, newer than this tmon understands ({}); "
                                    "open it with a newer tmon",
                                    path, version, sqlite_schema_version));
        for (int v = version; v < sqlite_schema_version; ++v) {
            db.exec(sqlite_migrations[static_cast<std::size_t>(v)]);
            db.exec("DELETE FROM schema_version");
            auto s = db.prepare("INSERT INTO schema_version (version) VALUES (?)");
            s.bind(1, v + 1).run();
        }
        db.exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

}  // namespace tmon::detail
