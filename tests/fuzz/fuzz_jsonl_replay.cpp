// jsonl_store's replay: a store folder written from the input, opened, read
// back through the store's API, closed, and opened again.
//
// The input is the files' contents, one after another, separated by the byte
// 0x01 (which no JSON line holds unescaped):
//   0 runs/a/run.jsonl   1 runs/a/metrics.jsonl   2 runs/a/checkpoints.jsonl
//   3 runs/a/layers.jsonl   4 runs/a/events.jsonl   5 system.jsonl   6 events.jsonl
//   7 runs/b/run.jsonl   8 runs/b/metrics.jsonl   9 runs/b/checkpoints.jsonl
//   10 runs/b/layers.jsonl   11 runs/b/events.jsonl
// A malformed line, a torn last line or a record of an unknown shape must be
// skipped, never fatal. When a file ends in a torn line the store is opened a
// second time, and must read exactly what the first open did (the first cut the
// torn line off, which changed no record). An empty part writes no file.
// metrics.jsonl of run a is also read by detail::for_each_line with a tiny
// block size, and must give the lines a plain split at '\n' gives.
//
// Speed: each file a store reads costs a 1 MiB read buffer, which under ASan
// is a fresh zero-filled mmap (~0.5 ms); hence no second open and no empty
// files unless they matter: 150 (twelve files) to 650 (one) inputs/s on an
// idle core. An input whose first byte is 0x02 skips the store and its files:
// the same parts go straight to the line parsers and record readers the
// replay uses (detail::parse_metric_lines, detail::parse_document and
// read_run/read_checkpoint/read_layer_snapshot/read_event/read_system),
// thousands of inputs/s, so the fuzzer can spend its time where it finds more.
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_util.hpp"
#include "tmon/core/log.hpp"
#include "tmon/detail/json_read.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/storage/detail/jsonl_lines.hpp"
#include "tmon/storage/jsonl_store.hpp"

namespace {

using namespace tmon;
namespace fs = std::filesystem;

fs::path work_dir;

const char* const file_names[] = {"runs/a/run.jsonl",
                                  "runs/a/metrics.jsonl",
                                  "runs/a/checkpoints.jsonl",
                                  "runs/a/layers.jsonl",
                                  "runs/a/events.jsonl",
                                  "system.jsonl",
                                  "events.jsonl",
                                  "runs/b/run.jsonl",
                                  "runs/b/metrics.jsonl",
                                  "runs/b/checkpoints.jsonl",
                                  "runs/b/layers.jsonl",
                                  "runs/b/events.jsonl"};
constexpr std::size_t file_count = sizeof(file_names) / sizeof(file_names[0]);

void write_file(const fs::path& p, std::string_view bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::string_view> split_files(std::string_view in) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < file_count) {
        auto sep = in.find('\x01');
        if (sep == std::string_view::npos) break;
        out.push_back(in.substr(0, sep));
        in.remove_prefix(sep + 1);
    }
    out.push_back(in);
    return out;
}

void dump_events(std::string& out, const std::vector<event>& evs) {
    for (const auto& e : evs)
        fmt::format_to(std::back_inserter(out), "  event {} {} {} {} {} {}\n", e.id, e.run_id, e.time, e.type,
                       e.message, e.data_json);
}

// Everything the store answers, as text: what a dashboard could ever see.
std::string read_everything(jsonl_store& store) {
    std::string out;
    auto it = std::back_inserter(out);
    run_query all;
    all.limit = 1000;
    for (auto sort : {run_sort::created_desc, run_sort::name_asc, run_sort::updated_desc}) {
        all.sort = sort;
        auto page = store.list_runs(all);
        fmt::format_to(it, "runs {} sort {}:", page.total, static_cast<int>(sort));
        for (const auto& r : page.runs) fmt::format_to(it, " {}", r.id);
        out += '\n';
    }
    all.sort = run_sort::created_asc;
    for (const auto& r : store.list_runs(all).runs) {
        auto got = store.get_run(r.id);
        TMON_FUZZ_CHECK(got.has_value());
        fmt::format_to(it, "run {} {} {} {} [{}] {} {} {} {} {} {} {}\n", r.id, r.name, to_string(r.status),
                       r.config_json, fmt::join(r.tags, ","), r.notes, r.start_time, r.end_time.value_or(-1),
                       r.created_at, r.updated_at, r.total_steps.value_or(-1), r.last_step.value_or(-1));
        for (const auto& key : store.metric_keys(r.id)) {
            metric_query q;
            q.run_id = r.id;
            q.key = key;
            auto s = store.query_metrics(q);
            fmt::format_to(it, "  series {} {}:", key, s.total_in_range);
            for (const auto& p : s.points) fmt::format_to(it, " {}/{}/{}", p.step, p.time, p.value);
            out += '\n';
            // Downsampled and ranged reads, as charts make them.
            for (auto method : {downsample_method::lttb, downsample_method::minmax}) {
                q.max_points = 3;
                q.method = method;
                auto d = store.query_metrics(q);
                TMON_FUZZ_CHECK(d.points.size() <= s.points.size());
                fmt::format_to(it, "  downsampled {}:", static_cast<int>(method));
                for (const auto& p : d.points) fmt::format_to(it, " {}/{}", p.step, p.value);
                out += '\n';
            }
            if (!s.points.empty()) {
                metric_query r2;
                r2.run_id = r.id;
                r2.key = key;
                r2.step_min = s.points.front().step;
                r2.step_max = s.points.back().step;
                r2.time_min = 0;
                auto ranged = store.query_metrics(r2);
                TMON_FUZZ_CHECK(ranged.points.size() <= s.points.size());
            }
        }
        for (const auto& l : store.latest_metrics(r.id))
            fmt::format_to(it, "  latest {} {} {} {}\n", l.key, l.step, l.time, l.value);
        for (const auto& c : store.list_checkpoints(r.id)) {
            auto got_c = store.get_checkpoint(c.id);
            TMON_FUZZ_CHECK(got_c.has_value());
            fmt::format_to(it, "  checkpoint {} {} {} {} {} {} {} {}\n", c.id, c.run_id, c.filepath,
                           c.step.value_or(-1), c.metrics_json, c.metadata_json, c.is_best, c.created_at);
        }
        for (auto step : store.layer_steps(r.id)) {
            auto snap = store.get_layers(r.id, step);
            TMON_FUZZ_CHECK(snap.has_value());
            fmt::format_to(it, "  layers {} {} {}\n", step, snap->layers.size(), snap->time);
        }
        event_query eq;
        eq.run_id = r.id;
        dump_events(out, store.list_events(eq));
    }
    dump_events(out, store.list_events({}));
    for (const auto& s : store.system_history({}))
        fmt::format_to(it, "system {} {} {} {} {}\n", s.time, s.cpu_percent, s.memory_used, s.process_rss,
                       s.gpus.size());
    return out;
}

