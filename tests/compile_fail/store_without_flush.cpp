// A store that forgot flush(); every other member is memory_store's.
// expect: Storage must provide: flush()
#include <tmon/server.hpp>

class my_store : tmon::memory_store {
public:
    using options = tmon::memory_store_options;
    using memory_store::create_run, memory_store::get_run, memory_store::list_runs, memory_store::update_run,
        memory_store::delete_run, memory_store::append_metrics, memory_store::query_metrics,
        memory_store::latest_metrics, memory_store::metric_keys, memory_store::add_checkpoint,
        memory_store::get_checkpoint, memory_store::list_checkpoints, memory_store::delete_checkpoint,
        memory_store::mark_best, memory_store::append_system, memory_store::system_history, memory_store::append_layers,
        memory_store::get_layers, memory_store::layer_steps, memory_store::append_event, memory_store::list_events;
    using memory_store::memory_store;
};

int main() { tmon::server<my_store> srv{tmon::server_config{}}; }
