#pragma once
// POST .../metrics bodies read as a stream of SAX events: points are checked
// and collected as the parser walks the text, so a 60 MB body costs about its
// points (~2x the text), not a DOM (~15x). Three shapes, as in docs/API.md:
//   {"step": 1, "timestamp": 1.7e9, "metrics": {"loss": 0.5}}    one point
//   {"points": [point, ...]}                                     a batch
//   [point, ...]                                                 a batch
// The first wrong type or value is kept and reading goes on without
// collecting, so a body that is also malformed further on answers 400 (bad
// JSON), as a DOM parse would, and a well-formed one 422 naming the field.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <rapidjson/rapidjson.h>

#include "tmon/core/types.hpp"
#include "tmon/server/request_limits.hpp"

namespace tmon::detail {

// A JSON number as the reader saw it, so 3, 3.0 and 2^64-1 stay apart.
struct json_number {
    enum class kind { integer, big_unsigned, real } type = kind::integer;
    std::int64_t i = 0;
    double d = 0;

    double as_double() const noexcept { return type == kind::integer ? static_cast<double>(i) : d; }
};

// Steps are integers >= 0; 3.0 is accepted as 3, 2.5 and -1 are not.
inline std::optional<std::string> step_error(const json_number& n, std::string_view field, step_t& out) {
    switch (n.type) {
        case json_number::kind::integer:
            if (n.i < 0) return fmt::format("'{}' must be >= 0, got {}", field, n.i);
            out = n.i;
            return std::nullopt;
        case json_number::kind::real:
            if (std::isfinite(n.d) && n.d >= 0 && n.d < 9.2e18 && std::floor(n.d) == n.d) {
                out = static_cast<step_t>(n.d);
                return std::nullopt;
            }
            return fmt::format("'{}' must be a non-negative integer, got {}", field, n.d);
        case json_number::kind::big_unsigned: break;
    }
    return fmt::format("'{}' must be a non-negative integer", field);
}

class metrics_reader {
public:
    metrics_reader(double now, const request_limits& limits) : now_(now), limits_(limits) {}

    // After a successful parse: the first problem found, if any.
    std::optional<std::string> problem() {
        if (error_) return error_;
        if (!batch_form_ && candidate_problem_) return candidate_problem_;
        return std::nullopt;
    }
    std::vector<metric_point> take_points() { return std::move(batch_form_ ? batch_ : single_); }

    // ---- RapidJSON handler ---------------------------------------------------
    bool Null() { return on_scalar(kind::null); }
    bool Bool(bool) { return on_scalar(kind::other); }
    bool String(const char*, rapidjson::SizeType, bool) { return on_scalar(kind::other); }
    bool RawNumber(const char*, rapidjson::SizeType, bool) { return on_scalar(kind::other); }  // not enabled
    bool Int(int i) { return on_number({json_number::kind::integer, i, 0}); }
    bool Uint(unsigned u) { return on_number({json_number::kind::integer, static_cast<std::int64_t>(u), 0}); }
    bool Int64(std::int64_t i) { return on_number({json_number::kind::integer, i, 0}); }
    bool Uint64(std::uint64_t u) {
        if (u <= static_cast<std::uint64_t>(INT64_MAX))
            return on_number({json_number::kind::integer, static_cast<std::int64_t>(u), 0});
        return on_number({json_number::kind::big_unsigned, 0, static_cast<double>(u)});
    }
    bool Double(double d) { return on_number({json_number::kind::real, 0, d}); }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (!frames_.empty() && frames_.back().what != frame::skip) key_.assign(s, n);
        return true;
    }
    bool StartObject() { return on_container(true); }
    bool StartArray() { return on_container(false); }
    bool EndObject(rapidjson::SizeType) { return on_end(); }
    bool EndArray(rapidjson::SizeType) { return on_end(); }

private:
    enum class kind { null, number, other, object, array };

    struct point_state {
        std::size_t index = 0;
        std::size_t first = 0;  // where this point's values start in its sink
        std::optional<json_number> step;
        bool step_wrong = false;
        std::optional<json_number> timestamp;
        bool timestamp_wrong = false;
        bool metrics_seen = false;
        bool metrics_wrong = false;
        std::optional<std::string> value_error;  // the first bad metric name or value
    };

    struct frame {
        enum what_t { batch, candidate, element, metrics, skip } what;
    };

    // ---- where a value lands -------------------------------------------------
    bool on_scalar(kind k) {
        if (frames_.empty()) return top_level(k);
        switch (frames_.back().what) {
            case frame::batch: return batch_element(k);
            case frame::candidate: return member(candidate_, true, k);
            case frame::element: return member(element_, false, k);
            case frame::metrics: return metric_value(k, {});
            case frame::skip: return true;
        }
        return true;
    }

    bool on_number(json_number n) {
        if (frames_.empty()) return top_level(kind::number);
        switch (frames_.back().what) {
            case frame::candidate: return point_number(candidate_, n);
            case frame::element: return point_number(element_, n);
            case frame::metrics: return metric_value(kind::number, n);
            default: return on_scalar(kind::number);
        }
    }

