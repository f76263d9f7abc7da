// The light core a training loop includes: monitor over memory_store. It must
// not pull in SQLite, Asio or RapidJSON (the packaging test also checks the
// program does not link libsqlite3 or libz).
#include <cstdio>
#include <cstdlib>

#include <tmon/tmon.hpp>

#if defined(SQLITE_VERSION) || defined(ASIO_VERSION) || defined(RAPIDJSON_VERSION_STRING)
#error "tmon/tmon.hpp must not include SQLite, Asio or RapidJSON"
#endif

int main() {
    tmon::memory_store store;
    std::string id;
    {
        tmon::monitor mon{store, {.run_name = "light"}};
        id = mon.run_id();
        for (int step = 0; step < 100; ++step) mon.log(step, {{"loss", 1.0 / (step + 1)}});
    }
    auto series = store.query_metrics({.run_id = id, .key = "loss"});
    if (series.points.size() != 100) {
        std::fprintf(stderr, "light: expected 100 points, got %zu\n", series.points.size());
        return EXIT_FAILURE;
    }
    std::printf("light ok: tmon %s, %zu points\n", tmon::version_string, series.points.size());
    return EXIT_SUCCESS;
}
