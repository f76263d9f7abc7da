// server<memory_store> through tmon/server_core.hpp (tmon::server_core): the
// whole server without SQLite.
#include <cstdio>
#include <cstdlib>

#include <tmon/server_core.hpp>

#ifdef SQLITE_VERSION
#error "tmon/server_core.hpp must not include SQLite"
#endif

int main() {
    tmon::server<tmon::memory_store> srv{{.port = 0}};
    auto run = srv.start_run("server-core", "{}");
    for (int step = 0; step < 100; ++step) run.log(step, {{"loss", 1.0 / (step + 1)}});
    run.flush();
    auto series = srv.store().query_metrics({.run_id = run.run_id(), .key = "loss"});
    if (series.points.size() != 100 || srv.port() == 0) {
        std::fprintf(stderr, "server_core: expected 100 points on a live port, got %zu on %u\n", series.points.size(),
                     unsigned(srv.port()));
        return EXIT_FAILURE;
    }
    std::printf("server_core ok: %zu points, served on port %u\n", series.points.size(), unsigned(srv.port()));
    srv.stop();
    return EXIT_SUCCESS;
}
