#pragma once
// The core data model shared by every policy: plain structs, no behaviour, no
// heavy includes. JSON-valued fields (config, checkpoint metrics/metadata,
// event data) are carried as already-validated JSON text so stores can keep
// them verbatim and the hot path never touches a JSON library.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/status.hpp"

namespace tmon {

using step_t = std::int64_t;

// ---- runs ----------------------------------------------------------------
struct run_info {
    std::string id{};  // "run_" + 12 hex chars unless the creator gives one
    std::string name{};
    run_status status = run_status::running;
    std::string config_json = "{}";  // object
    std::vector<std::string> tags{};
    std::string notes{};
    double start_time = 0;             // unix seconds
    std::optional<double> end_time{};  // set when the status turns terminal
    double created_at = 0;
    double updated_at = 0;                // last write of any kind (heartbeat for the dashboard)
    std::optional<step_t> total_steps{};  // for progress / ETA
    std::optional<step_t> last_step{};    // highest step logged so far
};

struct new_run {
    std::string name{};
    std::string config_json = "{}";
    std::vector<std::string> tags{};
    std::string notes{};
    std::optional<step_t> total_steps{};
    std::optional<std::string> id{};  // caller-chosen id (idempotent replay); generated if empty
    run_status status = run_status::running;
};

// Every field optional: only what is set changes.
struct run_update {
    std::optional<std::string> name{};
    std::optional<run_status> status{};
    std::optional<std::string> config_json{};
    std::optional<std::vector<std::string>> tags{};
    std::optional<std::string> notes{};
    std::optional<step_t> total_steps{};
};

enum class run_sort { created_desc, created_asc, name_asc, name_desc, updated_desc };

// The names GET /api/runs?sort= takes.
constexpr std::string_view to_string(run_sort s) noexcept {
    switch (s) {
        case run_sort::created_desc: return "created_desc";
        case run_sort::created_asc: return "created_asc";
        case run_sort::name_asc: return "name_asc";
        case run_sort::name_desc: return "name_desc";
        case run_sort::updated_desc: return "updated_desc";
    }
    return "created_desc";
}

struct run_query {
    std::optional<run_status> status{};
    std::string name_contains{};  // case-insensitive substring ("q")
    std::string tag{};            // exact tag
    run_sort sort = run_sort::created_desc;
    std::size_t limit = 100;
    std::size_t offset = 0;
};

struct run_page {
    std::vector<run_info> runs{};
    std::size_t total = 0;  // matches before limit/offset
};

// ---- scalar metrics ------------------------------------------------------
struct metric_point {
    std::string key{};
    step_t step = 0;
    double time = 0;  // unix seconds
    double value = 0;
};

// One value per step as returned by queries (the key is the series').
struct series_point {
    step_t step = 0;
    double time = 0;
    double value = 0;
};

enum class downsample_method { lttb, minmax };

struct metric_query {
    std::string run_id{};
    std::string key{};
    step_t step_min = std::numeric_limits<step_t>::min();
    step_t step_max = std::numeric_limits<step_t>::max();
    double time_min = -std::numeric_limits<double>::infinity();
    double time_max = std::numeric_limits<double>::infinity();
    std::size_t max_points = 0;  // 0: everything in range (after `last`)
    downsample_method method = downsample_method::lttb;
    std::size_t last = 0;  // 0: everything in range; else only the newest `last` points of it
};

struct metric_series {
    std::string key{};
    std::vector<series_point> points{};  // ascending step
    std::size_t total_in_range = 0;      // before downsampling
    bool downsampled = false;
};

struct latest_metric {
    std::string key{};
    step_t step = 0;
    double time = 0;
    double value = 0;
};

// ---- checkpoints ---------------------------------------------------------
struct checkpoint_info {
    std::string id{};  // "ckpt_" + 12 hex chars unless given
    std::string run_id{};
    std::string filepath{};
    std::optional<step_t> step{};
    std::string metrics_json = "{}";
    std::string metadata_json = "{}";
    bool is_best = false;
    double created_at = 0;
};

struct new_checkpoint {
    std::string run_id{};
    std::string filepath{};
    std::optional<step_t> step{};
    std::string metrics_json = "{}";
    std::string metadata_json = "{}";
    bool is_best = false;
    std::optional<std::string> id{};
};

// ---- system samples ------------------------------------------------------
struct gpu_sample {
    int index = 0;
    std::string name{};
    double utilization = 0;         // percent
    std::uint64_t memory_used = 0;  // bytes
    std::uint64_t memory_total = 0;
    double temperature = 0;  // Celsius
    double power = 0;        // watts
};

// The server samples its own machine (run_id empty); a remote trainer posts
// its own host's samples for its run, tagged with host and rank. Per run,
// (host, rank, time) is unique: a replayed sample replaces, never duplicates.
struct system_sample {
    double time = 0;
    std::string run_id{};  // empty: the server's own machine
    std::string host{};
    int rank = 0;
    double cpu_percent = 0;
    double memory_percent = 0;
    std::uint64_t memory_used = 0;  // bytes
    std::uint64_t memory_total = 0;
    std::uint64_t process_rss = 0;  // bytes
    std::vector<gpu_sample> gpus{};
};

struct system_query {
    std::string run_id{};       // empty: the server's own samples only
    std::string host{};         // empty: every host (per-run queries)
    std::optional<int> rank{};  // unset: every rank
    double time_min = -std::numeric_limits<double>::infinity();
    double time_max = std::numeric_limits<double>::infinity();
    std::size_t limit = 1000;  // newest `limit` samples in range, returned ascending
};

// ---- per-layer statistics (layerwise-monitor) ---------------------------
struct tensor_stats {
    double mean = 0, std = 0, min = 0, max = 0;
    std::vector<double> histogram{};               // optional bin counts
    std::optional<double> hist_min{}, hist_max{};  // bin range when a histogram is present
};

struct layer_stat {
    std::string name{};
    std::optional<tensor_stats> activations{};
    std::optional<tensor_stats> gradients{};
    std::optional<tensor_stats> parameters{};
};

struct layer_snapshot {
    std::string run_id{};
    step_t step = 0;
    double time = 0;
    std::vector<layer_stat> layers{};
};

// ---- event log -----------------------------------------------------------
// type: run_created, status_changed, checkpoint_saved, checkpoint_deleted,
// best_changed, checkpoint_load_requested, run_updated, run_deleted, warning...
struct event {
    std::int64_t id = 0;  // assigned by the store, increasing per store
    std::string run_id{};
    double time = 0;
    std::string type{};
    std::string message{};
    std::string data_json = "{}";
    std::string client_id{};  // given by a remote client: stored once per run (replays return the stored event)
};

struct event_query {
    std::string run_id{};       // empty: all runs
    std::int64_t after_id = 0;  // only events with id > after_id
    std::size_t limit = 200;    // newest `limit`, returned ascending
};

// ---- commands to the training process ------------------------------------
// Written by the dashboard/API (e.g. "load this checkpoint"), read by the
// training process (in-process monitor or remote client) that acts on them.
struct command {
    std::int64_t id = 0;  // increasing; a reader asks for id > last seen
    std::string run_id{};
    std::string type{};           // "load_checkpoint", "stop"
    std::string checkpoint_id{};  // for load_checkpoint
    std::string filepath{};
    std::string payload_json = "{}";
    double created_at = 0;
};

}  // namespace tmon
