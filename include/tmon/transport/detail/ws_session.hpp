#pragma once
// One WebSocket connection after the handshake. The application may call
// send_text from any thread: it appends to a queue under a short lock and, if
// no write is under way, posts one; the io thread writes the whole queue as
// one gathered write. A reader too slow to keep the queue under
// ws_max_outbound_bytes is closed (1008) so it can never stall anyone else.
// Control frames count against the same cap: a peer whose pongs (say) pile
// up past it is not read from until they drain, so a ping flood from a
// client that never reads holds bounded memory; a write that makes no
// progress for send_timeout ends the connection.
#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/log.hpp"
#include "tmon/transport/detail/connection_registry.hpp"
#include "tmon/transport/detail/io_worker.hpp"
#include "tmon/transport/detail/send_now.hpp"
#include "tmon/transport/transport_concept.hpp"
#include "tmon/transport/ws/frame.hpp"
#include "tmon/transport/ws/message_reader.hpp"

namespace tmon::detail {

class ws_session final : public ws_peer,
                         public closable,
                         public pending_writer,
                         public std::enable_shared_from_this<ws_session> {
public:
    // How long a closing handshake may take before the TCP connection is dropped.
    static constexpr std::chrono::seconds close_grace{5};
    // How much a peer may send after the conversation is over before the TCP
    // connection is dropped without waiting for close_grace.
    static constexpr std::size_t discard_max_bytes = 1u << 20;

    ws_session(asio::ip::tcp::socket socket, std::shared_ptr<io_worker> worker, std::shared_ptr<transport_state> state,
               std::string remote, connection_slot slot)
        : socket_(std::move(socket)),
          worker_(std::move(worker)),
          state_(std::move(state)),
          reader_({state_->config.limits.ws_max_message_bytes, true}),
          ping_timer_(worker_->ctx),
          close_timer_(worker_->ctx),
          send_deadline_(worker_->ctx, [this] { on_send_timeout(); }),
          remote_(std::move(remote)),
          slot_(std::move(slot)),
          id_(next_id()) {}

    // On the io thread, right after the 101 response went out. already_read:
    // bytes the client sent right behind its handshake.
    void start(std::string_view already_read) {
        worker_->add(shared_from_this());
        std::error_code ignored;
        socket_.non_blocking(true, ignored);  // for send_now
        if (state_->handlers.on_ws_open) state_->handlers.on_ws_open(shared_from_this());
        schedule_ping();
        reader_.feed(already_read);
        process_frames();
        read_more();
    }

    std::uint64_t id() const noexcept override { return id_; }

    bool send_text(std::string message) override { return enqueue(outbound{std::move(message), nullptr}); }

    bool send_text(std::shared_ptr<const std::string> message) override {
        if (!message) return false;
        return enqueue(outbound{{}, std::move(message)});
    }

    std::size_t pending_bytes() const noexcept override { return pending_.load(std::memory_order_relaxed); }

    void close(std::uint16_t code, std::string_view reason) override {
        if (closing_.load(std::memory_order_acquire)) return;
        asio::post(worker_->ctx, [self = shared_from_this(), code, reason = std::string{reason}] {
            self->begin_close(code, reason, false);
        });
    }

    void abort() override {
        begin_close(ws::close_code::going_away, "server stopping", true);
        terminate();
    }

private:
    // A queued message: its own bytes, or bytes shared with other peers.
    struct outbound {
        std::string owned;
        std::shared_ptr<const std::string> shared;
        const std::string& bytes() const noexcept { return shared ? *shared : owned; }
    };

    bool enqueue(outbound message) {
        if (closing_.load(std::memory_order_acquire)) return false;
        bool post_write = false;
        bool overflow = false;
        {
            std::lock_guard lock(mutex_);
            if (closing_.load(std::memory_order_relaxed)) return false;
            std::size_t size = message.bytes().size();
            if (pending_.load(std::memory_order_relaxed) + size > state_->config.limits.ws_max_outbound_bytes) {
                overflow = true;
            } else {
                queue_.push_back(std::move(message));
                pending_.fetch_add(size, std::memory_order_relaxed);
                post_write = !write_scheduled_;
                write_scheduled_ = true;
            }
        }
        auto self = shared_from_this();
        if (overflow) {
            // Once per session: until the posted close runs, every further
            // send overflows too, and each must not cost a post and a log line.
            if (overflowed_.exchange(true)) return false;
            asio::post(worker_->ctx, [self] {
                log(log_level::warn, "ws", "closing {}: it reads slower than it is sent to", self->remote_);
                self->begin_close(ws::close_code::policy_violation, "outbound queue overflow", true);
            });
            return false;
        }
        if (post_write) worker_->request_write(std::weak_ptr<pending_writer>(self));
        return true;
    }

    void write_pending() override { write_next(); }

    static std::uint64_t next_id() {
        static std::atomic<std::uint64_t> counter{0};
        return ++counter;
    }

    // Reads until the socket closes. Once the conversation is over (the peer
    // broke the protocol or sent its close), bytes are read and discarded so
    // the final close frame is not destroyed by a TCP reset.
    void read_more() {
        if (terminated_) return;
        if (pending_.load(std::memory_order_relaxed) >= state_->config.limits.ws_max_outbound_bytes) {
            read_paused_ = true;  // back-pressure: resumes once the queue has drained to half
            return;
        }
        auto room = reader_.prepare(16 * 1024);
        socket_.async_read_some(asio::buffer(room.data(), room.size()),
                                [self = shared_from_this()](std::error_code ec, std::size_t n) {
                                    if (ec) {
                                        self->terminate();
                                        return;
                                    }
                                    self->heard_from_peer_ = true;
                                    if (!self->discard_input_) {
                                        self->reader_.commit(n);
                                        self->process_frames();
                                    } else if ((self->discarded_bytes_ += n) > discard_max_bytes) {
                                        self->terminate();  // it streams on past its close: stop paying to read it
                                        return;
                                    }
                                    self->read_more();
                                });
    }

    void process_frames() {
        while (!terminated_ && !discard_input_) {
            auto e = reader_.next();
            switch (e.kind) {
                case ws::event::need_more: return;
                case ws::event::text:
                    if (!closing_ && state_->handlers.on_ws_message)
                        state_->handlers.on_ws_message(shared_from_this(), e.payload);
                    break;
                case ws::event::binary:
                    discard_input_ = true;
                    begin_close(ws::close_code::unsupported_data, "only text messages are accepted", true);
                    return;
                case ws::event::ping: queue_control(ws::encode_frame(ws::opcode::pong, e.payload)); break;
                case ws::event::pong: break;
                case ws::event::close:
                    close_received_ = true;
                    discard_input_ = true;
                    if (close_sent_) terminate();
                    // Echo the peer's code, then drop TCP once it is written (RFC 6455 5.5.1).
                    else begin_close(e.code == ws::close_code::no_status ? 0 : e.code, {}, false);
                    return;
                case ws::event::error:
                    discard_input_ = true;
                    begin_close(e.code, {}, true);
                    return;
            }
        }
    }

    void queue_control(std::string_view frame) {
        if (terminated_ || close_sent_) return;
        control_ += frame;
        pending_.fetch_add(frame.size(), std::memory_order_relaxed);
        write_next();
    }

    // code 0: a close frame without a status code.
    void begin_close(std::uint16_t code, std::string_view reason, bool drop_queued) {
        if (terminated_ || close_queued_) return;
        {
            std::lock_guard lock(mutex_);
            closing_.store(true, std::memory_order_release);
            if (drop_queued) {
                std::size_t dropped = 0;
                for (auto& m : queue_) dropped += m.bytes().size();
                queue_.clear();
                pending_.fetch_sub(dropped, std::memory_order_relaxed);
            }
        }
        close_queued_ = true;
        close_frame_ = ws::encode_frame(ws::opcode::close, code ? ws::close_payload(code, reason) : std::string{});
        pending_.fetch_add(close_frame_.size(), std::memory_order_relaxed);
        close_timer_.expires_after(close_grace);
        close_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
            if (!ec) self->terminate();
        });
        write_next();
    }

    // Writes whatever is queued, at once where the socket takes it all (see
    // send_now.hpp), looping while other threads keep queueing.
    // wrote_data: a write that just completed carried messages (the drain
    // notice is due once the queue is empty).
    void write_next(bool wrote_data = false) {
        while (!writing_ && !terminated_ && !close_sent_) {
            if (!gather_batch()) break;
            std::error_code ec;
            send_now(socket_, buffers_, ec);
            if (!ec && !buffers_.empty()) {  // the socket is full: the rest when it drains
                writing_ = true;
                send_deadline_.set(deadline_timer::clock::now() + state_->config.limits.send_timeout,
                                   shared_from_this());
                write_rest();
                return;
            }
            wrote_data = wrote_data || !batch_.empty();
            if (!batch_written(ec)) return;
        }
        if (wrote_data && !writing_ && !closing_ && state_->handlers.on_ws_drain)
            state_->handlers.on_ws_drain(shared_from_this());
    }

    // The socket drains piece by piece; each piece moves the send deadline.
    void write_rest() {
        socket_.async_write_some(buffers_, [self = shared_from_this()](std::error_code ec, std::size_t n) {
            if (!ec && !self->terminated_) {
                consume_front(self->buffers_, n);
                if (!self->buffers_.empty()) {
                    self->send_deadline_.set(deadline_timer::clock::now() + self->state_->config.limits.send_timeout,
                                             self);
                    self->write_rest();
                    return;
                }
            }
            self->writing_ = false;
            self->send_deadline_.clear();
            bool had_data = !self->batch_.empty();
            if (self->batch_written(ec)) self->write_next(had_data);
        });
    }

    void on_send_timeout() {
        if (terminated_ || !writing_) return;
        log(log_level::info, "ws", "closing {}: it has not read for {} ms", remote_,
            state_->config.limits.send_timeout.count());
        terminate();
    }

    // Moves the queue into one gathered write; false when there is nothing to send.
    bool gather_batch() {
        batch_.clear();
        heads_.clear();
        buffers_.clear();
        batch_has_close_ = false;
        // Frames queued while a write is in flight go to control_, never
        // into the vector the write's buffers point at.
        control_writing_.clear();
        control_writing_.swap(control_);
        if (!control_writing_.empty()) buffers_.push_back(asio::buffer(control_writing_));
        {
            std::lock_guard lock(mutex_);
            while (!queue_.empty()) {
                batch_.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            if (batch_.empty() && control_writing_.empty() && !close_queued_) {
                write_scheduled_ = false;
                return false;
            }
        }
        heads_.resize(batch_.size() * ws::max_header_size);
        for (std::size_t i = 0; i < batch_.size(); ++i) {
            const std::string& payload = batch_[i].bytes();
            char* head = heads_.data() + i * ws::max_header_size;
            std::size_t n = ws::encode_header(head, ws::opcode::text, payload.size());
            buffers_.push_back(asio::buffer(head, n));
            buffers_.push_back(asio::buffer(payload));
        }
        if (close_queued_ && queue_empty()) {
            buffers_.push_back(asio::buffer(close_frame_));
            batch_has_close_ = true;
        }
        return true;
    }

    bool queue_empty() {
        std::lock_guard lock(mutex_);
        return queue_.empty();
    }

    // Settles a finished write; false when nothing more may be written.
    bool batch_written(std::error_code ec) {
        if (terminated_) return false;
        std::size_t written = control_writing_.size() + (batch_has_close_ ? close_frame_.size() : 0);
        for (auto& m : batch_) written += m.bytes().size();
        pending_.fetch_sub(written, std::memory_order_relaxed);
        batch_.clear();
        control_writing_.clear();
        if (ec) {
            terminate();
            return false;
        }
        if (read_paused_ &&
            pending_.load(std::memory_order_relaxed) <= state_->config.limits.ws_max_outbound_bytes / 2) {
            read_paused_ = false;
            read_more();
        }
        if (batch_has_close_) {
            close_sent_ = true;
            // The server drops TCP first once both closes are exchanged. Until
            // the peer answers (its close or EOF, seen by the read loop) or
            // close_timer_ fires, our side is half-closed: nothing more to send.
            if (close_received_ || discard_input_) {
                std::error_code ignored;
                socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
            }
            if (close_received_) terminate();
            return false;
        }
        return true;
    }

    void schedule_ping() {
        auto interval = state_->config.limits.ws_ping_interval;
        if (interval.count() <= 0) return;
        ping_timer_.expires_after(interval);
        ping_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
            if (ec || self->terminated_ || self->closing_) return;
            if (!self->heard_from_peer_ && self->ping_outstanding_) {
                log(log_level::info, "ws", "closing {}: no answer to ping", self->remote_);
                self->terminate();
                return;
            }
            self->heard_from_peer_ = false;
            self->ping_outstanding_ = true;
            self->queue_control(ws::encode_frame(ws::opcode::ping, {}));
            self->schedule_ping();
        });
    }

    void terminate() {
        if (terminated_) return;
        terminated_ = true;
        {
            std::lock_guard lock(mutex_);
            closing_.store(true, std::memory_order_release);
            queue_.clear();
            pending_.store(0, std::memory_order_relaxed);
        }
        std::error_code ignored;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        ping_timer_.cancel();
        close_timer_.cancel();
        send_deadline_.cancel();
        worker_->remove(this);
        slot_.release();
        if (state_->handlers.on_ws_close) state_->handlers.on_ws_close(shared_from_this());
    }

    asio::ip::tcp::socket socket_;
    std::shared_ptr<io_worker> worker_;
    std::shared_ptr<transport_state> state_;
    ws::message_reader reader_;
    asio::steady_timer ping_timer_;
    asio::steady_timer close_timer_;
    deadline_timer send_deadline_;
    std::string remote_;
    connection_slot slot_;
    std::uint64_t id_;

    // Shared with sending threads.
    mutable std::mutex mutex_;
    std::deque<outbound> queue_;
    std::atomic<std::size_t> pending_{0};
    std::atomic<bool> closing_{false};
    std::atomic<bool> overflowed_{false};
    bool write_scheduled_ = false;

    // io thread only.
    std::vector<outbound> batch_;
    std::string control_;          // control frames (pongs, pings) waiting for the next write
    std::string control_writing_;  // ...and those in the write under way
    std::string heads_;
    std::vector<asio::const_buffer> buffers_;
    std::string close_frame_;
    bool writing_ = false;
    bool batch_has_close_ = false;
    bool close_queued_ = false;
    bool close_sent_ = false;
    bool close_received_ = false;
    bool terminated_ = false;
    bool discard_input_ = false;       // the conversation is over: read only to see EOF
    std::size_t discarded_bytes_ = 0;  // read and dropped after the close began
    bool read_paused_ = false;         // over the outbound cap: not reading until it drains
    bool heard_from_peer_ = false;
    bool ping_outstanding_ = false;
};

}  // namespace tmon::detail
