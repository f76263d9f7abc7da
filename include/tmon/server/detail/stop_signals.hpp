#pragma once
// SIGINT and SIGTERM turned into a wake-up that threads can wait on, for
// server::wait(). tmon's handlers exist only while someone waits: the first
// waiter saves the program's own handlers and installs tmon's, the last one
// puts the saved ones back, so a second Ctrl-C during a slow shutdown does
// what it did before wait() (by default: ends the process).
//
// Why not sigwait: it only works when the signals are blocked in every thread,
// and the server's threads exist before wait() is called. Why not
// asio::signal_set: it leaves SIG_DFL behind instead of the program's handler.
// The handler only writes the signal's number to a pipe (async-signal-safe); a
// watcher thread reads it and wakes every waiter through a condition variable.
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace tmon::detail {

class stop_signals {
public:
    static constexpr int signals[] = {SIGINT, SIGTERM};

    // Never destroyed: a thread may still wait while the process exits.
    static stop_signals& instance() {
        static stop_signals* s = new stop_signals;
        return *s;
    }

    // Blocks until SIGINT or SIGTERM arrives (returns its number) or until
    // stopped() is true (returns 0); stopped() is checked again on every wake().
    // The calling thread takes the signals while it waits, even where the
    // program blocked them; its signal mask is put back on return.
    template <class Stopped>
    int wait(Stopped stopped) {
        std::unique_lock lock(mutex_);
        if (stopped()) return 0;
        attach(lock);
        std::uint64_t seen = count_;
        sigset_t ours, before;
        sigemptyset(&ours);
        for (int s : signals) sigaddset(&ours, s);
        pthread_sigmask(SIG_UNBLOCK, &ours, &before);
        cv_.wait(lock, [&] { return count_ != seen || stopped(); });
        int sig = count_ != seen ? last_ : 0;
        pthread_sigmask(SIG_SETMASK, &before, nullptr);
        detach(lock);
        return sig;
    }

    // Makes every waiter check its stopped() again: call after making it true.
    void wake() {
        { std::lock_guard lock(mutex_); }  // a waiter is either past its check or asleep
        cv_.notify_all();
    }

private:
    stop_signals() = default;

    void attach(std::unique_lock<std::mutex>& lock) {
        cv_.wait(lock, [&] { return !tearing_down_; });  // the last waiter's watcher is still being joined
        if (waiters_++ > 0) return;
        try {
            open_pipe();
        } catch (...) {
            --waiters_;
            throw;
        }
        unsigned char stale[64];  // bytes a handler wrote while the previous waiter left
        while (::read(read_fd_, stale, sizeof stale) > 0) {}
        // The watcher takes no signals, so they land on a thread that handles them.
        sigset_t all, before;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &before);
        watcher_ = std::thread([this] { watch(); });
        pthread_sigmask(SIG_SETMASK, &before, nullptr);
        struct sigaction sa {};
        sa.sa_handler = &on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        for (std::size_t i = 0; i < std::size(signals); ++i) ::sigaction(signals[i], &sa, &saved_[i]);
    }

    void detach(std::unique_lock<std::mutex>& lock) {
        if (--waiters_ > 0) return;
        for (std::size_t i = 0; i < std::size(signals); ++i) ::sigaction(signals[i], &saved_[i], nullptr);
        unsigned char quit = 0;
        while (::write(write_fd().load(), &quit, 1) < 0 && (errno == EINTR || errno == EAGAIN)) {}
        // The watcher takes the lock to report a signal: join it without holding the lock.
        tearing_down_ = true;
        std::thread watcher = std::move(watcher_);
        lock.unlock();
        watcher.join();
        lock.lock();
        tearing_down_ = false;
        cv_.notify_all();
    }

    // Opened once and kept: a handler already running when the last waiter
    // left may still write, and must never write into a reused descriptor.
    void open_pipe() {
        if (read_fd_ >= 0) return;
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::system_error(errno, std::generic_category(), "tmon: a pipe for SIGINT/SIGTERM");
        read_fd_ = fds[0];
        write_fd().store(fds[1]);
    }

    void watch() {
        for (;;) {
            pollfd p{read_fd_, POLLIN, 0};
            if (::poll(&p, 1, -1) < 0 && errno != EINTR) return;
            unsigned char bytes[64];
            ssize_t n = ::read(read_fd_, bytes, sizeof bytes);
            for (ssize_t i = 0; i < n; ++i) {
                if (bytes[i] == 0) return;  // detach(): no one waits any more
                {
                    std::lock_guard lock(mutex_);
                    last_ = bytes[i];
                    ++count_;
                }
                cv_.notify_all();
            }
        }
    }

    static std::atomic<int>& write_fd() {
        static std::atomic<int> fd{-1};
        return fd;
    }

    static void on_signal(int sig) {
        int saved_errno = errno;
        int fd = write_fd().load();
        unsigned char b = static_cast<unsigned char>(sig);
        if (fd >= 0) {
            ssize_t n = ::write(fd, &b, 1);  // a full pipe holds enough signals already
            (void)n;
        }
        errno = saved_errno;
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::uint64_t count_ = 0;  // signals seen: a waiter returns once it changed since it began
    int last_ = 0;
    int waiters_ = 0;
    bool tearing_down_ = false;
    int read_fd_ = -1;
    std::thread watcher_;
    struct sigaction saved_[std::size(signals)]{};
};

}  // namespace tmon::detail
