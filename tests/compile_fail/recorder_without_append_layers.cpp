// A recorder (the monitor's write side) without append_layers.
// expect: Recorder must provide: append_layers(const layer_snapshot&)
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <tmon/tmon.hpp>

struct my_recorder {
    tmon::run_info create_run(const tmon::new_run&);
    std::optional<tmon::run_info> get_run(std::string_view id);
    tmon::run_page list_runs(const tmon::run_query&);
    tmon::run_info update_run(std::string_view id, const tmon::run_update&);
    void append_metrics(std::string_view run_id, std::span<const tmon::metric_point>);
    tmon::checkpoint_info add_checkpoint(const tmon::new_checkpoint&);
    std::vector<tmon::checkpoint_info> list_checkpoints(std::string_view run_id);
    tmon::checkpoint_info mark_best(std::string_view checkpoint_id);
    void append_system(const tmon::system_sample&);
    tmon::event append_event(const tmon::event&);
};

int main() {
    my_recorder rec;
    tmon::monitor<my_recorder> mon{rec, {.run_name = "r"}};
}