    bool on_container(bool object) {
        kind k = object ? kind::object : kind::array;
        if (frames_.empty()) {
            if (!object) {
                batch_form_ = true;
                return push(frame::batch);
            }
            begin_point(candidate_, 0, single_);
            return push(frame::candidate);
        }
        switch (frames_.back().what) {
            case frame::batch:
                if (!object) {
                    batch_element(k);
                    return push(frame::skip);
                }
                begin_point(element_, next_index_++, batch_);
                return push(frame::element);
            case frame::candidate:
                if (!object && key_ == "points") {
                    batch_form_ = true;
                    return push(frame::batch);
                }
                [[fallthrough]];
            case frame::element: {
                point_state& p = frames_.back().what == frame::candidate ? candidate_ : element_;
                if (object && key_ == "metrics" && !p.metrics_seen) {
                    p.metrics_seen = true;
                    return push(frame::metrics);
                }
                member(p, frames_.back().what == frame::candidate, k);
                return push(frame::skip);
            }
            case frame::metrics: metric_value(k, {}); return push(frame::skip);
            case frame::skip: return push(frame::skip);
        }
        return push(frame::skip);
    }

    bool on_end() {
        frame::what_t closed = frames_.back().what;
        frames_.pop_back();
        if (closed == frame::element) finish_element();
        if (closed == frame::candidate) candidate_problem_ = stamp(candidate_, single_);
        return true;
    }

    bool push(frame::what_t w) {
        frames_.push_back(frame{w});
        return true;
    }

    bool top_level(kind) {
        fail("metrics must be a point object, {\"points\": [...]}, or an array of points");
        return true;
    }

    bool batch_element(kind) {
        fail(fmt::format("point {} must be an object with 'step' and 'metrics'", next_index_++));
        return true;
    }

    // A member of a point that is not a number (or a number where none belongs).
    bool member(point_state& p, bool candidate, kind k) {
        if (key_ == "step") p.step_wrong = true;
        else if (key_ == "timestamp" && k != kind::null) p.timestamp_wrong = true;
        else if (key_ == "metrics" && !p.metrics_seen) p.metrics_seen = p.metrics_wrong = true;
        else if (key_ == "points" && candidate) fail("'points' must be an array");
        return true;
    }

    bool point_number(point_state& p, const json_number& n) {
        if (key_ == "step") p.step = n;
        else if (key_ == "timestamp") p.timestamp = n;
        else if (key_ == "metrics" && !p.metrics_seen) p.metrics_seen = p.metrics_wrong = true;
        else if (key_ == "points" && &p == &candidate_) fail("'points' must be an array");
        return true;
    }

    bool metric_value(kind k, const json_number& n) {
        bool candidate = frames_.size() >= 2 && frames_[frames_.size() - 2].what == frame::candidate;
        point_state& p = candidate ? candidate_ : element_;
        if (p.value_error) return true;
        if (key_.empty()) p.value_error = fmt::format("point {}: a metric name is empty", p.index);
        else if (key_.size() > limits_.key_bytes)
            p.value_error = fmt::format("point {}: a metric name is longer than {} bytes ('{}...')", p.index,
                                        limits_.key_bytes, std::string_view(key_).substr(0, 32));
        else if (k != kind::number || !std::isfinite(n.as_double()))
            p.value_error = fmt::format("point {}: metric '{}' must be a finite number", p.index, key_);
        else if (!error_) (candidate ? single_ : batch_).push_back(metric_point{key_, 0, 0, n.as_double()});
        return true;
    }

    // ---- points ----------------------------------------------------------------
    static void begin_point(point_state& p, std::size_t index, const std::vector<metric_point>& sink) {
        p = point_state{};
        p.index = index;
        p.first = sink.size();
    }

    void finish_element() {
        if (auto problem = stamp(element_, batch_)) fail(std::move(*problem));
    }

    // Checks a finished point in the order the docs list its fields, then gives
    // its values their step and time. A point with a problem keeps no values.
    std::optional<std::string> stamp(const point_state& p, std::vector<metric_point>& sink) {
        auto problem = point_problem(p);
        if (problem) {
            if (sink.size() > p.first) sink.resize(p.first);
            return problem;
        }
        step_t step = 0;
        step_error(*p.step, "step", step);
        double t = p.timestamp ? p.timestamp->as_double() : now_;
        for (std::size_t i = p.first; i < sink.size(); ++i) {
            sink[i].step = step;
            sink[i].time = t;
        }
        return std::nullopt;
    }

    std::optional<std::string> point_problem(const point_state& p) const {
        auto at = [&](std::string_view m) { return fmt::format("point {}: {}", p.index, m); };
        if (p.step_wrong) return std::string("'step' must be a non-negative integer");
        if (!p.step) return at("'step' is required");
        step_t ignored = 0;
        if (auto e = step_error(*p.step, "step", ignored)) return e;
        if (p.timestamp_wrong) return std::string("'timestamp' must be a number");
        if (p.timestamp && p.timestamp->as_double() < 0) return at("'timestamp' must be Unix seconds >= 0");
        if (!p.metrics_seen || p.metrics_wrong) return at("'metrics' must be an object of name -> number");
        return p.value_error;
    }

    void fail(std::string message) {
        if (error_) return;
        error_ = std::move(message);
        std::vector<metric_point>().swap(batch_);  // nothing more is kept: the body is refused
        std::vector<metric_point>().swap(single_);
    }

    double now_;
    const request_limits& limits_;
    std::string key_;
    std::vector<frame> frames_;  // one per open container; depth is capped by the reader
    bool batch_form_ = false;
    std::size_t next_index_ = 0;
    point_state candidate_;  // the top-level object, read as one point unless it has "points"
    point_state element_;    // the batch element being read
    std::vector<metric_point> single_;
    std::vector<metric_point> batch_;
    std::optional<std::string> candidate_problem_;
    std::optional<std::string> error_;
};

}  // namespace tmon::detail
