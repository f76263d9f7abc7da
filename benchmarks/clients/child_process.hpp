// Servers a benchmark starts for itself: a free loopback port, a child process that is
// SIGTERMed and reaped when it goes out of scope, and a wait for it to accept connections.
#pragma once

#include "raw_http.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace bench {

inline int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot find a free port");
    return ntohs(addr.sin_port);
}

class child_process {
public:
    // stdout and stderr go to log_path.
    child_process(const std::vector<std::string>& args, const std::string& log_path) {
        struct stat st {};
        if (args.empty() || ::stat(args[0].c_str(), &st) != 0)
            throw std::runtime_error((args.empty() ? std::string("?") : args[0]) + " not found: build it first");
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        const int rc = posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
    }
    ~child_process() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    bool running() const {
        int status = 0;
        return ::waitpid(pid_, &status, WNOHANG) == 0;
    }

private:
    pid_t pid_ = -1;
};

// Waits until host:port accepts a connection and, when http_path is given, answers 200 there.
inline void wait_until_ready(const std::string& host, int port, const std::string& http_path = {}) {
    for (int i = 0; i < 200; ++i) {
        try {
            if (http_path.empty()) {
                ::close(connect_tcp(host, port));
                return;
            }
            http_connection http(host, port);
            if (http.request("GET", http_path).status == 200) return;
        } catch (const std::exception&) {}
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error(host + ":" + std::to_string(port) + " did not become ready");
}

}  // namespace bench
