// A user's program, compiled the way a user would: against an installed tmon
// (find_package), a vendored checkout (add_subdirectory), the single header,
// or meson. It trains nothing; it checks the library links and works.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#ifdef TMON_CONSUMER_SINGLE_HEADER
#include <tmon/tmon.hpp>  // single_include/: the whole library
#else
#include <tmon/tmon.hpp>
#include <tmon/server.hpp>
#include <tmon/storage/sqlite_store.hpp>
#endif

int main() {
    std::string db = "/tmp/tmon-consumer-" + std::to_string(::getpid()) + ".db";
    tmon::server<tmon::sqlite_store> srv{{.db_path = db, .port = 0}};
    auto run = srv.start_run("consumer", "{\"lr\":0.1}");
    for (int step = 0; step < 100; ++step) run.log(step, {{"loss", 1.0 / (step + 1)}});
    run.flush();
    auto series = srv.store().query_metrics({.run_id = run.run_id(), .key = "loss"});
    if (series.points.size() != 100 || srv.port() == 0) {
        std::fprintf(stderr, "consumer: expected 100 points on a live port, got %zu on %u\n", series.points.size(),
                     unsigned(srv.port()));
        return EXIT_FAILURE;
    }
    std::printf("consumer ok: %zu points, served on port %u\n", series.points.size(), unsigned(srv.port()));
    srv.stop();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
    return EXIT_SUCCESS;
}
