// The light core through the package: a monitor writing to memory_store.
#include <cstdio>
#include <cstdlib>

#include <tmon/tmon.hpp>

int main() {
    tmon::memory_store store;
    std::string id;
    {
        tmon::monitor mon{store, {.run_name = "test_package"}};
        id = mon.run_id();
        for (int step = 0; step < 10; ++step) mon.log(step, {{"loss", 1.0 / (step + 1)}});
    }
    auto points = store.query_metrics({.run_id = id, .key = "loss"}).points.size();
    std::printf("tmon %s: %zu points\n", tmon::version_string, points);
    return points == 10 ? EXIT_SUCCESS : EXIT_FAILURE;
}
