#pragma once
// SHA-1 and base64, only for the WebSocket handshake's Sec-WebSocket-Accept.
// SHA-1 is not used for anything that needs collision resistance here.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tmon::detail {

inline std::array<std::uint8_t, 20> sha1(std::string_view data) {
    std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
    auto block = [&](const std::uint8_t* p) {
        std::uint32_t w[80];
        for (int i = 0; i < 16; ++i)
            w[i] = std::uint32_t(p[4 * i]) << 24 | std::uint32_t(p[4 * i + 1]) << 16 |
                   std::uint32_t(p[4 * i + 2]) << 8 | std::uint32_t(p[4 * i + 3]);
        for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i) {
            std::uint32_t f, k;
            if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
            else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
            else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
            else f = b ^ c ^ d, k = 0xCA62C1D6;
            std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
            e = d, d = c, c = rotl(b, 30), b = a, a = t;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
    };
    std::size_t full = data.size() / 64 * 64;
    for (std::size_t i = 0; i < full; i += 64) block(reinterpret_cast<const std::uint8_t*>(data.data() + i));
    // Tail: the remaining bytes, 0x80, zeros, then the bit length big-endian.
    std::uint8_t tail[128] = {};
    std::size_t rest = data.size() % 64;  // == size - full, in a form the optimiser can bound
    for (std::size_t i = 0; i < rest; ++i) tail[i] = static_cast<std::uint8_t>(data[full + i]);
    tail[rest] = 0x80;
    std::size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 0; i < 8; ++i)
        tail[tail_len - 1 - static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(bits >> (8 * i));
    block(tail);
    if (tail_len == 128) block(tail + 64);
    std::array<std::uint8_t, 20> out{};
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 4; ++j)
            out[static_cast<std::size_t>(4 * i + j)] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
    return out;
}

inline std::string base64_encode(std::string_view in) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
    for (; i + 3 <= in.size(); i += 3) {
        std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        out += alphabet[v >> 18 & 63], out += alphabet[v >> 12 & 63], out += alphabet[v >> 6 & 63],
            out += alphabet[v & 63];
    }
    if (in.size() - i == 1) {
        std::uint32_t v = byte(i) << 16;
        out += alphabet[v >> 18 & 63], out += alphabet[v >> 12 & 63], out += "==";
    } else if (in.size() - i == 2) {
        std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
        out += alphabet[v >> 18 & 63], out += alphabet[v >> 12 & 63], out += alphabet[v >> 6 & 63], out += '=';
    }
    return out;
}

}  // namespace tmon::detail
