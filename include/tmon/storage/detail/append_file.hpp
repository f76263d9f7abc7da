#pragma once
// Append-only files for the jsonl store. Each append is one write(2) of whole
// lines on an O_APPEND descriptor: once it returns, the bytes are in the page
// cache and survive kill -9 of the process (fdatasync too, when asked, for
// power loss). Reading back tolerates a torn last line from a crash mid-write.
//
// An append is all or nothing. A write that fails part way (disk full, file
// size limit) would leave a fragment that the next acknowledged lines get glued
// to, and a reopen would then skip both as one malformed line: so the file is
// cut back to where the append started. If even that fails, the file refuses
// every append until a later one manages the cut: nothing is ever written
// after a fragment.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"

namespace tmon::detail {

class append_file {
public:
    append_file() = default;
    explicit append_file(std::filesystem::path path) : path_(std::move(path)) {}
    ~append_file() { close(); }
    append_file(append_file&& o) noexcept
        : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), cut_to_(std::exchange(o.cut_to_, -1)) {}
    append_file& operator=(append_file&& o) noexcept {
        if (this != &o) {
            close();
            path_ = std::move(o.path_);
            fd_ = std::exchange(o.fd_, -1);
            cut_to_ = std::exchange(o.cut_to_, -1);
        }
        return *this;
    }

    // Throws error(errc::unavailable) with the OS's reason when the bytes could
    // not all be written (and synced, with `sync`); the file is then as before.
    void append(std::string_view bytes, bool sync) {
        open();
        if (cut_to_ >= 0) cut_fragment(sync);
        const off_t start = size();
        std::size_t written = 0;
        while (written < bytes.size()) {
            ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
            if (n < 0) {
                if (errno == EINTR) continue;
                fail("cannot append to", start, written, sync);
            }
            written += static_cast<std::size_t>(n);
        }
        if (sync && ::fdatasync(fd_) != 0) fail("cannot sync", start, written, sync);
    }

    void close() {
        if (fd_ < 0) return;
        if (cut_to_ >= 0) try_cut(false);  // a last try, so a reopen does not read the fragment
        ::close(fd_);
        fd_ = -1;
    }

private:
    void open() {
        if (fd_ >= 0) return;
        fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw error(errc::unavailable, fmt::format("cannot open '{}': {}", path_.string(), std::strerror(errno)));
    }

    // Where this append starts: fstat rather than a size kept here, so a file
    // something else appended to is never cut below its own end.
    off_t size() {
        struct stat st {};
        if (::fstat(fd_, &st) != 0)
            throw error(errc::unavailable,
                        fmt::format("cannot append to '{}': {}", path_.string(), std::strerror(errno)));
        return st.st_size;
    }

    // A failed write(2) wrote nothing, so only the bytes before it (`written`)
    // need cutting; a failed sync cuts them all.
    [[noreturn]] void fail(std::string_view what, off_t start, std::size_t written, bool sync) {
        const std::string reason = std::strerror(errno);
        if (written == 0) throw error(errc::unavailable, fmt::format("{} '{}': {}", what, path_.string(), reason));
        cut_to_ = start;
        const int cut_errno = try_cut(sync);
        if (cut_errno == 0)
            throw error(errc::unavailable,
                        fmt::format("{} '{}': {} (nothing of this write was kept)", what, path_.string(), reason));
        auto message = fmt::format(
            "{} '{}': {}; its {} bytes written could not be cut off ({}), so it refuses "
            "writes until they are",
            what, path_.string(), reason, written, std::strerror(cut_errno));
        log(log_level::error, "jsonl", "{}", message);
        throw error(errc::unavailable, std::move(message));
    }

    // Before a write: the fragment of a failed one must go first.
    void cut_fragment(bool sync) {
        const auto at = static_cast<long long>(cut_to_);
        if (const int cut_errno = try_cut(sync); cut_errno != 0)
            throw error(errc::unavailable,
                        fmt::format("'{}' ends in part of a failed write that cannot be cut off at byte {} ({}): "
                                    "refusing to write after it",
                                    path_.string(), at, std::strerror(cut_errno)));
        log(log_level::warn, "jsonl", "cut the rest of a failed write off '{}' at byte {}", path_.string(), at);
    }

