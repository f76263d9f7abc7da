#pragma once
// The WebSocket side of docs/API.md: per-connection subscriptions and
// coalescing. A push goes straight to the peer's outbound queue while that
// holds little (an event is serialised once, and its bytes are shared by every
// such peer); once the peer falls behind (lag_bytes), pushes wait in a per-peer
// queue where metric points of one run merge
// into a single metric_update (capped: beyond the cap the oldest steps are cut
// and counted in "dropped") and system updates keep only the latest. The queue
// is flushed when the transport reports the socket drained, so a slow client
// costs bounded memory and never stalls the writer or other clients.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tmon/core/log.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/server/detail/event_bus.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/server/request_limits.hpp"
#include "tmon/transport/transport_concept.hpp"

namespace tmon::detail {

// Points of one run waiting for one peer, one entry per step (a rewrite of the
// same key and step replaces the value, as in the store).
struct pending_points {
    struct step_values {
        double time = 0;
        std::vector<std::pair<std::string, double>> values;
    };
    std::map<step_t, step_values> steps;
    std::size_t dropped = 0;

    void add(const metric_point& p) {
        auto& s = steps[p.step];
        s.time = p.time;
        for (auto& [k, v] : s.values)
            if (k == p.key) {
                v = p.value;
                return;
            }
        s.values.emplace_back(p.key, p.value);
    }

    void cap(std::size_t max_steps) {
        while (steps.size() > max_steps) {
            steps.erase(steps.begin());
            ++dropped;
        }
    }
};

inline void write_step_metrics(json_writer& w, const pending_points::step_values& s) {
    w.begin_object();
    for (const auto& [k, v] : s.values) w.field(k, v);
    w.end_object();
}

inline std::string metric_update_json(std::string_view run_id, const pending_points& p) {
    std::string out;
    json_writer w(out);
    const auto& [newest_step, newest] = *p.steps.rbegin();
    w.begin_object()
        .field("type", "metric_update")
        .field("run_id", run_id)
        .field("step", static_cast<std::int64_t>(newest_step));
    w.key("metrics");
    write_step_metrics(w, newest);
    w.field("timestamp", newest.time);
    w.key("points").begin_array();
    for (const auto& [step, s] : p.steps) {
        w.begin_object().field("step", static_cast<std::int64_t>(step)).field("timestamp", s.time).key("metrics");
        write_step_metrics(w, s);
        w.end_object();
    }
    w.end_array().field("dropped", static_cast<std::uint64_t>(p.dropped)).end_object();
    return out;
}

inline std::string ws_error_json(std::string_view message) {
    std::string out;
    json_writer(out).begin_object().field("type", "error").field("message", message).end_object();
    return out;
}

inline std::string ws_reply_json(std::string_view type, std::optional<std::string_view> run_id = {}) {
    std::string out;
    json_writer w(out);
    w.begin_object().field("type", type);
    if (run_id) w.field("run_id", *run_id);
    w.end_object();
    return out;
}

// Outside the class so it can be a default argument.
struct ws_hub_limits {
    std::size_t points_per_run = 2000;     // steps kept per run while a peer lags
    std::size_t messages_per_peer = 4096;  // other pushes kept while a peer lags
    // A peer counts as lagging once this much is queued but not yet written to
    // its socket. Below it, pushes join the transport's queue: a busy but
    // keeping-up peer gets them in its next gathered write, with no wait for a drain.
    std::size_t lag_bytes = 64 * 1024;
    // Runs one peer may subscribe to by id ("*" does not count): each costs memory for its life.
    std::size_t subscriptions = 256;
};

class ws_hub {
public:
    using limits = ws_hub_limits;

    // run_exists answers whether a run id is known, so a subscription to a typo is
    // an error the client sees; without it every id is accepted.
    explicit ws_hub(limits l = {}, std::function<bool(std::string_view)> run_exists = {},
                    request_limits parse_limits = {})
        : limits_(l), run_exists_(std::move(run_exists)), parse_limits_(parse_limits) {}

    void on_open(const ws_peer_ptr& peer) {
        auto st = std::make_shared<peer_state>();
        st->peer = peer;
        std::unique_lock lock(peers_mutex_);
        peers_[peer->id()] = std::move(st);
    }

    void on_close(const ws_peer_ptr& peer) {
        std::unique_lock lock(peers_mutex_);
        peers_.erase(peer->id());
    }

    void on_message(const ws_peer_ptr& peer, std::string_view text) {
        auto st = find(peer->id());
        if (!st) return;
        std::lock_guard lock(st->mutex);
        try {
            auto m = json_body::parse_ws_message(text, parse_limits_);
            if (m.type == "ping") {
                reply_locked(*st, detail::ws_reply_json("pong"));
            } else if (m.type == "subscribe") {
                if (m.run_id == "*") st->all = true;
                else subscribe_locked(*st, m.run_id);
                reply_locked(*st, detail::ws_reply_json("subscribed", m.run_id));
            } else {
                if (m.run_id == "*") st->all = false;
                else st->runs.erase(m.run_id);
                reply_locked(*st, detail::ws_reply_json("unsubscribed", m.run_id));
            }
        } catch (const std::exception& e) {
            reply_locked(*st, detail::ws_error_json(e.what()));
        }
    }

    void on_drain(const ws_peer_ptr& peer) {
        if (auto st = find(peer->id())) {
            std::lock_guard lock(st->mutex);
            flush_locked(*st);
        }
    }

