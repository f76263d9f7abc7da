#pragma once
// A small real model for the demos: a multilayer perceptron (ReLU hidden
// layers, softmax cross-entropy) trained with SGD + momentum on the classic
// spiral classification problem. Plain C++, no tmon dependency except the
// layer_stat type it reports, so any front end can drive it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tmon/core/types.hpp"

namespace demo {

struct dataset {
    std::vector<double> x;  // row-major, `features` columns
    std::vector<int> y;
    int features = 2;
    int classes = 3;
    std::size_t size() const { return y.size(); }
};

// `classes` interleaved spiral arms in 2-D with Gaussian noise on the angle.
inline dataset make_spiral(int points_per_class, int classes, double noise, std::uint32_t seed) {
    dataset d;
    d.classes = classes;
    std::mt19937 rng(seed);
    std::normal_distribution<double> jitter(0.0, noise);
    for (int c = 0; c < classes; ++c) {
        for (int i = 0; i < points_per_class; ++i) {
            double r = static_cast<double>(i) / points_per_class;
            double t = c * 4.0 + 4.0 * r + jitter(rng);
            d.x.push_back(r * std::sin(t));
            d.x.push_back(r * std::cos(t));
            d.y.push_back(c);
        }
    }
    return d;
}

// Mean, std, min, max and a 16-bin histogram over its range.
inline tmon::tensor_stats describe(const std::vector<double>& v, int bins = 16) {
    tmon::tensor_stats s;
    if (v.empty()) return s;
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    s.min = *lo;
    s.max = *hi;
    double sum = 0, sq = 0;
    for (double x : v) sum += x;
    s.mean = sum / static_cast<double>(v.size());
    for (double x : v) sq += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(sq / static_cast<double>(v.size()));
    s.histogram.assign(static_cast<std::size_t>(bins), 0.0);
    double width = (s.max - s.min) / bins;
    for (double x : v) {
        int b = width > 0 ? static_cast<int>((x - s.min) / width) : 0;
        s.histogram[static_cast<std::size_t>(std::clamp(b, 0, bins - 1))] += 1;
    }
    s.hist_min = s.min;
    s.hist_max = s.max;
    return s;
}

// Cosine decay from `base` to `floor` after a linear warm-up.
inline double cosine_lr(long step, long total, double base, double floor = 0.0, long warmup = 0) {
    if (step < warmup) return base * static_cast<double>(step + 1) / static_cast<double>(warmup);
    double progress = total > warmup ? static_cast<double>(step - warmup) / static_cast<double>(total - warmup) : 1.0;
    progress = std::clamp(progress, 0.0, 1.0);
    return floor + 0.5 * (base - floor) * (1.0 + std::cos(std::numbers::pi * progress));
}

class spiral_mlp {
public:
    struct step_result {
        double loss = 0, accuracy = 0, grad_norm = 0;
    };
    struct eval_result {
        double loss = 0, accuracy = 0;
    };

    explicit spiral_mlp(std::vector<int> sizes = {2, 32, 32, 3}, std::uint32_t seed = 7) {
        std::mt19937 rng(seed);
        for (std::size_t i = 0; i + 1 < sizes.size(); ++i) layers_.emplace_back(sizes[i], sizes[i + 1], rng);
    }

    std::size_t layer_count() const { return layers_.size(); }

    // One SGD + momentum step on the examples at `batch` (indices into data).
    step_result train_step(const dataset& data, const std::vector<std::size_t>& batch, double lr, double momentum) {
        for (auto& l : layers_) l.zero_grad();
        step_result r;
        for (std::size_t idx : batch) {
            forward(&data.x[idx * static_cast<std::size_t>(data.features)]);
            auto [loss, correct] = loss_and_backward(data.y[idx]);
            r.loss += loss;
            r.accuracy += correct ? 1 : 0;
        }
        const double n = static_cast<double>(batch.size());
        r.loss /= n;
        r.accuracy /= n;
        double sq = 0;
        auto average = [&](std::vector<double>& grads) {
            for (auto& g : grads) {
                g /= n;
                sq += g * g;
            }
        };
        for (auto& l : layers_) {
            average(l.gw);
            average(l.gb);
        }
        r.grad_norm = std::sqrt(sq);
        for (auto& l : layers_) l.apply(lr, momentum);
        return r;
    }

    eval_result evaluate(const dataset& data) {
        eval_result r;
        for (std::size_t i = 0; i < data.size(); ++i) {
            forward(&data.x[i * static_cast<std::size_t>(data.features)]);
            auto p = softmax(layers_.back().a);
            int label = data.y[i];
            r.loss += -std::log(std::max(p[static_cast<std::size_t>(label)], 1e-12));
            r.accuracy += argmax(p) == label ? 1 : 0;
        }
        r.loss /= static_cast<double>(data.size());
        r.accuracy /= static_cast<double>(data.size());
        return r;
    }