    // 0, or the errno of the cut (the sync of it, with `sync`); on success the file ends at cut_to_.
    int try_cut(bool sync) {
        for (;;) {
            if (::ftruncate(fd_, cut_to_) == 0) break;
            if (errno != EINTR) return errno;
        }
        if (sync && ::fdatasync(fd_) != 0) return errno;
        cut_to_ = -1;
        return 0;
    }

    std::filesystem::path path_;
    int fd_ = -1;
    off_t cut_to_ = -1;  // >= 0: a failed write's bytes past here are still to be cut off
};

// Calls fn(std::span<char> lines) with runs of whole lines of a file, each
// newline included, reading a block at a time: reopening a store of many
// gigabytes needs memory for one block and its longest line, not for the file.
// A last line without its newline is a write cut short by a crash: it is
// dropped with one warning and cut off the file, so the next append starts on
// a clean line. A read error stops with a warning and cuts nothing.
template <class F>
void for_each_chunk(const std::filesystem::path& path, F&& fn, std::size_t block_bytes = std::size_t{1} << 20) {
    struct fd_guard {
        int fd;
        ~fd_guard() {
            if (fd >= 0) ::close(fd);
        }
    } file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) return;
    std::string buf;  // [0, filled): bytes not handed out yet, a line's start first
    std::size_t filled = 0;
    std::uint64_t buf_offset = 0;  // where buf[0] is in the file
    for (;;) {
        if (buf.size() < filled + block_bytes) buf.resize(filled + block_bytes);
        ssize_t n = ::read(file.fd, buf.data() + filled, block_bytes);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            log(log_level::warn, "jsonl", "cannot read {} past byte {}: {}", path.string(), buf_offset + filled,
                std::strerror(errno));
            return;
        }
        if (n == 0) break;
        const std::size_t kept = filled;  // the bytes kept from before hold no newline: search only the new ones
        filled += static_cast<std::size_t>(n);
        auto last_newline = std::string_view{buf.data() + kept, filled - kept}.rfind('\n');
        if (last_newline == std::string_view::npos) continue;  // a line longer than a block: read on
        const std::size_t end = kept + last_newline + 1;
        fn(std::span<char>{buf.data(), end});
        std::memmove(buf.data(), buf.data() + end, filled - end);
        filled -= end;
        buf_offset += end;
    }
    if (filled == 0) return;
    log(log_level::warn, "jsonl", "dropping a torn last line ({} bytes) at the end of {}", filled, path.string());
    if (::truncate(path.c_str(), static_cast<off_t>(buf_offset)) != 0)
        log(log_level::warn, "jsonl", "cannot truncate {}: {}", path.string(), std::strerror(errno));
}

// Calls fn(std::string_view line) for each non-empty line of whole `lines`
// (for_each_chunk's). A NUL takes each newline's place, so a parser may scan
// to it: RapidJSON parses a NUL-terminated line ~25 % faster than a sized one.
template <class F>
void split_lines(std::span<char> lines, F&& fn) {
    std::size_t begin = 0;
    while (auto* nl = static_cast<char*>(std::memchr(lines.data() + begin, '\n', lines.size() - begin))) {
        auto end = static_cast<std::size_t>(nl - lines.data());
        *nl = '\0';
        if (end > begin) fn(std::string_view{lines.data() + begin, end - begin});
        begin = end + 1;
    }
}

// Calls fn(std::string_view line) for every whole, non-empty line of a file,
// each followed by a NUL (see split_lines); the rest as for_each_chunk.
template <class F>
void for_each_line(const std::filesystem::path& path, F&& fn, std::size_t block_bytes = std::size_t{1} << 20) {
    for_each_chunk(
        path, [&](std::span<char> lines) { split_lines(lines, fn); }, block_bytes);
}

}  // namespace tmon::detail
