#pragma once
// One HTTP/1.1 connection: keep-alive, pipelining with responses in request
// order (handlers may answer later and from any thread), timeouts, and the
// hand-over to a WebSocket session after a successful upgrade.
//
// What one client can make it hold is bounded: requests awaiting an answer
// (max_pipelined_requests), answered-but-unsent bytes (max_queued_response_bytes; past
// it nothing more is read or dispatched until the client reads), and time (a
// write that makes no progress for send_timeout closes the connection).
// A streamed body (http::body_stream) is pulled one piece at a time, the next
// only once the last is written, so it too is bounded by one piece.
#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tmon/core/log.hpp"
#include "tmon/transport/detail/body_budget.hpp"
#include "tmon/transport/detail/connection_registry.hpp"
#include "tmon/transport/detail/io_worker.hpp"
#include "tmon/transport/detail/send_now.hpp"
#include "tmon/transport/detail/ws_session.hpp"
#include "tmon/transport/http/errors.hpp"
#include "tmon/transport/http/loggable.hpp"
#include "tmon/transport/http/parser.hpp"
#include "tmon/transport/http/response_writer.hpp"
#include "tmon/transport/transport_concept.hpp"
#include "tmon/transport/ws/handshake.hpp"

namespace tmon::detail {

// Answers a connection the transport will not serve with `r` as far as the
// socket takes it at once, then closes it. For when even a connection object
// is too much (the process is out of descriptors).
inline void refuse_now(asio::ip::tcp::socket& socket, const http::response& r) {
    std::error_code ec;
    socket.non_blocking(true, ec);
    // Read what the client already sent: closing with unread bytes sends a
    // reset that can destroy the answer before the client reads it.
    char sink[4096];
    for (int i = 0; i < 4 && !ec; ++i) socket.read_some(asio::buffer(sink), ec);
    std::string out;
    http::append_response_head(out, r, {false, false, {}});
    out += r.body;
    std::vector<asio::const_buffer> buffers{asio::buffer(out)};
    send_now(socket, buffers, ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    socket.close(ec);
}

class http_connection final : public closable, public std::enable_shared_from_this<http_connection> {
public:
    using clock = std::chrono::steady_clock;

    // Bodies up to this size are copied behind the head: one iovec instead of two.
    static constexpr std::size_t inline_body_bytes = 4096;
    // How long, and how much, to keep draining a client's unread bytes before
    // closing, so the final response is not destroyed by a TCP reset. The byte
    // cap stops a client that streams without end after its refusal from
    // costing the server two seconds of reading at loopback speed (gigabytes).
    static constexpr std::chrono::seconds linger_time{2};
    static constexpr std::size_t linger_max_bytes = 16u << 20;

    // slot: the connection's place in the registry; empty for one refused with 503.
    http_connection(asio::ip::tcp::socket socket, std::shared_ptr<io_worker> worker,
                    std::shared_ptr<transport_state> state, connection_slot slot)
        : socket_(std::move(socket)),
          worker_(std::move(worker)),
          state_(std::move(state)),
          parser_({state_->config.limits.max_header_bytes, state_->config.limits.max_body_bytes,
                   state_->config.limits.max_request_line_bytes, true}),
          timer_(worker_->ctx, [this] { on_deadline(); }),
          slot_(std::move(slot)) {
        std::error_code ec;
        auto ep = socket_.remote_endpoint(ec);
        if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    }

    // On the connection's own thread.
    void start() {
        if (worker_->stopping) return close_now();
        worker_->add(shared_from_this());
        std::error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
        socket_.non_blocking(true, ignored);  // for send_now
        enter_phase(phase::idle);
        read_more();
    }

    // Over a connection cap: answer 503 with `why`, then close.
    void start_rejected(std::string_view why) {
        if (worker_->stopping) return close_now();
        worker_->add(shared_from_this());
        std::error_code ignored;
        socket_.non_blocking(true, ignored);
        push_ready(http::error_response(503, why), false);
        stop_parsing_ = true;
        flush();
    }

    void abort() override { close_now(); }

    void under_load() override {
        if (closed_ || lingering_ || phase_ != phase::idle) return;
        arm(std::min(phase_deadline_, phase_since_ + state_->config.limits.busy_idle_timeout));
    }

    // Called from any thread with the next piece of the streamed body `stream`
    // (always posted, so a stream that answers inside pull() cannot recurse).
    void deliver_chunk(std::uint64_t stream, std::optional<std::string> chunk, bool failed) {
        if (closed_.load(std::memory_order_acquire)) return;
        asio::post(worker_->ctx, [self = shared_from_this(), stream, chunk = std::move(chunk), failed]() mutable {
            self->on_chunk(stream, std::move(chunk), failed);
        });
    }

    // Called from any thread by a request's responder.
    void deliver(std::uint64_t seq, http::response r) {
        if (closed_.load(std::memory_order_acquire)) return;
        if (worker_->ctx.get_executor().running_in_this_thread()) {
            on_response(seq, std::move(r));
            return;
        }
        asio::post(worker_->ctx, [self = shared_from_this(), seq, r = std::move(r)]() mutable {
            self->on_response(seq, std::move(r));
        });
    }

private:
    enum class phase { idle, headers, body, busy, sending };

    // One entry per request (or interim 100 Continue) in arrival order.
    struct slot {
        std::optional<http::response> response;  // empty until the handler answers
        std::string raw;                         // a pre-serialised head (100, 101)
        bool keep_alive = true;
        bool head_only = false;
        bool upgrade = false;
        std::size_t bytes = 0;  // counted in answered_bytes_ once ready
        bool http10 = false;    // no chunked coding: a streamed body ends with the connection
        bool ready() const noexcept { return response.has_value() || !raw.empty(); }
    };

    // What an answered response will put on the wire, roughly: its body and a head.
    static std::size_t wire_bytes(const http::response& r) noexcept { return r.body.size() + 256; }

    // Completes one slot exactly once; a handler that drops its respond_fn
    // without calling it gets a 500 sent in its place rather than a hung client.
    // Holds the request body's share of the budget until the answer comes.
    struct responder {
        std::shared_ptr<http_connection> conn;
        std::uint64_t seq;
        body_reservation body;
        std::atomic<bool> done{false};

        responder(std::shared_ptr<http_connection> c, std::uint64_t s, body_reservation b)
            : conn(std::move(c)), seq(s), body(std::move(b)) {}
        void respond(http::response r) {
            if (done.exchange(true)) return;
            body.release();
            conn->deliver(seq, std::move(r));
        }
        ~responder() {
            if (!done.load()) conn->deliver(seq, http::error_response(500, "the request handler did not answer"));
        }
    };

    // Hands one piece of a streamed body back exactly once; a deliver_fn
    // dropped without a call aborts the body.
    struct chunk_deliverer {
        std::shared_ptr<http_connection> conn;
        std::uint64_t stream;
        std::atomic<bool> done{false};

        chunk_deliverer(std::shared_ptr<http_connection> c, std::uint64_t s) : conn(std::move(c)), stream(s) {}
        void deliver(std::optional<std::string> chunk) {
            if (done.exchange(true)) return;
            conn->deliver_chunk(stream, std::move(chunk), false);
        }
        ~chunk_deliverer() {
            if (!done.load()) conn->deliver_chunk(stream, std::nullopt, true);
        }
    };

    // Too much is waiting for the client: read and dispatch nothing more until it drains.
    bool backlogged() const noexcept {
        return slots_.size() >= state_->config.limits.max_pipelined_requests ||
               answered_bytes_ + write_left_ >= state_->config.limits.max_queued_response_bytes;
    }

    void read_more() {
        if (reading_ || closed_ || stop_parsing_ || peer_eof_ || backlogged()) return;
        reading_ = true;
        auto room = parser_.prepare(16 * 1024);
        socket_.async_read_some(
            asio::buffer(room.data(), room.size()),
            [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(std::error_code ec, std::size_t n) {
        reading_ = false;
        if (closed_) return;
        if (lingering_) return on_drained(ec, n);  // the answer is out: these bytes are discarded
        if (ec) {
            if (ec != asio::error::eof || (slots_.empty() && !writing_)) {
                close_now();
                return;
            }
            peer_eof_ = true;  // answer what was asked, then close
            stop_parsing_ = true;
            close_after_write_ = true;
            update_deadline();
            return;
        }
        parser_.commit(n);
        try {
            process();
        } catch (const std::exception& e) {
            // A bug or an allocation failure on this client's bytes costs this
            // connection, not the io thread's other connections.
            log(log_level::error, "http", "closing {}: {}", remote_, http::loggable(e.what()));
            close_now();
        }
    }

    // Parses and dispatches what has arrived, then writes what is answered.
    // A write that completes at once re-enters here (on_written -> process);
    // that call only asks the running one to go round again.
    void process() {
        if (in_process_) {
            process_again_ = true;
            return;
        }
        in_process_ = true;
        do {
            process_again_ = false;
            dispatch_parsed();
            flush();
        } while (process_again_ && !closed_);
        in_process_ = false;
        read_more();
        update_deadline();
    }

    void dispatch_parsed() {
        in_dispatch_ = true;
        while (!stop_parsing_ && !closed_ && !backlogged()) {
            auto status = parser_.parse();
            if (status == http::parse_status::head_complete) {
                if (!admit_body()) break;
                continue;
            }
            if (status == http::parse_status::need_more) {
                if (!hold_body() || !check_body_start()) break;
                if (parser_.take_expect_continue()) push_raw("HTTP/1.1 100 Continue\r\n\r\n", false);
                break;
            }
            if (status == http::parse_status::failed) {
                const auto& e = parser_.error();
                push_ready(http::error_response(e.status, e.detail), false);
                stop_parsing_ = true;
                break;
            }
            if (!hold_body()) break;
            handle_request(parser_.take());
        }
        in_dispatch_ = false;
    }

    // A request's head is in: its body limit comes from the application's
    // hook, and its Content-Length from the transport-wide body budget.
    bool admit_body() {
        body_start_done_ = !state_->handlers.body_start;
        std::size_t limit = state_->config.limits.max_body_bytes;
        if (const auto& hook = state_->handlers.body_limit) {
            try {
                if (std::size_t n = hook(parser_.head())) limit = n;
            } catch (const std::exception& e) {
                log(log_level::error, "http", "body_limit hook threw: {}", http::loggable(e.what()));
            }
        }
        parser_.limit_body(limit);
        if (auto length = parser_.content_length(); length && *length > limit) return true;  // parse() answers 413
        return hold_body();
    }

    // Takes the share of the body budget that what the body announced needs;
    // past the budget the request is answered 503 and the connection closes
    // (the rest of the body is not read).
    bool hold_body() {
        std::size_t wanted = parser_.body_announced();
        const auto& limits = state_->config.limits;
        if (body_hold_.grow_to(state_->inflight_body_bytes, wanted, limits.max_inflight_body_bytes)) return true;
        body_hold_.release();
        push_ready(http::error_response(503, "the server is receiving too many request bodies at once; retry shortly"),
                   false);
        stop_parsing_ = true;
        return false;
    }

    // Shows the application the first bytes of a body still arriving; false
    // when it refused the request (answered, and the connection closes after).
    bool check_body_start() {
        if (body_start_done_ || !parser_.reading_body()) return true;
        std::string_view so_far = parser_.head().body;
        if (so_far.empty()) return true;
        if (so_far.size() > body_start_bytes) so_far = so_far.substr(0, body_start_bytes);
        body_start_verdict verdict;
        try {
            verdict = state_->handlers.body_start(parser_.head(), so_far);
        } catch (const std::exception& e) {
            log(log_level::error, "http", "body_start hook threw: {}", http::loggable(e.what()));
        }
        if (verdict.refusal) {
            body_hold_.release();
            push_ready(std::move(*verdict.refusal), false);
            stop_parsing_ = true;
            return false;
        }
        body_start_done_ = verdict.decided || so_far.size() >= body_start_bytes;
        return true;
    }

    void handle_request(http::request req) {
        body_reservation body = std::move(body_hold_);  // released here unless the handler gets it
        req.remote = remote_;
        bool keep_alive = http::wants_keep_alive(req);
        if (!keep_alive) stop_parsing_ = true;
        const auto& cfg = state_->config;
        if (req.path == cfg.ws_path) {
            handle_upgrade(std::move(req));
            return;
        }
        if (req.method == "OPTIONS" && !cfg.cors_origin.empty()) {
            push_ready(preflight_response(), keep_alive);
            return;
        }
        if (!state_->handlers.on_request) {
            push_ready(http::error_response(404, "no route for " + req.path), keep_alive);
            return;
        }
        std::uint64_t seq = first_seq_ + slots_.size();
        slots_.push_back(slot{std::nullopt, {}, keep_alive, req.method == "HEAD", false, 0, req.version_minor == 0});
        auto r = std::make_shared<responder>(shared_from_this(), seq, std::move(body));
        std::string method = req.method, path = req.path;  // for the log, should the handler throw
        try {
            state_->handlers.on_request(std::move(req), [r](http::response resp) { r->respond(std::move(resp)); });
        } catch (const std::exception& e) {
            log(log_level::error, "http", "request handler for {} {} threw: {}", http::loggable(method),
                http::loggable(path), http::loggable(e.what()));
            r->respond(http::error_response(500, "the request handler failed"));
        }
    }

    void handle_upgrade(http::request req) {
        if (auto refusal = ws::check_upgrade_request(req)) {
            push_ready(std::move(*refusal), http::wants_keep_alive(req));
            return;
        }
        if (state_->handlers.on_ws_upgrade) {
            std::optional<http::response> refusal;
            try {
                refusal = state_->handlers.on_ws_upgrade(req);
            } catch (const std::exception& e) {
                log(log_level::error, "ws", "upgrade handler threw: {}", e.what());
                refusal = http::error_response(500, "the upgrade handler failed");
            }
            if (refusal) {
                push_ready(std::move(*refusal), http::wants_keep_alive(req));
                return;
            }
        }
        slot s;
        s.raw = ws::switching_protocols_head(req);
        s.upgrade = true;
        slots_.push_back(std::move(s));
        stop_parsing_ = true;  // what follows belongs to the WebSocket
    }

    // A fixed allow-list: echoing Access-Control-Request-Headers would let any
    // page send any header the API might one day trust.
    static http::response preflight_response() {
        http::response r;
        r.status = 204;
        r.content_type.clear();
        r.headers.push_back({"Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"});
        r.headers.push_back({"Access-Control-Allow-Headers", "Content-Type, Authorization"});
        r.headers.push_back({"Access-Control-Max-Age", "600"});
        return r;
    }

    void push_ready(http::response r, bool keep_alive) {
        std::size_t bytes = wire_bytes(r);
        slots_.push_back(slot{std::move(r), {}, keep_alive, false, false, bytes});
        answered_bytes_ += bytes;
    }
    void push_raw(std::string head, bool upgrade) {
        slot s;
        s.raw = std::move(head);
        s.upgrade = upgrade;
        s.bytes = s.raw.size();
        answered_bytes_ += s.bytes;
        slots_.push_back(std::move(s));
    }

    void on_response(std::uint64_t seq, http::response r) {
        if (closed_ || seq < first_seq_ || seq - first_seq_ >= slots_.size()) return;
        auto& s = slots_[seq - first_seq_];
        if (s.ready()) return;
        s.bytes = wire_bytes(r);
        answered_bytes_ += s.bytes;
        s.response = std::move(r);
        if (!in_dispatch_) {
            flush();
            update_deadline();
        }
    }

    // Writes every answered response at the front of the queue in one gathered write.
    void flush() {
        if (writing_ || closed_ || stream_ || slots_.empty() || !slots_.front().ready()) return;
        out_.clear();
        bodies_.clear();
        body_marks_.clear();
        handoff_ = false;
        while (!slots_.empty() && slots_.front().ready()) {
            slot s = std::move(slots_.front());
            slots_.pop_front();
            ++first_seq_;
            answered_bytes_ -= s.bytes;
            if (!s.raw.empty()) {
                out_ += s.raw;
                if (s.upgrade) {
                    handoff_ = true;
                    break;
                }
                continue;
            }
            if (serialise(s)) break;
        }
        start_write();
    }

    // Writes out_ with bodies_ spliced in at body_marks_: at once where the
    // socket takes it all, else piece by piece as the socket drains, each
    // piece moving the send deadline.
    void start_write() {
        buffers_.clear();
        std::size_t from = 0;
        for (std::size_t i = 0; i < bodies_.size(); ++i) {
            buffers_.push_back(asio::buffer(out_.data() + from, body_marks_[i] - from));
            buffers_.push_back(asio::buffer(bodies_[i]));
            from = body_marks_[i];
        }
        buffers_.push_back(asio::buffer(out_.data() + from, out_.size() - from));
        writing_ = true;
        std::error_code ec;
        send_now(socket_, buffers_, ec);
        write_left_ = asio::buffer_size(buffers_);
        if (ec) return close_now();
        if (buffers_.empty()) return on_written();
        write_some();
    }

    void write_some() {
        write_waiting_ = true;
        update_deadline();
        socket_.async_write_some(
            buffers_, [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_wrote_some(ec, n); });
    }

    void on_wrote_some(std::error_code ec, std::size_t n) {
        write_waiting_ = false;
        if (closed_) return release_buffers();
        if (ec) return close_now();
        consume_front(buffers_, n);
        write_left_ -= n;
        if (buffers_.empty()) return on_written();
        arm(clock::now() + state_->config.limits.send_timeout);  // progress: the deadline moves
        write_some();
    }

    // Appends one response to the write being gathered; true when nothing
    // may follow it in this write (the connection closes after it, or its
    // body is streamed once the head is out).
    bool serialise(slot& s) {
        auto& r = *s.response;
        bool streamed = r.stream && !s.head_only && http::status_allows_body(r.status);
        if (streamed && s.http10) s.keep_alive = false;
        http::write_options opt{s.keep_alive, s.head_only, state_->config.cors_origin, r.stream && !s.http10};
        http::append_response_head(out_, r, opt);
        if (!s.keep_alive && !streamed) close_after_write_ = true;  // after a stream: once it has ended
        if (streamed) {
            stream_ = std::move(r.stream);
            stream_id_ = ++streams_started_;
            stream_chunked_ = !s.http10;
            stream_keep_alive_ = s.keep_alive;
            return true;
        }
        if (http::response_sends_body(r, opt)) {
            if (r.body.size() <= inline_body_bytes) {
                out_ += r.body;
            } else {
                body_marks_.push_back(out_.size());
                bodies_.push_back(std::move(r.body));
            }
        }
        return !s.keep_alive;
    }

    // The head (or the last piece) of a streamed body is written: ask for the next.
    void pull_next() {
        stream_waiting_ = true;
        auto d = std::make_shared<chunk_deliverer>(shared_from_this(), stream_id_);
        auto source = stream_;  // a close inside pull() must not destroy the object running it
        try {
            source->pull([d](std::optional<std::string> chunk) { d->deliver(std::move(chunk)); });
        } catch (const std::exception& e) {
            d->done = true;
            log(log_level::warn, "http", "closing {}: its response body stream failed: {}", remote_,
                http::loggable(e.what()));
            close_now();
        }
    }

    void on_chunk(std::uint64_t id, std::optional<std::string> chunk, bool failed) {
        if (closed_ || !stream_ || id != stream_id_ || !stream_waiting_) return;
        stream_waiting_ = false;
        if (failed) {
            // No final chunk: the client sees the transfer cut short.
            log(log_level::warn, "http", "closing {}: its response body stream was abandoned", remote_);
            return close_now();
        }
        if (chunk && chunk->empty()) return pull_next();
        out_.clear();
        bodies_.clear();
        body_marks_.clear();
        handoff_ = false;
        if (!chunk) {
            stream_ending_ = true;
            if (!stream_chunked_) return on_written();  // HTTP/1.0: closing ends the body
            out_ = "0\r\n\r\n";
        } else {
            if (stream_chunked_) {
                out_ = fmt::format("{:x}\r\n", chunk->size());
                body_marks_.push_back(out_.size());
                out_ += "\r\n";
            } else {
                body_marks_.push_back(0);
            }
            bodies_.push_back(std::move(*chunk));
        }
        start_write();
        update_deadline();
    }

    void end_stream() {
        stream_.reset();
        stream_ending_ = false;
        if (!stream_keep_alive_) close_after_write_ = true;
    }

    void on_written() {
        writing_ = false;
        write_left_ = 0;
        if (closed_) return;
        if (handoff_) {
            hand_over_to_websocket();
            return;
        }
        if (stream_) {
            if (!stream_ending_) {
                pull_next();
                if (!closed_) process();  // requests behind the stream may still be read
                return;
            }
            end_stream();
        }
        flush();
        if (writing_) return;
        if (close_after_write_ && slots_.empty()) {
            linger_close();
            return;
        }
        process();
    }

    void hand_over_to_websocket() {
        closed_.store(true, std::memory_order_release);
        timer_.cancel();
        worker_->remove(this);
        auto session = std::make_shared<ws_session>(std::move(socket_), worker_, state_, remote_, std::move(slot_));
        session->start(parser_.take_buffered());
    }

    // Half-close, then read and discard until the client closes or linger_time passes.
    void linger_close() {
        if (closed_) return;
        std::error_code ignored;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        lingering_ = true;
        timer_.set(clock::now() + linger_time, shared_from_this());
        if (!reading_) drain();  // else the read in flight becomes the first drain (on_read)
    }

    // One read at a time: a second read into the same buffer would race the first.
    void drain() {
        reading_ = true;
        auto room = parser_.prepare(64 * 1024);
        socket_.async_read_some(asio::buffer(room.data(), room.size()),
                                [self = shared_from_this()](std::error_code ec, std::size_t n) {
                                    self->reading_ = false;
                                    self->on_drained(ec, n);
                                });
    }

    void on_drained(std::error_code ec, std::size_t n) {
        lingered_bytes_ += n;
        if (ec || closed_ || lingered_bytes_ > linger_max_bytes) close_now();
        else drain();
    }

    void close_now() {
        if (closed_.exchange(true)) return;
        std::error_code ignored;
        socket_.close(ignored);
        timer_.cancel();
        worker_->remove(this);
        slot_.release();
        body_hold_.release();
        // Answers still queued go now, not when the last responder lets go of
        // this object. A write in flight keeps its buffers until it returns.
        slots_.clear();
        answered_bytes_ = 0;
        stream_.reset();
        if (!write_waiting_) release_buffers();
    }

    void release_buffers() {
        buffers_ = {};
        bodies_ = {};
        out_ = {};
        write_left_ = 0;
    }

    // One deadline at a time, set on phase changes only: idle keep-alive,
    // header block (from its first byte, so a byte-a-second sender still
    // times out), body, a write waiting on the client (moved on each bit of
    // progress), or none while a handler is at work.
    void update_deadline() {
        if (closed_ || lingering_) return;
        phase p = phase::busy;
        if (write_waiting_) {
            p = phase::sending;
        } else if (slots_.empty() && !writing_ && !stream_) {
            if (parser_.between_requests()) p = phase::idle;
            else if (parser_.reading_body()) p = phase::body;
            else p = phase::headers;
        }
        if (p != phase_) enter_phase(p);
    }

    void enter_phase(phase p) {
        phase_ = p;
        phase_since_ = clock::now();
        const auto& limits = state_->config.limits;
        switch (p) {
            case phase::idle: {
                auto idle = limits.idle_timeout;
                if (state_->connections.under_load()) idle = std::min(idle, limits.busy_idle_timeout);
                arm(phase_since_ + idle);
                break;
            }
            case phase::headers: arm(phase_since_ + limits.header_timeout); break;
            case phase::body: arm(phase_since_ + limits.body_timeout); break;
            case phase::sending: arm(phase_since_ + limits.send_timeout); break;
            case phase::busy: timer_.clear(); break;
        }
    }

    void arm(clock::time_point deadline) {
        phase_deadline_ = deadline;
        timer_.set(deadline, shared_from_this());
    }

    void on_deadline() {
        if (lingering_ || closed_) return close_now();
        if (phase_ == phase::headers || phase_ == phase::body) {
            // Part of a request arrived: say why before closing (408, JSON, Connection: close).
            log(log_level::info, "http", "closing {}: request {} not complete in time", remote_,
                phase_ == phase::headers ? "headers" : "body");
            stop_parsing_ = true;
            phase_ = phase::busy;
            body_hold_.release();
            push_ready(http::error_response(408, "the request did not arrive in time"), false);
            process();
            return;
        }
        if (phase_ == phase::sending)
            log(log_level::info, "http", "closing {}: it has not read its responses for {} ms", remote_,
                state_->config.limits.send_timeout.count());
        close_now();
    }

    asio::ip::tcp::socket socket_;
    std::shared_ptr<io_worker> worker_;
    std::shared_ptr<transport_state> state_;
    http::request_parser parser_;
    deadline_timer timer_;
    std::string remote_;
    connection_slot slot_;

    std::deque<slot> slots_;
    std::uint64_t first_seq_ = 0;  // sequence number of slots_.front()

    std::string out_;                      // heads and small bodies of the write in flight
    std::vector<std::string> bodies_;      // large bodies of the write in flight
    std::vector<std::size_t> body_marks_;  // where in out_ each large body goes
    std::vector<asio::const_buffer> buffers_;
    std::size_t write_left_ = 0;      // bytes of the write in flight the socket has not taken
    std::size_t answered_bytes_ = 0;  // answered slots not yet in a write
    body_reservation body_hold_;      // the body being read now
    bool body_start_done_ = true;     // the app has seen enough of the body being read

    // The streamed body being written, if any: later responses wait behind it.
    std::shared_ptr<http::body_stream> stream_;
    std::uint64_t stream_id_ = 0;  // matches deliveries to the stream they belong to
    std::uint64_t streams_started_ = 0;
    bool stream_chunked_ = true;  // HTTP/1.1 framing; HTTP/1.0 ends the body by closing
    bool stream_keep_alive_ = true;
    bool stream_waiting_ = false;  // a pull() is out
    bool stream_ending_ = false;   // the final chunk is in the write under way

    std::atomic<bool> closed_{false};
    phase phase_ = phase::busy;
    clock::time_point phase_since_{};
    clock::time_point phase_deadline_ = clock::time_point::max();
    bool reading_ = false;
    bool writing_ = false;        // a write is under way
    bool write_waiting_ = false;  // ...and waits for the socket to drain
    bool in_dispatch_ = false;
    bool in_process_ = false;
    bool process_again_ = false;
    bool stop_parsing_ = false;
    bool close_after_write_ = false;
    bool peer_eof_ = false;
    bool handoff_ = false;
    bool lingering_ = false;
    std::size_t lingered_bytes_ = 0;  // discarded while lingering
};

}  // namespace tmon::detail
