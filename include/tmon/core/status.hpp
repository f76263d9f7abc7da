#pragma once
#include <optional>
#include <string_view>

namespace tmon {

enum class run_status { running, completed, failed, interrupted, cancelled };

constexpr std::string_view to_string(run_status s) noexcept {
    switch (s) {
        case run_status::running: return "running";
        case run_status::completed: return "completed";
        case run_status::failed: return "failed";
        case run_status::interrupted: return "interrupted";
        case run_status::cancelled: return "cancelled";
    }
    return "running";
}

constexpr std::optional<run_status> parse_run_status(std::string_view s) noexcept {
    if (s == "running") return run_status::running;
    if (s == "completed") return run_status::completed;
    if (s == "failed") return run_status::failed;
    if (s == "interrupted") return run_status::interrupted;
    if (s == "cancelled") return run_status::cancelled;
    return std::nullopt;
}

constexpr bool is_terminal(run_status s) noexcept { return s != run_status::running; }

// A running run may end in any way. An interrupted or failed run may be resumed
// (resume_or_create), and a terminal run may not silently turn into another
// terminal state: "completed" after "failed" would hide a crash. Setting the
// same status again is an idempotent no-op so retried requests succeed.
constexpr bool is_valid_transition(run_status from, run_status to) noexcept {
    if (from == to) return true;
    switch (from) {
        case run_status::running: return true;
        case run_status::interrupted:
        case run_status::failed: return to == run_status::running;
        case run_status::completed:
        case run_status::cancelled: return false;
    }
    return false;
}

}  // namespace tmon
