#pragma once
// Most responses and WebSocket frames fit in the socket's send buffer whole.
// Writing them at once from the io thread, on a socket in non-blocking mode,
// costs one sendmsg and no completion handler; only what the kernel does not
// take now is left for an async_write. With 100 WebSocket peers that halves
// the io thread's scheduler work per update.
#include <asio.hpp>

#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

namespace tmon::detail {

// Drops the first n bytes of a gathered buffer list.
inline void consume_front(std::vector<asio::const_buffer>& buffers, std::size_t n) {
    std::size_t first = 0;
    while (first < buffers.size() && n >= buffers[first].size()) {
        n -= buffers[first].size();
        ++first;
    }
    if (first < buffers.size()) buffers[first] += n;
    buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(first));
}

// Writes what the socket takes without blocking and removes it from
// `buffers`; what remains (empty if all went) must be written asynchronously.
// The socket must be in non-blocking mode. ec is set only for a real error.
inline void send_now(asio::ip::tcp::socket& socket, std::vector<asio::const_buffer>& buffers, std::error_code& ec) {
    while (!buffers.empty()) {
        std::size_t n = socket.write_some(std::span<const asio::const_buffer>(buffers), ec);
        if (ec) {
            if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
            return;
        }
        consume_front(buffers, n);
    }
}

}  // namespace tmon::detail
