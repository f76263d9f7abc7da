#pragma once
// Forward declarations of tmon's public types, for headers that only name them.
#include <cstdint>

namespace tmon {

enum class run_status;
enum class errc;
class error;

struct run_info;
struct new_run;
struct run_update;
struct run_query;
struct run_page;
struct metric_point;
struct series_point;
struct metric_query;
struct metric_series;
struct latest_metric;
struct checkpoint_info;
struct new_checkpoint;
struct system_sample;
struct gpu_sample;
struct system_query;
struct tensor_stats;
struct layer_stat;
struct layer_snapshot;
struct event;
struct event_query;
struct command;

class memory_store;
class sqlite_store;
class jsonl_store;

class asio_transport;
class no_transport;

struct no_sampler;
class system_sampler;

template <class Recorder, class Sampler>
class monitor;

}  // namespace tmon
