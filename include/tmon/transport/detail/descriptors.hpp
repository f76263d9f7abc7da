#pragma once
// File descriptors as a resource the acceptor must not run out of blindly:
// the soft RLIMIT_NOFILE is raised to the hard one (as servers do) and the
// connection cap derived from it, and one descriptor is kept in reserve so
// that when the process is out of them a waiting client can still be
// accepted, told 503 and closed instead of hanging in the backlog.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <asio/error.hpp>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <system_error>

namespace tmon::detail {

// Raises the soft open-file limit to the hard one; returns the soft limit
// now in force, or nullopt when it is unlimited or unknown.
inline std::optional<std::size_t> raise_open_file_limit() noexcept {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::nullopt;
    if (rl.rlim_cur != rl.rlim_max) {
        rlimit wanted = rl;
        // Linux refuses RLIM_INFINITY (it caps at fs.nr_open); 2^20 is that cap's default.
        wanted.rlim_cur = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : rl.rlim_max;
        if (wanted.rlim_cur > rl.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &wanted) == 0) rl.rlim_cur = wanted.rlim_cur;
    }
    if (rl.rlim_cur == RLIM_INFINITY) return std::nullopt;
    return static_cast<std::size_t>(rl.rlim_cur);
}

// How many connections an open-file limit leaves room for once `reserve`
// descriptors are kept for the store's files, logs and the io machinery.
constexpr std::size_t connections_for_descriptors(std::size_t limit, std::size_t reserve) noexcept {
    if (limit > 2 * reserve) return limit - reserve;
    return limit / 2 > 0 ? limit / 2 : 1;
}

// Errors that mean "no descriptor or buffer left now": retrying at once
// would spin, so the acceptor backs off instead. Asio reports errno values
// in its own category, which does not compare equal to std::errc.
inline bool is_resource_exhaustion(const std::error_code& ec) noexcept {
    if (ec.category() != asio::error::get_system_category() && ec.category() != std::system_category()) return false;
    int e = ec.value();
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

// One descriptor held on /dev/null, given up for a moment when the process
// has none left (see asio_transport's accept loop).
class spare_descriptor {
public:
    spare_descriptor() = default;
    spare_descriptor(const spare_descriptor&) = delete;
    spare_descriptor& operator=(const spare_descriptor&) = delete;
    ~spare_descriptor() { release(); }

    void release() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    bool reserve() noexcept {
        if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        return fd_ >= 0;
    }
    bool held() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

}  // namespace tmon::detail
