// A store whose append_metrics takes a vector instead of a span.
// expect: Storage must provide: append_metrics(std::string_view run_id, std::span<const metric_point>)
#include <string_view>
#include <vector>

#include <tmon/server.hpp>

struct my_store : tmon::memory_store {
    void append_metrics(std::string_view run_id, const std::vector<tmon::metric_point>& points);
};

int main() { tmon::server<my_store> srv{tmon::server_config{}}; }
