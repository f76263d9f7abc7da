#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tmon/server/liveness.hpp"
#include "tmon/server/request_limits.hpp"

#include "tmon/transport/transport_concept.hpp"

namespace tmon {

// Everything a server needs, with defaults that serve a local dashboard:
// `tmon::server<tmon::sqlite_store> srv{{.db_path = "runs.db", .port = 8000}};`
// (designators go in declaration order: db_path, host, port, token, ...).
// Every member has an initializer so designated initializers stay warning-free.
struct server_config {
    std::string db_path = "tmon.db";  // sqlite file, or the jsonl store's folder
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;  // 0: pick a free port (tests)
    std::string token{};        // empty: no auth
    unsigned threads = 1;       // io threads
    unsigned workers = 4;       // store work pool: io threads never touch disk
    std::string cors_origin{};  // empty: no CORS headers; also the one other origin allowed to write
    transport_limits limits{};
    request_limits requests{};  // what one request may hold or store (SECURITY.md)
    // Names besides the bound address and localhost that requests may be sent to
    // (Host header): a reverse proxy's or an SSH alias's name. See request_guard.hpp.
    std::vector<std::string> allowed_hosts{};
    std::chrono::milliseconds sample_period{1000};  // system sampler; 0 disables it
    std::string static_dir{};                       // serve the dashboard from disk instead of the embedded build
    std::size_t ws_points_per_run = 2000;           // coalescing backlog per run per slow client before dropping
    std::size_t ws_messages_per_peer = 4096;        // other queued pushes per slow client
    std::size_t max_queued_requests = 16384;        // beyond: 503, so a flood cannot eat memory
    liveness_config liveness{};                     // when a silent trainer's run turns stale (--stale-after)
};

}  // namespace tmon