// The parsers and readers a replay runs, without the store: every line of
// every part through the reader for its file.
void read_parts_directly(const std::vector<std::string_view>& files) {
    for (std::size_t i = 0; i < files.size(); ++i) {
        std::string_view name = file_names[i];
        std::string text(files[i].substr(0, files[i].rfind('\n') + 1));  // whole lines, as the store reads
        if (name.ends_with("metrics.jsonl")) {
            auto parsed = detail::parse_metric_lines(std::span<char>(text.data(), text.size()));
            for (const auto& line : parsed.lines) (void)line.key.size();
            continue;
        }
        std::string_view rest = text;
        for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
            std::string_view line = rest.substr(0, nl);
            rest.remove_prefix(nl + 1);
            rapidjson::Document doc;
            if (!detail::parse_document(doc, line) || !doc.IsObject()) continue;
            if (name.ends_with("run.jsonl")) {
                if (auto* r = detail::member(doc, "run")) (void)detail::read_run(*r);
                if (auto* evs = detail::member(doc, "events"); evs && evs->IsArray())
                    for (const auto& e : evs->GetArray()) (void)detail::read_event(e);
            } else if (name.ends_with("checkpoints.jsonl")) {
                if (auto* c = detail::member(doc, "checkpoint")) (void)detail::read_checkpoint(*c);
            } else if (name.ends_with("layers.jsonl")) {
                (void)detail::read_layer_snapshot(doc);
            } else if (name.ends_with("system.jsonl")) {
                (void)detail::read_system(doc);
            } else {
                (void)detail::read_event(doc);
            }
        }
    }
}

std::vector<std::string> lines_of(const fs::path& p, std::size_t block) {
    std::vector<std::string> out;
    detail::for_each_line(
        p, [&](std::string_view line) { out.emplace_back(line); }, block);
    return out;
}

// The whole lines of `text`, newline excluded, empty ones skipped; a last line
// without its newline is torn and not a line.
std::vector<std::string> reference_lines(std::string_view text) {
    std::vector<std::string> out;
    for (auto nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n')) {
        if (nl > 0) out.emplace_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Warnings for skipped lines are the expected outcome here: formatted (that
    // code runs) but not printed, or stderr would cost more than the replay.
    set_log_level(log_level::debug);
    set_log_sink([](log_level, std::string_view) {});
    work_dir = fuzz::scratch_dir("tmon-fuzz-jsonl-");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    if (!input.empty() && input.front() == '\x02') {
        read_parts_directly(split_files(input.substr(1)));
        return 0;
    }
    auto files = split_files(input);
    const fs::path store_dir = work_dir / "store";
    std::error_code ec;
    fs::remove_all(store_dir, ec);
    fs::create_directories(store_dir / "runs" / "a");
    if (files.size() > 7) fs::create_directories(store_dir / "runs" / "b");
    bool torn = false;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (files[i].empty()) continue;
        write_file(store_dir / file_names[i], files[i]);
        torn = torn || files[i].back() != '\n';
    }

    // The line reader, with a block of a few bytes: lines longer than a block,
    // newlines at block edges, a torn end.
    if (files.size() > 1 && !files[1].empty()) {
        const fs::path scratch = work_dir / "lines.jsonl";
        write_file(scratch, files[1]);
        auto got = lines_of(scratch, 1 + fuzz::hash_bytes(files[1]) % 13);
        TMON_FUZZ_CHECK(got == reference_lines(files[1]));
        // The torn end is cut off the file, the rest left as it was.
        auto whole_lines = files[1].substr(0, files[1].rfind('\n') + 1);
        TMON_FUZZ_CHECK(fs::file_size(scratch) == whole_lines.size());
    }

    std::string first, second;
    try {
        jsonl_store::options o;
        o.dir = store_dir.string();
        {
            jsonl_store store(o);
            first = read_everything(store);
        }
        if (torn) {
            jsonl_store store(o);
            second = read_everything(store);
        } else {
            second = first;
        }
    } catch (const error& e) {
        // A store that cannot be opened must say so with tmon::error; the
        // folders here are always readable, so that would be a bug as well.
        std::fprintf(stderr, "jsonl_store refused to open: %s\n", e.what());
        std::abort();
    }
    if (first != second) {
        std::fprintf(stderr, "first open:\n%s\nsecond open:\n%s\n", first.c_str(), second.c_str());
        TMON_FUZZ_CHECK(first == second);
    }
    return 0;
}
