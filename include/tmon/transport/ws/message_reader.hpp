#pragma once
// Turns the bytes a WebSocket client sends into messages and control events,
// enforcing RFC 6455: masking, fragmentation, control frames between
// fragments, UTF-8 text, reserved bits and opcodes, and the message size cap.
// Asio-free, so every rule is testable with plain strings.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tmon/transport/detail/read_buffer.hpp"
#include "tmon/transport/ws/frame.hpp"
#include "tmon/transport/ws/utf8.hpp"

namespace tmon::ws {

struct reader_limits {
    std::size_t max_message_bytes = 1024 * 1024;
    bool require_masked = true;  // true on a server: clients must mask (RFC 6455 5.1)
};

struct event {
    enum kind_t { need_more, text, binary, ping, pong, close, error } kind = need_more;
    // Message or control payload, or the close reason. Valid until the next
    // call to next() or prepare().
    std::string_view payload;
    // close: the peer's code (1005 when it sent none); error: the code to close with.
    std::uint16_t code = 0;
};

class message_reader {
public:
    explicit message_reader(reader_limits limits = {}) : limits_(limits) {}

    std::span<char> prepare(std::size_t n) { return buf_.prepare(n); }
    void commit(std::size_t n) noexcept { buf_.commit(n); }
    void feed(std::string_view bytes) { buf_.append(bytes); }

    // The next complete message or control frame, need_more, or error (sticky).
    event next() {
        if (failed_) return failed_event_;
        if (consume_pending_) {
            buf_.consume(consume_pending_);
            consume_pending_ = 0;
        }
        while (true) {
            auto h = decode_header(buf_.data());
            if (!h) return {};
            if (auto code = violation(*h)) return fail(code);
            if (buf_.size() - h->header_size < h->length) return {};
            auto n = static_cast<std::size_t>(h->length);
            char* payload = buf_.mutable_data() + h->header_size;
            if (h->masked) apply_mask(payload, n, h->mask);
            std::string_view body{payload, n};
            std::size_t frame_size = h->header_size + n;

            if (is_control(h->op())) {
                consume_pending_ = frame_size;
                return control_event(h->op(), body);
            }
            if (h->op() != opcode::continuation) message_opcode_ = h->op();
            if (h->fin && fragments_.empty()) {  // whole message in one frame: no copy
                consume_pending_ = frame_size;
                return finish_message(body);
            }
            fragments_.append(body);
            buf_.consume(frame_size);
            in_fragmented_message_ = !h->fin;
            if (h->fin) return finish_message(fragments_);
        }
    }

    bool failed() const noexcept { return failed_; }

private:
    // Zero when the frame is acceptable so far, else the close code it earns.
    std::uint16_t violation(const frame_header& h) const noexcept {
        if (h.rsv != 0) return close_code::protocol_error;
        if (!is_known_opcode(h.raw_opcode)) return close_code::protocol_error;
        if (limits_.require_masked && !h.masked) return close_code::protocol_error;
        if (h.length >> 63) return close_code::protocol_error;
        if (is_control(h.op())) {
            if (!h.fin || h.length > 125) return close_code::protocol_error;
            return 0;
        }
        bool continuation = h.op() == opcode::continuation;
        if (continuation != in_fragmented_message_) return close_code::protocol_error;
        if (h.length > limits_.max_message_bytes - fragments_.size()) return close_code::message_too_big;
        return 0;
    }

    event control_event(opcode op, std::string_view body) {
        if (op == opcode::ping) return {event::ping, body, 0};
        if (op == opcode::pong) return {event::pong, body, 0};
        if (body.empty()) return {event::close, {}, close_code::no_status};
        if (body.size() == 1) return fail(close_code::protocol_error);
        auto code =
            static_cast<std::uint16_t>(static_cast<std::uint8_t>(body[0]) << 8 | static_cast<std::uint8_t>(body[1]));
        if (!is_valid_close_code(code)) return fail(close_code::protocol_error);
        std::string_view reason = body.substr(2);
        if (!is_valid_utf8(reason)) return fail(close_code::invalid_payload);
        return {event::close, reason, code};
    }

    event finish_message(std::string_view body) {
        in_fragmented_message_ = false;
        if (message_opcode_ == opcode::text && !is_valid_utf8(body)) return fail(close_code::invalid_payload);
        event e{message_opcode_ == opcode::text ? event::text : event::binary, body, 0};
        if (body.data() == fragments_.data()) {
            // The event views fragments_; keep it until the next call, then clear.
            finished_.swap(fragments_);
            fragments_.clear();
            e.payload = finished_;
        }
        return e;
    }

    event fail(std::uint16_t code) {
        failed_ = true;
        failed_event_ = {event::error, {}, code};
        return failed_event_;
    }

    reader_limits limits_;
    tmon::detail::read_buffer buf_;
    std::size_t consume_pending_ = 0;  // bytes of the last returned frame, dropped on the next call
    std::string fragments_;
    std::string finished_;
    opcode message_opcode_ = opcode::text;
    bool in_fragmented_message_ = false;
    bool failed_ = false;
    event failed_event_;
};

}  // namespace tmon::ws