    // Safety net run periodically: a peer whose socket is idle but still has a
    // backlog (a drain notification raced with a push) gets it now.
    void flush_idle() {
        std::shared_lock lock(peers_mutex_);
        for (auto& [id, st] : peers_) {
            std::lock_guard plock(st->mutex);
            if (has_backlog(*st) && st->peer->pending_bytes() == 0) flush_locked(*st);
        }
    }

    void deliver(const live_event& e) {
        shared_text bytes;  // the event as sent to an idle peer, built on first need
        auto shared = [&]() -> const shared_text& {
            if (!bytes)
                bytes = std::make_shared<const std::string>(e.type == live_event::kind::metrics ? idle_update_json(e)
                                                                                                : e.json);
            return bytes;
        };
        std::shared_lock lock(peers_mutex_);
        for (auto& [id, st] : peers_) {
            std::lock_guard plock(st->mutex);
            switch (e.type) {
                case live_event::kind::system:
                    if (can_send_now(*st)) st->peer->send_text(shared());
                    else st->system = shared();
                    break;
                case live_event::kind::message:
                    if (subscribed(*st, e.run_id)) push_locked(*st, shared(), e.run_id);
                    break;
                case live_event::kind::metrics:
                    if (e.points.empty() || !subscribed(*st, e.run_id)) break;
                    if (can_send_now(*st)) st->peer->send_text(shared());
                    else queue_points_locked(*st, e.run_id, e.points);
                    break;
            }
        }
    }

    std::size_t connections() const {
        std::shared_lock lock(peers_mutex_);
        return peers_.size();
    }

private:
    using shared_text = std::shared_ptr<const std::string>;

    struct slot {
        std::string run_id;
        shared_text json;  // a ready message, or null for a metrics slot
        std::optional<detail::pending_points> points;
    };

    struct peer_state {
        ws_peer_ptr peer;
        std::mutex mutex;
        std::set<std::string, std::less<>> runs;
        bool all = false;
        std::deque<slot> backlog;  // in arrival order; a run's points merge into its one slot
        shared_text system;        // latest system_update only
    };

    // Throws (answered as an error message) for an unknown run or one too many.
    void subscribe_locked(peer_state& st, const std::string& run_id) {
        if (st.runs.contains(run_id)) return;
        if (st.runs.size() >= limits_.subscriptions)
            throw std::length_error(
                fmt::format("a connection may subscribe to at most {} runs (or to \"*\")", limits_.subscriptions));
        if (run_exists_ && !run_exists_(run_id))
            throw std::invalid_argument(fmt::format("run '{}' does not exist", run_id));
        st.runs.insert(run_id);
    }

    std::shared_ptr<peer_state> find(std::uint64_t id) const {
        std::shared_lock lock(peers_mutex_);
        auto it = peers_.find(id);
        return it == peers_.end() ? nullptr : it->second;
    }

    static bool subscribed(const peer_state& st, std::string_view run_id) {
        return st.all || st.runs.find(run_id) != st.runs.end();
    }

    static bool has_backlog(const peer_state& st) { return !st.backlog.empty() || st.system != nullptr; }

    bool can_send_now(const peer_state& st) const {
        return !has_backlog(st) && st.peer->pending_bytes() < limits_.lag_bytes;
    }

    // The metric_update an idle peer gets for one write: its points alone.
    std::string idle_update_json(const live_event& e) const {
        detail::pending_points p;
        for (const auto& pt : e.points) p.add(pt);
        p.cap(limits_.points_per_run);
        return detail::metric_update_json(e.run_id, p);
    }

    // Replies to one peer's own request (pong, subscribed, error).
    void reply_locked(peer_state& st, std::string json) {
        push_locked(st, std::make_shared<const std::string>(std::move(json)));
    }

    void push_locked(peer_state& st, const shared_text& json, std::string_view run_id = {}) {
        if (can_send_now(st)) {
            st.peer->send_text(json);
            return;
        }
        st.backlog.push_back(slot{std::string(run_id), json, std::nullopt});
        trim_messages(st);
    }

    // A busy peer: the points merge into its pending metric_update for the run.
    void queue_points_locked(peer_state& st, const std::string& run_id, const std::vector<metric_point>& points) {
        slot* target = nullptr;
        for (auto& s : st.backlog)
            if (s.points && s.run_id == run_id) target = &s;
        if (!target) {
            st.backlog.push_back(slot{run_id, nullptr, detail::pending_points{}});
            target = &st.backlog.back();
        }
        for (const auto& pt : points) target->points->add(pt);
        target->points->cap(limits_.points_per_run);
    }

    void trim_messages(peer_state& st) {
        if (st.backlog.size() <= limits_.messages_per_peer) return;
        auto oldest_message =
            std::find_if(st.backlog.begin(), st.backlog.end(), [](const slot& s) { return !s.points; });
        if (oldest_message != st.backlog.end()) st.backlog.erase(oldest_message);
    }

    static void flush_locked(peer_state& st) {
        for (auto& s : st.backlog) {
            if (s.points) {
                if (!s.points->steps.empty()) st.peer->send_text(detail::metric_update_json(s.run_id, *s.points));
            } else {
                st.peer->send_text(std::move(s.json));
            }
        }
        st.backlog.clear();
        if (st.system) st.peer->send_text(std::move(st.system));
        st.system = nullptr;
    }

    limits limits_;
    std::function<bool(std::string_view)> run_exists_;
    request_limits parse_limits_;
    mutable std::shared_mutex peers_mutex_;
    std::unordered_map<std::uint64_t, std::shared_ptr<peer_state>> peers_;
};

}  // namespace tmon::detail