    // Activations (post-ReLU; logits for the last layer) of the last example
    // seen, weight gradients of the last step, and the weights themselves.
    std::vector<tmon::layer_stat> layer_stats() const {
        std::vector<tmon::layer_stat> out;
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            const auto& l = layers_[i];
            tmon::layer_stat s;
            s.name = i + 1 == layers_.size() ? "head" : "fc" + std::to_string(i + 1);
            s.activations = describe(l.a);
            s.gradients = describe(l.gw);
            s.parameters = describe(l.w);
            out.push_back(std::move(s));
        }
        return out;
    }

    // Raw little-endian doubles: layer count, then per layer in, out, weights, biases.
    void save(const std::string& path) const {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        if (!f) throw std::runtime_error("cannot write checkpoint " + path);
        auto put = [&](const auto& v) { f.write(reinterpret_cast<const char*>(&v), sizeof v); };
        put(static_cast<std::uint32_t>(layers_.size()));
        for (const auto& l : layers_) {
            put(static_cast<std::uint32_t>(l.in));
            put(static_cast<std::uint32_t>(l.out));
            f.write(reinterpret_cast<const char*>(l.w.data()),
                    static_cast<std::streamsize>(l.w.size() * sizeof(double)));
            f.write(reinterpret_cast<const char*>(l.b.data()),
                    static_cast<std::streamsize>(l.b.size() * sizeof(double)));
        }
        if (!f.flush()) throw std::runtime_error("cannot write checkpoint " + path);
    }

private:
    struct dense {
        int in, out;
        std::vector<double> w, b, gw, gb, vw, vb;
        std::vector<double> input, z, a;  // cached by forward for backward

        dense(int in_, int out_, std::mt19937& rng)
            : in(in_),
              out(out_),
              w(static_cast<std::size_t>(in_ * out_)),
              b(static_cast<std::size_t>(out_), 0.0),
              gw(w.size()),
              gb(b.size()),
              vw(w.size()),
              vb(b.size()),
              z(b.size()),
              a(b.size()) {
            std::normal_distribution<double> he(0.0, std::sqrt(2.0 / in_));
            for (auto& x : w) x = he(rng);
        }
        void zero_grad() {
            std::fill(gw.begin(), gw.end(), 0.0);
            std::fill(gb.begin(), gb.end(), 0.0);
        }
        void apply(double lr, double momentum) {
            for (std::size_t i = 0; i < w.size(); ++i) w[i] += vw[i] = momentum * vw[i] - lr * gw[i];
            for (std::size_t i = 0; i < b.size(); ++i) b[i] += vb[i] = momentum * vb[i] - lr * gb[i];
        }
    };

    void forward(const double* x) {
        std::vector<double> in(x, x + layers_.front().in);
        for (std::size_t li = 0; li < layers_.size(); ++li) {
            auto& l = layers_[li];
            l.input = in;
            const bool last = li + 1 == layers_.size();
            for (int o = 0; o < l.out; ++o) {
                double s = l.b[static_cast<std::size_t>(o)];
                for (int i = 0; i < l.in; ++i)
                    s += l.w[static_cast<std::size_t>(o * l.in + i)] * in[static_cast<std::size_t>(i)];
                l.z[static_cast<std::size_t>(o)] = s;
                l.a[static_cast<std::size_t>(o)] = last ? s : std::max(s, 0.0);
            }
            in = l.a;
        }
    }

    // Accumulates gradients of the cross-entropy of the last forward pass.
    std::pair<double, bool> loss_and_backward(int label) {
        auto p = softmax(layers_.back().a);
        double loss = -std::log(std::max(p[static_cast<std::size_t>(label)], 1e-12));
        bool correct = argmax(p) == label;
        std::vector<double> delta = p;  // dL/dlogits
        delta[static_cast<std::size_t>(label)] -= 1.0;
        for (std::size_t li = layers_.size(); li-- > 0;) {
            auto& l = layers_[li];
            std::vector<double> back(static_cast<std::size_t>(l.in), 0.0);
            for (int o = 0; o < l.out; ++o) {
                double d = delta[static_cast<std::size_t>(o)];
                if (li + 1 != layers_.size() && l.z[static_cast<std::size_t>(o)] <= 0) d = 0;  // ReLU
                l.gb[static_cast<std::size_t>(o)] += d;
                for (int i = 0; i < l.in; ++i) {
                    auto wi = static_cast<std::size_t>(o * l.in + i);
                    l.gw[wi] += d * l.input[static_cast<std::size_t>(i)];
                    back[static_cast<std::size_t>(i)] += d * l.w[wi];
                }
            }
            delta = std::move(back);
        }
        return {loss, correct};
    }

    static std::vector<double> softmax(const std::vector<double>& logits) {
        double m = *std::max_element(logits.begin(), logits.end());
        std::vector<double> p(logits.size());
        double sum = 0;
        for (std::size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp(logits[i] - m);
        for (auto& x : p) x /= sum;
        return p;
    }

    static int argmax(const std::vector<double>& v) {
        return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
    }

    std::vector<dense> layers_;
};

}  // namespace demo
