// A real training loop reporting to tmon: an MLP learning the spiral problem,
// with per-step metrics, validation, layer statistics, checkpoints (the
// weights really written to disk, the best marked by validation loss) and
// system samples, trained inside a tmon::server<tmon::sqlite_store> so the
// dashboard shows it live at the printed URL.
//
//   demo-training [--steps N] [--db PATH] [--host H] [--port P] [--delay-ms MS]
//                 [--exit-when-done] [--quiet]
// It keeps serving after training until Ctrl-C, unless --exit-when-done.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <pthread.h>

#include "demo/spiral_training.hpp"
#include "tmon/server.hpp"
#include "tmon/storage/sqlite_store.hpp"

namespace {

struct args {
    long steps = 3000;
    std::string db = "tmon-demo.db";
    std::string host = "127.0.0.1";
    long port = 8000;
    bool quiet = false;
    bool exit_when_done = false;
    long delay_ms = 5;  // ~15 s for the default run: long enough to watch it live
};

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: demo-training [--steps N] [--db PATH] [--host H] [--port P] [--delay-ms MS]\n"
                 "                     [--exit-when-done] [--quiet]\n"
                 "Trains a small MLP on a generated spiral data set inside a tmon server with a SQLite store\n"
                 "and serves the dashboard; keeps serving after training until Ctrl-C.\n");
    std::exit(code);
}

long parse_number(std::string_view text, long min, long max) {
    char* end = nullptr;
    std::string s{text};
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < min || v > max) usage(2);
    return v;
}

args parse(int argc, char** argv) {
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (arg == "--steps") a.steps = parse_number(value(), 1, 1'000'000'000);
        else if (arg == "--db") a.db = value();
        else if (arg == "--host") a.host = value();
        else if (arg == "--port") a.port = parse_number(value(), 0, 65535);
        else if (arg == "--delay-ms") a.delay_ms = parse_number(value(), 0, 60'000);
        else if (arg == "--exit-when-done") a.exit_when_done = true;
        else if (arg == "--quiet") a.quiet = true;
        else if (arg == "--help" || arg == "-h") usage(0);
        else usage(2);
    }
    return a;
}

// Blocked before any server thread starts, so only sigwait() sees them.
sigset_t termination_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

}  // namespace

int main(int argc, char** argv) {
    args a = parse(argc, argv);
    if (a.quiet) tmon::set_log_level(tmon::log_level::warn);
    sigset_t signals = termination_signals();

    std::filesystem::path db = std::filesystem::absolute(a.db);
    std::filesystem::path data_dir = db.parent_path();
    if (!data_dir.empty()) std::filesystem::create_directories(data_dir);

    std::optional<tmon::server<tmon::sqlite_store>> srv;
    try {
        srv.emplace(
            tmon::server_config{.db_path = db.string(), .host = a.host, .port = static_cast<std::uint16_t>(a.port)});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "demo-training: %s\n", e.what());
        return 2;
    }
    std::printf("tmon demo: dashboard at %s  (data in %s)\n", srv->url().c_str(), db.c_str());
    std::fflush(stdout);

    demo::training_options o;
    o.steps = a.steps;
    o.quiet = a.quiet;
    o.step_delay = std::chrono::milliseconds(a.delay_ms);
    {
        tmon::monitor_options mo;
        mo.tags = {"demo", "spiral", "mlp"};
        mo.total_steps = a.steps;
        auto mon = srv->start_run("spiral-mlp", demo::options_json(o), mo);
        o.checkpoint_dir = data_dir / "checkpoints" / mon.run_id();
        std::printf("run %s training %ld steps...\n", mon.run_id().c_str(), a.steps);
        std::fflush(stdout);
        auto sum = demo::train_spiral(mon, o);
        mon.flush();
        std::printf(
            "done: %ld steps, final loss %.4f, accuracy %.3f, val_loss %.4f, val_accuracy %.3f, "
            "points logged %llu, dropped %llu, rejected %llu; checkpoints in %s, best %s\n",
            sum.steps, sum.last_step.loss, sum.last_step.accuracy, sum.validation.loss, sum.validation.accuracy,
            static_cast<unsigned long long>(mon.points_written()), static_cast<unsigned long long>(mon.dropped()),
            static_cast<unsigned long long>(mon.rejected()), o.checkpoint_dir.c_str(), sum.best_checkpoint.c_str());
    }
    if (!a.exit_when_done) {
        std::printf("still serving %s - press Ctrl-C to stop\n", srv->url().c_str());
        std::fflush(stdout);
        int sig = 0;
        sigwait(&signals, &sig);
    }
    srv->stop();
    return 0;
}
