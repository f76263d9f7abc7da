#pragma once
// The demo's training loop, written against anything shaped like a
// tmon::monitor (log, log_layers, checkpoint, mark_best), so the standalone
// demo and a server-hosted demo run the same code.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "spiral_mlp.hpp"

namespace demo {

struct training_options {
    long steps = 3000;
    std::size_t batch_size = 64;
    double base_lr = 0.1;
    double min_lr = 0.002;
    long warmup_steps = 100;
    double momentum = 0.9;
    long validate_every = 50;
    long layers_every = 100;
    long checkpoint_every = 500;
    std::filesystem::path checkpoint_dir = "checkpoints";
    bool quiet = false;
    // Sleep per step so a person can watch the run live (the model itself
    // trains 3000 steps in about a second).
    std::chrono::microseconds step_delay{0};
};

struct training_summary {
    spiral_mlp::step_result last_step;
    spiral_mlp::eval_result validation;
    double best_val_loss = std::numeric_limits<double>::infinity();
    std::string best_checkpoint;
    long steps = 0;
};

inline std::string options_json(const training_options& o) {
    return fmt::format(R"({{"model":"mlp 2-32-32-3","dataset":"spiral, 3 classes","optimizer":"sgd+momentum",)"
                       R"("momentum":{},"base_lr":{},"min_lr":{},"schedule":"cosine","warmup_steps":{},)"
                       R"("batch_size":{},"steps":{}}})",
                       o.momentum, o.base_lr, o.min_lr, o.warmup_steps, o.batch_size, o.steps);
}

template <class Monitor>
training_summary train_spiral(Monitor& mon, const training_options& o) {
    dataset train = make_spiral(400, 3, 0.2, 1);
    dataset val = make_spiral(100, 3, 0.2, 2);
    spiral_mlp model;
    std::mt19937 rng(3);
    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), 0);
    std::vector<std::size_t> batch;
    std::size_t cursor = order.size();
    std::filesystem::create_directories(o.checkpoint_dir);

    training_summary sum;
    for (long step = 0; step < o.steps; ++step) {
        batch.clear();
        while (batch.size() < o.batch_size) {
            if (cursor == order.size()) {  // new epoch
                std::shuffle(order.begin(), order.end(), rng);
                cursor = 0;
            }
            batch.push_back(order[cursor++]);
        }
        double lr = cosine_lr(step, o.steps, o.base_lr, o.min_lr, o.warmup_steps);
        auto r = model.train_step(train, batch, lr, o.momentum);
        mon.log(step, {{"loss", r.loss}, {"accuracy", r.accuracy}, {"lr", lr}, {"grad_norm", r.grad_norm}});
        sum.last_step = r;
        sum.steps = step + 1;

        const bool last = step + 1 == o.steps;
        if (step % o.validate_every == 0 || last) {
            sum.validation = model.evaluate(val);
            mon.log(step, {{"val_loss", sum.validation.loss}, {"val_accuracy", sum.validation.accuracy}});
        }
        if (step % o.layers_every == 0 || last) mon.log_layers(step, model.layer_stats());
        if ((step > 0 && step % o.checkpoint_every == 0) || last) {
            auto path = o.checkpoint_dir / fmt::format("step_{:06}.bin", step);
            model.save(path.string());
            auto ckpt = mon.checkpoint(
                path.string(),
                {{"val_loss", sum.validation.loss}, {"val_accuracy", sum.validation.accuracy}, {"loss", r.loss}},
                fmt::format(R"({{"format":"raw f64","layers":{}}})", model.layer_count()), step);
            if (sum.validation.loss < sum.best_val_loss) {
                sum.best_val_loss = sum.validation.loss;
                sum.best_checkpoint = path.string();
                mon.mark_best(ckpt.id);
            }
        }
        if (o.step_delay.count() > 0) std::this_thread::sleep_for(o.step_delay);
        if (!o.quiet && (step % 250 == 0 || last)) {
            std::printf("step %5ld  loss %.4f  acc %.3f  val_loss %.4f  val_acc %.3f  lr %.4f\n", step, r.loss,
                        r.accuracy, sum.validation.loss, sum.validation.accuracy, lr);
        }
    }
    return sum;
}

}  // namespace demo
