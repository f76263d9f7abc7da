#pragma once
// Live events flow one way: whatever wrote (a REST handler, the in-process
// recorder, the sampler) publishes here, and the WS hub fans them out. The bus
// knows nothing of sockets; publishing never blocks on a slow client because
// the hub only queues.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "tmon/core/log.hpp"
#include "tmon/core/types.hpp"

namespace tmon::detail {

struct live_event {
    enum class kind {
        metrics,  // `points` of one run: coalesced into metric_update per subscriber
        message,  // `json` is a complete WS message for subscribers of `run_id`
        system,   // `json` is a system_update for every connection; only the latest matters
    };
    kind type = kind::message;
    std::string run_id;
    std::vector<metric_point> points;
    std::string json;
};

class event_bus {
public:
    using handler = std::function<void(const live_event&)>;

    std::uint64_t subscribe(handler h) {
        std::unique_lock lock(mutex_);
        auto id = ++next_id_;
        handlers_.emplace_back(id, std::make_shared<handler>(std::move(h)));
        return id;
    }

    void unsubscribe(std::uint64_t id) {
        std::unique_lock lock(mutex_);
        std::erase_if(handlers_, [&](const auto& e) { return e.first == id; });
    }

    // Inside a deferred_events scope of this bus on this thread, queues the
    // event until the scope publishes; otherwise delivers it now.
    void publish(live_event e) const {
        if (auto* d = deferred_scope(); d && d->bus == this) {
            d->events.push_back(std::move(e));
            return;
        }
        deliver(e);
    }

    void publish_message(std::string run_id, std::string json) const {
        publish(live_event{live_event::kind::message, std::move(run_id), {}, std::move(json)});
    }

private:
    friend class deferred_events;

    struct deferred {
        const event_bus* bus;
        std::vector<live_event> events;
    };
    static deferred*& deferred_scope() noexcept {
        thread_local deferred* scope = nullptr;
        return scope;
    }

    void deliver(const live_event& e) const {
        std::shared_lock lock(mutex_);
        for (const auto& [id, h] : handlers_) (*h)(e);
    }

    // Held-back events go out in the order their scopes were sealed, so two
    // writes a client made one after the other reach subscribers in that order.
    std::uint64_t take_turn() const {
        std::lock_guard lock(turn_mutex_);
        return next_turn_++;
    }

    void deliver_in_turn(std::uint64_t turn, const std::vector<live_event>& events) const {
        {
            std::unique_lock lock(turn_mutex_);
            turn_cv_.wait(lock, [&] { return serving_ == turn; });
        }
        struct next_turn {
            const event_bus& bus;
            ~next_turn() {
                std::lock_guard lock(bus.turn_mutex_);
                ++bus.serving_;
                bus.turn_cv_.notify_all();
            }
        } advance{*this};
        for (const auto& e : events) deliver(e);
    }

    mutable std::shared_mutex mutex_;
    mutable std::mutex turn_mutex_;
    mutable std::condition_variable turn_cv_;
    mutable std::uint64_t next_turn_ = 0;
    mutable std::uint64_t serving_ = 0;
    std::uint64_t next_id_ = 0;
    std::vector<std::pair<std::uint64_t, std::shared_ptr<handler>>> handlers_;
};

// Holds back what this thread publishes on `bus`, so a request handler's
// response can be sent before its live events are fanned out:
//   deferred_events held(bus);  run the handler;  held.seal();  respond;  held.publish();
// seal() fixes the scope's place in the delivery order (see take_turn). A
// scope that ends early seals and publishes then. Scopes do not nest on one thread.
class deferred_events {
public:
    explicit deferred_events(const event_bus& bus) : previous_(event_bus::deferred_scope()), held_{&bus, {}} {
        event_bus::deferred_scope() = &held_;
    }
    deferred_events(const deferred_events&) = delete;
    deferred_events& operator=(const deferred_events&) = delete;
    ~deferred_events() {
        try {
            publish();
        } catch (const std::exception& e) {
            log(log_level::error, "server", "publishing live events failed: {}", e.what());
        }
    }

    void seal() {
        if (sealed_) return;
        sealed_ = true;
        event_bus::deferred_scope() = previous_;
        if (!held_.events.empty()) turn_ = held_.bus->take_turn();
    }

    void publish() {
        seal();
        if (!turn_) return;
        auto turn = *turn_;
        turn_.reset();
        auto events = std::move(held_.events);
        held_.events.clear();
        held_.bus->deliver_in_turn(turn, events);
    }

private:
    event_bus::deferred* previous_;
    event_bus::deferred held_;
    bool sealed_ = false;
    std::optional<std::uint64_t> turn_;
};

}  // namespace tmon::detail
