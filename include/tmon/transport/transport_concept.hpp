#pragma once
// The seam between the application (tmon::server) and whatever moves bytes.
// The application never sees sockets; the transport never sees runs or SQL.
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tmon/transport/http/message.hpp"

namespace tmon {

// One open WebSocket as the application sees it. Thread-safe: send_text may be
// called from any thread; it queues and returns at once.
class ws_peer {
public:
    virtual ~ws_peer() = default;
    virtual std::uint64_t id() const noexcept = 0;
    // false when the connection is closing/closed (the message is dropped).
    virtual bool send_text(std::string message) = 0;
    // The same, for one message sent to many peers: the bytes are shared, not
    // copied per peer. The default copies; transports override it.
    virtual bool send_text(std::shared_ptr<const std::string> message) { return send_text(std::string(*message)); }
    // Bytes queued but not yet written to the socket: the coalescer's back-pressure signal.
    virtual std::size_t pending_bytes() const noexcept = 0;
    virtual void close(std::uint16_t code = 1000, std::string_view reason = {}) = 0;
};
using ws_peer_ptr = std::shared_ptr<ws_peer>;

// Completes a request exactly once, from any thread (so slow work can run off
// the io thread and answer later).
using respond_fn = std::function<void(http::response)>;

// What app_handlers::body_start makes of the first bytes of a request body.
struct body_start_verdict {
    bool decided = true;                    // false: ask again once more of the body has arrived
    std::optional<http::response> refusal;  // set: answered now, the rest of the body is never read
};
// How much of a body app_handlers::body_start may see; past it the body is read on.
inline constexpr std::size_t body_start_bytes = 4096;

struct app_handlers {
    std::function<void(http::request&&, respond_fn)> on_request;
    // Called once a request's header block is parsed (method, path, query and
    // headers known; body empty), before its body is read: the most body bytes
    // this request may carry; 0 (or no hook) means max_body_bytes. A body over
    // it is answered 413 without being read. Runs on an io thread: be quick.
    std::function<std::size_t(const http::request& head)> body_limit;
    // Called while a body is still arriving with the bytes read so far (at
    // most body_start_bytes of them; a body that arrives whole with its head
    // goes straight to on_request), until it decides: a refusal is sent at
    // once with "Connection: close", since the unread rest of the body cannot
    // be skipped safely. For bodies that can be told bad from their first
    // bytes (a JSON route sent junk) without reading megabytes first. Runs on
    // an io thread: be quick.
    std::function<body_start_verdict(const http::request& head, std::string_view body_so_far)> body_start;
    // Called for an upgrade request on the WS path; return a response to refuse
    // it (401 without the token, say) or nullopt to accept.
    std::function<std::optional<http::response>(const http::request&)> on_ws_upgrade;
    std::function<void(const ws_peer_ptr&)> on_ws_open;
    std::function<void(const ws_peer_ptr&, std::string_view text)> on_ws_message;
    // The outbound queue has drained: a good moment to send coalesced updates.
    std::function<void(const ws_peer_ptr&)> on_ws_drain;
    std::function<void(const ws_peer_ptr&)> on_ws_close;
};

// Every limit on what a peer can make the server hold or do; SECURITY.md
// lists them with the tmon-server flags that set them.
struct transport_limits {
    std::size_t max_header_bytes = 16 * 1024;       // -> 431
    std::size_t max_request_line_bytes = 8 * 1024;  // -> 414
    std::size_t max_body_bytes = 64 * 1024 * 1024;  // -> 413 (per request; see app_handlers::body_limit)
    // Request bodies buffered at once across the transport, from their
    // announced size until the application answers: a body that would pass it
    // -> 503. 0: no budget.
    std::size_t max_inflight_body_bytes = 256 * 1024 * 1024;
    // Beyond: 503 and close. The cap in force is also at most the open-file
    // limit (raised to its hard value at start) less fd_reserve; 0: only that.
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_client = 256;      // per peer address -> 503; 0: no cap
    std::size_t fd_reserve = 64;                       // descriptors kept for the store's files
    std::chrono::milliseconds header_timeout{10'000};  // whole header block must arrive (slowloris) -> 408
    std::chrono::milliseconds idle_timeout{60'000};    // keep-alive idle
    // Keep-alive idle while over 3/4 of the connection cap is in use, so idle
    // connections cannot starve new clients. 0: idle_timeout throughout.
    std::chrono::milliseconds busy_idle_timeout{5'000};
    std::chrono::milliseconds body_timeout{60'000};  // -> 408
    // A write that makes no progress this long closes the connection (HTTP
    // and WebSocket): a client that stops reading cannot hold memory forever.
    // 0: no limit.
    std::chrono::milliseconds send_timeout{30'000};
    // Answered-but-unsent response bytes per HTTP connection; past this the
    // connection reads and dispatches nothing more until the client catches up.
    // 0: no bound (max_pipelined_requests only).
    std::size_t max_queued_response_bytes = 8 * 1024 * 1024;
    // Requests one HTTP connection may have in the server at once (handed to
    // the application or answered, not yet sent); past it the connection
    // reads nothing more. Their answers' sizes are unknown when they are
    // handed over, so this is what bounds a pipelined burst. At least 1.
    std::size_t max_pipelined_requests = 16;
    std::size_t ws_max_message_bytes = 1024 * 1024;  // -> close 1009
    // Queued for one peer, control frames included: messages beyond it close a
    // slow reader (1008); pongs beyond it pause reading from the peer.
    std::size_t ws_max_outbound_bytes = 8 * 1024 * 1024;
    std::chrono::milliseconds ws_ping_interval{30'000};
};

struct transport_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;  // 0: pick a free port (tests)
    unsigned threads = 1;       // io threads
    std::string ws_path = "/ws";
    std::string cors_origin{};  // empty: no CORS headers; "*" or an origin
    transport_limits limits{};
};

namespace detail::transport_checks {
template <class T>
concept has_start = requires(T& t, const transport_config& c, app_handlers h) {
    t.start(c, std::move(h));
};
template <class T>
concept has_stop = requires(T& t) {
    t.stop();
};
template <class T>
concept has_port = requires(const T& t) {
    { t.port() } -> std::convertible_to<std::uint16_t>;
};
}  // namespace detail::transport_checks

// start() binds and returns once listening (throws tmon::error on bind failure),
// serving on its own threads until stop().
template <class T>
concept transport = detail::transport_checks::has_start<T> && detail::transport_checks::has_stop<T> &&
    detail::transport_checks::has_port<T>;

template <class T>
constexpr bool assert_transport() {
    static_assert(detail::transport_checks::has_start<T>,
                  "Transport must provide: start(const transport_config&, app_handlers)");
    static_assert(detail::transport_checks::has_stop<T>, "Transport must provide: stop()");
    static_assert(detail::transport_checks::has_port<T>, "Transport must provide: std::uint16_t port() const");
    return true;
}

}  // namespace tmon
