#pragma once
// What a jsonl_store says while it reopens: a store of many millions of
// points takes seconds to replay, and a silent start looks like a hang. A
// long replay logs how far it is every few seconds; any replay that read
// something ends with one line saying what it found and how long it took.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "tmon/core/log.hpp"

namespace tmon::detail {

class replay_progress {
public:
    replay_progress(std::filesystem::path dir, std::chrono::duration<double> period = std::chrono::seconds{2})
        : dir_(std::move(dir)), period_(period) {}

    // After each line read (its bytes, newline included).
    void line_read(std::size_t bytes) {
        done_bytes_ += bytes;
        if (++reads_ % check_every_lines == 0) report_if_due();
    }
    // After each chunk of lines read (a block's worth): the clock is read each time.
    void chunk_read(std::size_t bytes) {
        done_bytes_ += bytes;
        ++reads_;
        report_if_due();
    }
    void points_applied(std::size_t n) noexcept { points_ += n; }

    void finish(std::size_t runs) const {
        if (reads_ == 0) return;
        log(log_level::info, "jsonl", "opened {}: {} run{}, {} metric points, {:.1f} MB in {:.2f} s", dir_.string(),
            runs, runs == 1 ? "" : "s", points_, static_cast<double>(done_bytes_) / 1e6, elapsed().count());
    }

private:
    static constexpr std::uint64_t check_every_lines = 256;  // a clock read per line would show in the replay

    static std::uint64_t bytes_under(const std::filesystem::path& dir) {
        std::uint64_t total = 0;
        std::error_code ec;
        for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code size_ec;
            if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
        }
        return total;
    }

    std::chrono::duration<double> elapsed() const { return std::chrono::steady_clock::now() - start_; }

    void report_if_due() {
        auto now = std::chrono::steady_clock::now();
        if (now - last_report_ < period_) return;
        last_report_ = now;
        if (!total_bytes_) total_bytes_ = bytes_under(dir_);  // walked only by a replay long enough to report
        const auto total = static_cast<double>(*total_bytes_);
        double percent = total > 0 ? 100.0 * static_cast<double>(done_bytes_) / total : 100.0;
        log(log_level::info, "jsonl", "replaying {}: {:.0f} of {:.0f} MB ({:.0f} %), {} metric points so far",
            dir_.string(), static_cast<double>(done_bytes_) / 1e6, total / 1e6, percent, points_);
    }

    std::filesystem::path dir_;
    std::optional<std::uint64_t> total_bytes_;
    std::chrono::duration<double> period_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_report_ = start_;
    std::uint64_t done_bytes_ = 0, reads_ = 0, points_ = 0;
};

}  // namespace tmon::detail
