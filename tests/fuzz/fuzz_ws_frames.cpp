// ws::decode_header and ws::message_reader on a client's byte stream.
//
// Byte 0 picks the reader's limits (server: masking required; client: not;
// message cap 1 MiB, 200 or 16 bytes) and how the rest is read:
//   bit 3 clear: the rest is raw bytes off the wire;
//   bit 3 set:   the rest describes frames (opcode, FIN, mask, payload) that
//                are encoded with ws::encode_frame, so the fuzzer spends its
//                time in fragmentation and control frames between fragments
//                rather than in header syntax; a reference model of RFC 6455
//                then says exactly which events the reader must produce.
// Either way the stream is read whole, a byte at a time and in random reads,
// and all three must give the same events.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.hpp"
#include "tmon/transport/ws/frame.hpp"
#include "tmon/transport/ws/message_reader.hpp"
#include "tmon/transport/ws/utf8.hpp"

namespace {

using namespace tmon;
using fuzz::split;

struct seen {
    ws::event::kind_t kind;
    std::string payload;
    std::uint16_t code;
    bool operator==(const seen&) const = default;
};

// An independent strict UTF-8 check (RFC 3629 table 3-7 as byte ranges), to
// compare ws::is_valid_utf8 with.
bool reference_utf8(std::string_view s) {
    std::size_t i = 0;
    auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
        if (i + k >= s.size()) return false;
        auto c = static_cast<unsigned char>(s[i + k]);
        return c >= lo && c <= hi;
    };
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c <= 0x7F) i += 1;
        else if (c >= 0xC2 && c <= 0xDF && in(1, 0x80, 0xBF)) i += 2;
        else if (c == 0xE0 && in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF)) i += 3;
        else if (((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) && in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF)) i += 3;
        else if (c == 0xED && in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF)) i += 3;
        else if (c == 0xF0 && in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF)) i += 4;
        else if (c >= 0xF1 && c <= 0xF3 && in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF)) i += 4;
        else if (c == 0xF4 && in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF)) i += 4;
        else return false;
    }
    return true;
}

std::vector<seen> read_stream(std::string_view stream, ws::reader_limits limits, split how, std::uint64_t seed) {
    ws::message_reader reader(limits);
    std::vector<seen> out;
    std::size_t read_no = 0;
    for (std::string_view piece : fuzz::cut(stream, how, seed)) {
        if (++read_no % 2 == 0) {
            auto room = reader.prepare(piece.size());
            std::memcpy(room.data(), piece.data(), piece.size());
            reader.commit(piece.size());
        } else {
            reader.feed(piece);
        }
        while (true) {
            ws::event e = reader.next();
            if (e.kind == ws::event::need_more) break;
            out.push_back({e.kind, std::string(e.payload), e.code});
            switch (e.kind) {
                case ws::event::text: TMON_FUZZ_CHECK(reference_utf8(e.payload)); [[fallthrough]];
                case ws::event::binary: TMON_FUZZ_CHECK(e.payload.size() <= limits.max_message_bytes); break;
                case ws::event::ping:
                case ws::event::pong: TMON_FUZZ_CHECK(e.payload.size() <= 125); break;
                case ws::event::close:
                    TMON_FUZZ_CHECK(e.payload.size() <= 123);
                    TMON_FUZZ_CHECK(e.code == ws::close_code::no_status || ws::is_valid_close_code(e.code));
                    break;
                case ws::event::error:
                    TMON_FUZZ_CHECK(reader.failed());
                    TMON_FUZZ_CHECK(reader.next().kind == ws::event::error);  // sticky
                    return out;
                case ws::event::need_more: break;
            }
        }
    }
    return out;
}

// ---- structured mode: frames described by the input, and what RFC 6455 says of them
struct model {
    ws::reader_limits limits;
    std::vector<seen> expected;
    bool done = false;  // the model expects an error; later frames are never read
    bool in_message = false;
    bool text = true;
    std::string fragments;

    void error(std::uint16_t code) {
        expected.push_back({ws::event::error, {}, code});
        done = true;
    }

