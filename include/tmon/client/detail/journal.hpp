#pragma once
// The remote client's append-only journal on local disk. Everything the
// trainer reports is written here first and sent from here, so a server that
// is down, restarting or unreachable costs nothing but disk: the sender
// replays from the last acknowledged offset. Records are idempotent requests
// (client-chosen ids, (key, step) last-write-wins), so sending one twice after
// a crash is harmless; losing one is not.
//
// File layout: `<name>.journal` holds records, each
//   u32 payload length | u32 crc32(payload) | payload
//   payload = u8 kind | u8 method | u32 points | u16 path length | path | body
// and `<name>.ack` holds the u64 offset up to which the server acknowledged.
// The ack file is written before the journal is cut back to empty, so a crash
// between the two replays acknowledged records (harmless), never skips new ones.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"

namespace tmon::detail {

enum class journal_kind : std::uint8_t { request = 1, metrics = 2 };

struct journal_record {
    journal_kind kind = journal_kind::request;
    std::string method;  // "POST", "PUT"
    std::string path;    // "/api/runs/run_x/metrics"
    std::string body;    // for metrics: comma-separated point objects
    std::uint32_t points = 0;
    std::uint64_t end_offset = 0;  // where the next record starts
};

class journal {
public:
    static constexpr std::size_t header_bytes = 8;
    static constexpr std::size_t max_record_bytes = 64u << 20;

    // Opens (creating) `<dir>/<name>.journal`, locked against a second process
    // using the same name. Records after the acknowledged offset are kept for
    // sending; a torn or corrupt tail (the trainer died mid-write) is cut off
    // with one warning.
    journal(const std::filesystem::path& dir, const std::string& name, std::uint64_t max_bytes)
        : path_(dir / (name + ".journal")), ack_path_(dir / (name + ".ack")), max_bytes_(max_bytes) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec)
            throw error(errc::unavailable, "cannot create the journal folder " + dir.string() + ": " + ec.message());
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0)
            throw error(errc::unavailable, "cannot open the journal " + path_.string() + ": " + std::strerror(errno));
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            throw error(errc::conflict,
                        "the journal " + path_.string() +
                            " is in use by another process (two trainers with the same run id and rank?)");
        }
        ack_fd_ = ::open(ack_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (ack_fd_ < 0) {
            ::close(fd_);
            throw error(errc::unavailable, "cannot open " + ack_path_.string() + ": " + std::strerror(errno));
        }
        recover();
    }

    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;
    ~journal() {
        ::close(ack_fd_);
        ::close(fd_);  // releases the lock
    }

    // Appends one record; false (nothing written) when it would take the
    // unacknowledged part past max_bytes. Throws tmon::error on a disk error,
    // after cutting the file back so no fragment is left behind.
    bool append(journal_kind kind, std::string_view method, std::string_view path, std::string_view body,
                std::uint32_t points = 0) {
        std::string rec = encode(kind, method, path, body, points);
        std::lock_guard lock(mutex_);
        if (end_ - acked_ + rec.size() > max_bytes_) return false;
        write_at(rec, end_);
        end_ += rec.size();
        pending_points_ += points;
        return true;
    }

    // Reads the record starting at `offset` (the sender's cursor), or nullopt at the end.
    std::optional<journal_record> read(std::uint64_t offset) const {
        std::lock_guard lock(mutex_);
        if (offset >= end_) return std::nullopt;
        auto rec = read_record(offset, end_, false);  // written by this process: checked on open only
        if (!rec)
            throw error(errc::unavailable,
                        "journal " + path_.string() + " cannot be read back at offset " + std::to_string(offset));
        return rec;
    }

    // The server took everything before `offset` (which carried `points` points).
    // When that is everything, the file is cut back to empty.
    void acknowledge(std::uint64_t offset, std::uint64_t points) {
        std::lock_guard lock(mutex_);
        if (offset <= acked_) return;
        acked_ = std::min(offset, end_);
        pending_points_ -= std::min(pending_points_, points);
        if (acked_ == end_) {
            store_ack(0);
            if (::ftruncate(fd_, 0) == 0) {
                acked_ = end_ = 0;
                pending_points_ = 0;
                ++generation_;
                return;
            }
        }
        store_ack(acked_);
    }

    // Bumped each time the file is cut back: a reader's cursor from before is void.
    std::uint64_t generation() const {
        std::lock_guard lock(mutex_);
        return generation_;
    }
    std::uint64_t acked_offset() const {
        std::lock_guard lock(mutex_);
        return acked_;
    }
    std::uint64_t end_offset() const {
        std::lock_guard lock(mutex_);
        return end_;
    }
    std::uint64_t pending_bytes() const {
        std::lock_guard lock(mutex_);
        return end_ - acked_;
    }
    std::uint64_t pending_points() const {
        std::lock_guard lock(mutex_);
        return pending_points_;
    }
    // Records found unsent when the journal was opened (a previous process's).
    std::uint64_t recovered_records() const noexcept { return recovered_records_; }
    std::uint64_t recovered_points() const noexcept { return recovered_points_; }
    const std::filesystem::path& path() const noexcept { return path_; }

    static std::string encode(journal_kind kind, std::string_view method, std::string_view path, std::string_view body,
                              std::uint32_t points) {
        if (path.size() > 0xffff) throw error(errc::invalid_argument, "journal record path too long");
        std::string payload;
        payload.reserve(8 + path.size() + body.size());
        payload.push_back(static_cast<char>(kind));
        payload.push_back(static_cast<char>(method_code(method)));
        put_u32(payload, points);
        put_u16(payload, static_cast<std::uint16_t>(path.size()));
        payload.append(path);
        payload.append(body);
        if (payload.size() > max_record_bytes) throw error(errc::invalid_argument, "journal record larger than 64 MiB");
        std::string rec;
        rec.reserve(header_bytes + payload.size());
        put_u32(rec, static_cast<std::uint32_t>(payload.size()));
        put_u32(rec, crc(payload));
        rec.append(payload);
        return rec;
    }

