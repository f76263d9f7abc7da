#pragma once
// RFC 6455 frame headers: decoding, encoding and masking. Validation of what a
// peer may send lives in message_reader.hpp.
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tmon::ws {

enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

constexpr bool is_control(opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }
constexpr bool is_known_opcode(std::uint8_t op) noexcept { return op <= 2 || (op >= 8 && op <= 10); }

namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;  // never on the wire
inline constexpr std::uint16_t abnormal = 1006;   // never on the wire
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

// Codes a peer may put in a close frame (RFC 6455 7.4).
constexpr bool is_valid_close_code(std::uint16_t code) noexcept {
    if (code >= 3000 && code <= 4999) return true;
    return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

using mask_key = std::array<std::uint8_t, 4>;

struct frame_header {
    bool fin = true;
    std::uint8_t rsv = 0;  // RSV1..3 as bits 2..0
    std::uint8_t raw_opcode = 0;
    bool masked = false;
    mask_key mask{};
    std::uint64_t length = 0;
    std::size_t header_size = 0;  // bytes the header took on the wire

    opcode op() const noexcept { return static_cast<opcode>(raw_opcode); }
};

inline constexpr std::size_t max_header_size = 14;

// nullopt until the whole header (2 to 14 bytes) is in buf.
inline std::optional<frame_header> decode_header(std::string_view buf) noexcept {
    if (buf.size() < 2) return std::nullopt;
    auto b0 = static_cast<std::uint8_t>(buf[0]);
    auto b1 = static_cast<std::uint8_t>(buf[1]);
    frame_header h;
    h.fin = (b0 & 0x80) != 0;
    h.rsv = static_cast<std::uint8_t>((b0 >> 4) & 0x7);
    h.raw_opcode = b0 & 0x0F;
    h.masked = (b1 & 0x80) != 0;
    std::uint64_t len = b1 & 0x7F;
    std::size_t pos = 2;
    std::size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (buf.size() < pos + ext + (h.masked ? 4 : 0)) return std::nullopt;
    if (ext) {
        len = 0;
        for (std::size_t i = 0; i < ext; ++i) len = len << 8 | static_cast<std::uint8_t>(buf[pos + i]);
        pos += ext;
    }
    h.length = len;
    if (h.masked) {
        for (std::size_t i = 0; i < 4; ++i) h.mask[i] = static_cast<std::uint8_t>(buf[pos + i]);
        pos += 4;
    }
    h.header_size = pos;
    return h;
}

// Writes a header with the shortest length form into out (>= 14 bytes); returns its size.
inline std::size_t encode_header(char* out, opcode op, std::uint64_t length, bool fin = true,
                                 const mask_key* mask = nullptr) noexcept {
    std::size_t pos = 0;
    out[pos++] = static_cast<char>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(op));
    std::uint8_t mask_bit = mask ? 0x80 : 0;
    if (length < 126) {
        out[pos++] = static_cast<char>(mask_bit | length);
    } else if (length <= 0xFFFF) {
        out[pos++] = static_cast<char>(mask_bit | 126);
        out[pos++] = static_cast<char>(length >> 8);
        out[pos++] = static_cast<char>(length & 0xFF);
    } else {
        out[pos++] = static_cast<char>(mask_bit | 127);
        for (int i = 7; i >= 0; --i) out[pos++] = static_cast<char>((length >> (8 * i)) & 0xFF);
    }
    if (mask) {
        std::memcpy(out + pos, mask->data(), 4);
        pos += 4;
    }
    return pos;
}

// Masking is its own inverse. offset: how many payload bytes came before data.
inline void apply_mask(char* data, std::size_t n, const mask_key& mask, std::size_t offset = 0) noexcept {
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(data[i] ^ mask[(offset + i) & 3]);
}

// A whole frame in one string: for clients, tests and small control frames.
inline std::string encode_frame(opcode op, std::string_view payload, bool fin = true,
                                const std::optional<mask_key>& mask = std::nullopt) {
    char head[max_header_size];
    std::size_t n = encode_header(head, op, payload.size(), fin, mask ? &*mask : nullptr);
    std::string out(head, n);
    out.append(payload);
    if (mask) apply_mask(out.data() + n, payload.size(), *mask);
    return out;
}

inline std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string out;
    out.push_back(static_cast<char>(code >> 8));
    out.push_back(static_cast<char>(code & 0xFF));
    out.append(reason.substr(0, 123));
    return out;
}

}  // namespace tmon::ws