    void frame(ws::opcode op, bool fin, bool masked, std::string_view payload) {
        if (done) return;
        if (limits.require_masked && !masked) return error(ws::close_code::protocol_error);
        if (ws::is_control(op)) {
            if (!fin || payload.size() > 125) return error(ws::close_code::protocol_error);
            if (op == ws::opcode::ping) return expected.push_back({ws::event::ping, std::string(payload), 0});
            if (op == ws::opcode::pong) return expected.push_back({ws::event::pong, std::string(payload), 0});
            if (payload.empty()) return expected.push_back({ws::event::close, {}, ws::close_code::no_status});
            if (payload.size() == 1) return error(ws::close_code::protocol_error);
            auto code = static_cast<std::uint16_t>(static_cast<std::uint8_t>(payload[0]) << 8 |
                                                   static_cast<std::uint8_t>(payload[1]));
            bool valid_code = (code >= 3000 && code <= 4999) ||
                              (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006);
            if (!valid_code) return error(ws::close_code::protocol_error);
            if (!reference_utf8(payload.substr(2))) return error(ws::close_code::invalid_payload);
            return expected.push_back({ws::event::close, std::string(payload.substr(2)), code});
        }
        bool continuation = op == ws::opcode::continuation;
        if (continuation != in_message) return error(ws::close_code::protocol_error);
        if (fragments.size() + payload.size() > limits.max_message_bytes) return error(ws::close_code::message_too_big);
        if (!continuation) text = op == ws::opcode::text;
        fragments.append(payload);
        in_message = !fin;
        if (!fin) return;
        if (text && !reference_utf8(fragments)) return error(ws::close_code::invalid_payload);
        expected.push_back({text ? ws::event::text : ws::event::binary, fragments, 0});
        fragments.clear();
    }
};

// Each frame: a control byte (opcode choice, FIN, mask), a length byte, the
// payload. Opcodes are mostly what the reader expects next, sometimes not.
std::string build_frames(std::string_view in, model& m) {
    std::string wire;
    bool in_message = false;
    std::size_t i = 0;
    while (i + 2 <= in.size()) {
        auto ctl = static_cast<std::uint8_t>(in[i]);
        auto len_byte = static_cast<std::uint8_t>(in[i + 1]);
        i += 2;
        std::size_t len = len_byte < 200 ? len_byte % 130 : (len_byte - 200) * 40;
        len = std::min(len, in.size() - i);
        std::string payload(in.substr(i, len));
        i += len;
        ws::opcode op;
        switch (ctl & 7) {
            case 0: op = ws::opcode::ping; break;
            case 1: op = ws::opcode::pong; break;
            case 2: op = ws::opcode::close; break;
            case 3: op = ws::opcode::binary; break;
            case 7: op = static_cast<ws::opcode>((ctl >> 4) % 3); break;  // whatever the byte says
            default: op = in_message ? ws::opcode::continuation : ws::opcode::text; break;
        }
        if ((ctl & 7) == 3 && in_message) op = ws::opcode::continuation;
        bool fin = ws::is_control(op) ? (ctl & 0x80) == 0 || (ctl & 0x40) == 0 : (ctl & 0x08) != 0;
        bool masked = (ctl & 0x70) != 0x70;
        std::optional<ws::mask_key> key;
        if (masked) key = ws::mask_key{ctl, len_byte, static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(len)};
        wire += ws::encode_frame(op, payload, fin, key);
        m.frame(op, fin, masked, payload);
        if (!ws::is_control(op) && (op == ws::opcode::continuation) == in_message) in_message = !fin;
    }
    return wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t config = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    ws::reader_limits limits;
    limits.require_masked = (config & 1) == 0;
    const std::size_t caps[] = {1024 * 1024, 200, 16, 1024 * 1024};
    limits.max_message_bytes = caps[(config >> 1) & 3];
    const bool structured = (config & 8) != 0;

    // The header decoder alone, on every prefix length that could hold one.
    for (std::size_t n = 0; n <= std::min<std::size_t>(rest.size(), ws::max_header_size); ++n)
        if (auto h = ws::decode_header(rest.substr(0, n))) TMON_FUZZ_CHECK(h->header_size <= n && h->header_size >= 2);

    std::string built;
    model m{limits};
    std::string_view stream = rest;
    if (structured) {
        built = build_frames(rest, m);
        stream = built;
    }
    const std::uint64_t seed = fuzz::hash_bytes(stream);
    auto whole = read_stream(stream, limits, split::whole, seed);
    auto bytewise = stream.size() <= 16384 ? read_stream(stream, limits, split::bytewise, seed) : whole;
    auto random = read_stream(stream, limits, split::random, seed);
    TMON_FUZZ_CHECK(whole == bytewise);
    TMON_FUZZ_CHECK(whole == random);
    if (structured) TMON_FUZZ_CHECK(whole == m.expected);

    // Encoding round-trips through the decoder for any length.
    if (rest.size() >= 8) {
        std::uint64_t len = 0;
        std::memcpy(&len, rest.data(), 8);
        char head[ws::max_header_size];
        ws::mask_key key{1, 2, 3, 4};
        std::size_t n = ws::encode_header(head, ws::opcode::binary, len, true, (config & 16) ? &key : nullptr);
        auto h = ws::decode_header(std::string_view(head, n));
        TMON_FUZZ_CHECK(h && h->length == len && h->header_size == n && h->masked == ((config & 16) != 0));
    }
    return 0;
}