private:
    static std::uint8_t method_code(std::string_view m) noexcept {
        return m == "PUT" ? 2 : m == "DELETE" ? 3 : m == "GET" ? 0 : 1;
    }
    static const char* method_name(std::uint8_t c) noexcept {
        switch (c) {
            case 0: return "GET";
            case 2: return "PUT";
            case 3: return "DELETE";
            default: return "POST";
        }
    }
    static void put_u32(std::string& s, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    static void put_u16(std::string& s, std::uint16_t v) {
        s.push_back(static_cast<char>(v & 0xff));
        s.push_back(static_cast<char>(v >> 8));
    }
    static std::uint32_t get_u32(const unsigned char* p) noexcept {
        return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
    }
    static std::uint32_t crc(std::string_view bytes) noexcept {
        return static_cast<std::uint32_t>(
            ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    }

    bool pread_all(void* buf, std::size_t n, std::uint64_t at) const {
        auto* p = static_cast<char*>(buf);
        while (n > 0) {
            ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(at));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return false;
            p += got;
            n -= static_cast<std::size_t>(got);
            at += static_cast<std::uint64_t>(got);
        }
        return true;
    }

    // nullopt: the record at `offset` is torn or corrupt (checksum checked when `verify`).
    std::optional<journal_record> read_record(std::uint64_t offset, std::uint64_t limit, bool verify = true) const {
        unsigned char head[header_bytes];
        if (limit - offset < header_bytes || !pread_all(head, header_bytes, offset)) return std::nullopt;
        std::uint32_t len = get_u32(head), sum = get_u32(head + 4);
        if (len < 8 || len > max_record_bytes || limit - offset - header_bytes < len) return std::nullopt;
        std::string payload(len, '\0');
        if (!pread_all(payload.data(), len, offset + header_bytes) || (verify && crc(payload) != sum))
            return std::nullopt;
        auto* p = reinterpret_cast<const unsigned char*>(payload.data());
        std::uint16_t path_len = static_cast<std::uint16_t>(p[6] | (p[7] << 8));
        if (8u + path_len > len || (p[0] != 1 && p[0] != 2)) return std::nullopt;
        journal_record r;
        r.kind = static_cast<journal_kind>(p[0]);
        r.method = method_name(p[1]);
        r.points = get_u32(p + 2);
        r.path.assign(payload, 8, path_len);
        r.body.assign(payload, 8 + path_len, std::string::npos);
        r.end_offset = offset + header_bytes + len;
        return r;
    }

    void recover() {
        struct stat st {};
        if (::fstat(fd_, &st) != 0) throw error(errc::unavailable, "cannot stat the journal " + path_.string());
        const auto size = static_cast<std::uint64_t>(st.st_size);
        std::uint64_t ack = 0;
        unsigned char buf[8];
        if (::pread(ack_fd_, buf, 8, 0) == 8)
            for (int i = 7; i >= 0; --i) ack = (ack << 8) | buf[i];
        if (ack > size) {  // the file was cut back after the ack was written: start over
            ack = 0;
            // ...and say so on disk: a stale offset would become a point inside
            // the records appended from now on, and the next open would cut them off.
            store_ack(0);
        }
        std::uint64_t at = record_start_at_or_before(ack, size);
        if (at != ack) {
            tmon::log(log_level::warn, "journal",
                      "{}: the acknowledged offset {} falls inside the record at {} (power loss or a foreign "
                      "write?); sending that record again",
                      path_.string(), ack, at);
            store_ack(at);  // once: the next open starts from a record boundary
            ack = at;
        }
        while (at < size) {
            auto rec = read_record(at, size);
            if (!rec) break;
            ++recovered_records_;
            recovered_points_ += rec->points;
            at = rec->end_offset;
        }
        if (at < size) {
            tmon::log(
                log_level::warn, "journal",
                "{}: {} bytes at offset {} are a torn or corrupt record (the trainer stopped mid-write?); skipped",
                path_.string(), size - at, at);
            if (::ftruncate(fd_, static_cast<off_t>(at)) != 0)
                throw error(errc::unavailable,
                            "cannot cut the torn tail of " + path_.string() + ": " + std::strerror(errno));
        }
        acked_ = ack;
        end_ = at;
        pending_points_ = recovered_points_;
        if (recovered_records_ > 0)
            tmon::log(log_level::info, "journal",
                      "{}: {} unsent records ({} points) from an earlier process, sending them first", path_.string(),
                      recovered_records_, recovered_points_);
    }

    // The ack is written at record ends only; one inside a record would cut the
    // rest of it off. Walks the records up to it: where it falls inside one,
    // that record's start (requests are idempotent, so it is sent again). Where
    // the acknowledged part itself is unreadable, the ack is all there is to go by.
    std::uint64_t record_start_at_or_before(std::uint64_t ack, std::uint64_t size) const {
        std::uint64_t at = 0;
        while (at < ack) {
            auto rec = read_record(at, size);
            if (!rec) return ack;
            if (rec->end_offset > ack) return at;
            at = rec->end_offset;
        }
        return ack;
    }

    void write_at(const std::string& rec, std::uint64_t at) {
        const char* p = rec.data();
        std::size_t left = rec.size();
        std::uint64_t pos = at;
        while (left > 0) {
            ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(pos));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int err = n < 0 ? errno : ENOSPC;
                // Leave nothing half-written: replay must see whole records only.
                if (::ftruncate(fd_, static_cast<off_t>(at)) != 0) {}
                throw error(errc::unavailable, "journal write to " + path_.string() + " failed: " + std::strerror(err));
            }
            p += n;
            left -= static_cast<std::size_t>(n);
            pos += static_cast<std::uint64_t>(n);
        }
    }

    void store_ack(std::uint64_t v) {
        unsigned char buf[8];
        for (int i = 0; i < 8; ++i) buf[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xff);
        if (::pwrite(ack_fd_, buf, 8, 0) != 8)
            tmon::log(log_level::warn, "journal", "cannot record the acknowledged offset in {}: {}", ack_path_.string(),
                      std::strerror(errno));
    }

    std::filesystem::path path_, ack_path_;
    std::uint64_t max_bytes_;
    int fd_ = -1, ack_fd_ = -1;
    mutable std::mutex mutex_;
    std::uint64_t acked_ = 0, end_ = 0, pending_points_ = 0, generation_ = 0;
    std::uint64_t recovered_records_ = 0, recovered_points_ = 0;
};

}  // namespace tmon::detail
