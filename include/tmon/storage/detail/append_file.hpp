#pragma once
// Append-only files for the jsonl store. Each append is one write(2) of whole
// lines on an O_APPEND descriptor: once it returns, the bytes are in the page
// cache and survive kill -9 of the process (fdatasync too, when asked, for
// power loss). Reading back tolerates a torn last line from a crash mid-write.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

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
    append_file(append_file&& o) noexcept : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)) {}
    append_file& operator=(append_file&& o) noexcept {
        if (this != &o) {
            close();
            path_ = std::move(o.path_);
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }

    void append(std::string_view bytes, bool sync) {
        open();
        while (!bytes.empty()) {
            ssize_t n = ::write(fd_, bytes.data(), bytes.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                throw error(errno == ENOSPC ? errc::unavailable : errc::internal,
                            fmt::format("cannot append to '{}': {}", path_.string(), std::strerror(errno)));
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        if (sync && ::fdatasync(fd_) != 0)
            throw error(errc::unavailable, fmt::format("cannot sync '{}': {}", path_.string(), std::strerror(errno)));
    }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    void open() {
        if (fd_ >= 0) return;
        fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw error(errc::unavailable, fmt::format("cannot open '{}': {}", path_.string(), std::strerror(errno)));
    }

    std::filesystem::path path_;
    int fd_ = -1;
};

// Reads every complete line of a file. A last line without its newline is a
// write cut short by a crash: it is dropped with one warning and cut off the
// file, so the next append starts on a clean line.
inline std::vector<std::string_view> read_lines(const std::filesystem::path& path, std::string& storage) {
    std::vector<std::string_view> lines;
    storage.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lines;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        storage.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    std::size_t begin = 0;
    while (begin < storage.size()) {
        auto nl = storage.find('\n', begin);
        if (nl == std::string::npos) {
            log(log_level::warn, "jsonl", "dropping a torn last line ({} bytes) at the end of {}",
                storage.size() - begin, path.string());
            if (::truncate(path.c_str(), static_cast<off_t>(begin)) != 0)
                log(log_level::warn, "jsonl", "cannot truncate {}: {}", path.string(), std::strerror(errno));
            storage.resize(begin);
            break;
        }
        if (nl > begin) lines.emplace_back(storage.data() + begin, nl - begin);
        begin = nl + 1;
    }
    return lines;
}

}  // namespace tmon::detail
