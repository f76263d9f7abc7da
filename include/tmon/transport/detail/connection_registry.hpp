#pragma once
// Who holds the transport's connection places: a total cap and a cap per
// client address, so one client (or one script gone wrong) cannot take every
// place. Behind an SSH tunnel or a reverse proxy every client is 127.0.0.1,
// which is why the per-client default is generous rather than tight.
#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace tmon::detail {

enum class admission { admitted, over_cap, over_client_cap };

class connection_registry {
public:
    void set_caps(std::size_t total, std::size_t per_client) noexcept {
        cap_.store(total, std::memory_order_relaxed);
        per_client_cap_ = per_client;
    }

    admission admit(const std::string& client) {
        std::lock_guard lock(mutex_);
        if (open_.load(std::memory_order_relaxed) >= cap_.load(std::memory_order_relaxed)) return admission::over_cap;
        auto& n = per_client_[client];
        if (per_client_cap_ != 0 && n >= per_client_cap_) {
            if (n == 0) per_client_.erase(client);
            return admission::over_client_cap;
        }
        ++n;
        open_.fetch_add(1, std::memory_order_relaxed);
        return admission::admitted;
    }

    void release(const std::string& client) noexcept {
        std::lock_guard lock(mutex_);
        auto it = per_client_.find(client);
        if (it == per_client_.end()) return;
        if (--it->second == 0) per_client_.erase(it);
        open_.fetch_sub(1, std::memory_order_relaxed);
    }

    std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }
    std::size_t cap() const noexcept { return cap_.load(std::memory_order_relaxed); }
    // Over 3/4 of the places taken: idle keep-alives get a short timeout.
    bool under_load() const noexcept { return open() * 4 > cap() * 3; }

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> per_client_;
    std::atomic<std::size_t> open_{0};
    std::atomic<std::size_t> cap_{0};
    std::size_t per_client_cap_ = 0;
};

// One connection's place, given back exactly once: when the connection
// closes, or when the object holding it is destroyed. Moves from the HTTP
// connection to the WebSocket session on an upgrade.
class connection_slot {
public:
    connection_slot() = default;
    connection_slot(connection_registry& registry, std::string client)
        : registry_(&registry), client_(std::move(client)) {}
    connection_slot(connection_slot&& other) noexcept
        : registry_(std::exchange(other.registry_, nullptr)), client_(std::move(other.client_)) {}
    connection_slot& operator=(connection_slot&& other) noexcept {
        if (this != &other) {
            release();
            registry_ = std::exchange(other.registry_, nullptr);
            client_ = std::move(other.client_);
        }
        return *this;
    }
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;
    ~connection_slot() { release(); }

    void release() noexcept {
        if (auto* r = std::exchange(registry_, nullptr)) r->release(client_);
    }
    explicit operator bool() const noexcept { return registry_ != nullptr; }

private:
    connection_registry* registry_ = nullptr;
    std::string client_;
};

}  // namespace tmon::detail
