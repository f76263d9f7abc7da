// A real training loop reporting to tmon: an MLP learning the spiral problem,
// with per-step metrics, validation, layer statistics, checkpoints (the
// weights really written to disk, the best marked by validation loss) and
// system samples, all stored in a SQLite file the tmon server can serve.
//
//   demo-training [--steps N] [--db PATH] [--quiet] [--delay-ms MS]
// --delay-ms sleeps after each step so the run can be watched live.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "demo/spiral_training.hpp"
#include "tmon/monitor/monitor.hpp"
#include "tmon/sampler/system_sampler.hpp"
#include "tmon/storage/sqlite_store.hpp"

namespace {

struct args {
    long steps = 3000;
    std::string db = "tmon-demo.db";
    bool quiet = false;
    long delay_ms = 0;
};

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout, "usage: demo-training [--steps N] [--db PATH] [--quiet] [--delay-ms MS]\n");
    std::exit(code);
}

args parse(int argc, char** argv) {
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (arg == "--steps") {
            a.steps = std::atol(std::string(value()).c_str());
            if (a.steps <= 0) usage(2);
        } else if (arg == "--db") {
            a.db = value();
        } else if (arg == "--delay-ms") {
            a.delay_ms = std::atol(std::string(value()).c_str());
            if (a.delay_ms < 0) usage(2);
        } else if (arg == "--quiet") {
            a.quiet = true;
        } else if (arg == "--help" || arg == "-h") {
            usage(0);
        } else {
            usage(2);
        }
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    args a = parse(argc, argv);
    if (a.quiet) tmon::set_log_level(tmon::log_level::warn);

    std::filesystem::path db = std::filesystem::absolute(a.db);
    std::filesystem::path data_dir = db.parent_path();
    if (!data_dir.empty()) std::filesystem::create_directories(data_dir);

    tmon::sqlite_store store{{.path = db.string()}};
    demo::training_options o;
    o.steps = a.steps;
    o.quiet = a.quiet;
    o.step_delay = std::chrono::milliseconds(a.delay_ms);

    tmon::monitor<tmon::sqlite_store, tmon::system_sampler> mon{
        store,
        {.run_name = "spiral-mlp", .config_json = demo::options_json(o), .tags = {"demo", "spiral", "mlp"},
         .total_steps = a.steps}};
    o.checkpoint_dir = data_dir / "checkpoints" / mon.run_id();

    std::printf("tmon demo: run %s -> %s\n", mon.run_id().c_str(), db.c_str());
    auto sum = demo::train_spiral(mon, o);
    mon.flush();

    std::printf("data: %s (run %s), checkpoints in %s, best %s\n", db.c_str(), mon.run_id().c_str(),
                o.checkpoint_dir.c_str(), sum.best_checkpoint.c_str());
    std::printf("done: %ld steps, final loss %.4f, accuracy %.3f, val_loss %.4f, val_accuracy %.3f, "
                "points logged %llu, dropped %llu, rejected %llu\n",
                sum.steps, sum.last_step.loss, sum.last_step.accuracy, sum.validation.loss, sum.validation.accuracy,
                static_cast<unsigned long long>(mon.points_written()), static_cast<unsigned long long>(mon.dropped()),
                static_cast<unsigned long long>(mon.rejected()));
    return 0;
}
