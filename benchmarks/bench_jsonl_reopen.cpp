// Reopening a jsonl_store: how fast its files replay into the in-memory index,
// and at what peak memory, against baselines on the same files in the same run
// (all in the page cache):
//   raw read         read(2) of every file in 1 MiB blocks, newlines counted: the I/O floor
//   getline + parse  std::getline and RapidJSON (full precision) per line, nothing kept:
//                    what a hand-written reader of these files costs before it keeps anything
// Each reopen runs in a fresh process (this binary with --reopen DIR), so the
// peak RSS it reports is the reopen's own.
// Usage: bench_jsonl_reopen [--points N] [--keys K] [--repeat R]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "common/bench_util.hpp"
#include "tmon/storage/jsonl_store.hpp"

using namespace tmon;
using tmon::bench::stopwatch;

namespace {

std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(e.path());
    return out;
}

void write_store(const std::string& dir, long long points, int keys) {
    jsonl_store s{{dir}};
    auto run = s.create_run([] {
        new_run n;
        n.name = "bench";
        n.id = "run_bench";
        return n;
    }());
    std::vector<metric_point> batch;
    for (long long i = 0; i < points; ++i) {
        metric_point p;
        p.key = fmt::format("metric_{}", i % keys);
        p.step = i / keys;
        p.time = 1.7e9 + static_cast<double>(p.step) * 0.01;
        p.value = 1.0 / static_cast<double>(i + 1);
        batch.push_back(std::move(p));
        if (batch.size() == 1000) s.append_metrics(run.id, batch), batch.clear();
    }
    if (!batch.empty()) s.append_metrics(run.id, batch);
}

// In the child: open the store, print "<ms> <peak RSS KiB> <points read back>".
int reopen_child(const std::string& dir) {
    set_log_level(log_level::warn);
    stopwatch t;
    jsonl_store s{{dir}};
    double ms = t.millis();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::size_t points = 0;
    for (const auto& key : s.metric_keys("run_bench")) {
        metric_query q;
        q.run_id = "run_bench";
        q.key = key;
        points += s.query_metrics(q).points.size();
    }
    std::printf("%.3f %ld %zu\n", ms, ru.ru_maxrss, points);
    return 0;
}

struct reopen_result {
    double ms = 0;
    long rss_kib = 0;
    std::size_t points = 0;
};

reopen_result reopen_in_child(const std::string& self, const std::string& dir) {
    reopen_result r;
    std::string cmd = fmt::format("'{}' --reopen '{}'", self, dir);
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p || std::fscanf(p, "%lf %ld %zu", &r.ms, &r.rss_kib, &r.points) != 3) r = {};
    if (p) ::pclose(p);
    return r;
}

double raw_read_ms(const std::vector<std::filesystem::path>& files, std::size_t& lines) {
    std::vector<char> buf(1 << 20);
    lines = 0;
    stopwatch t;
    for (const auto& f : files) {
        int fd = ::open(f.c_str(), O_RDONLY);
        for (ssize_t n; (n = ::read(fd, buf.data(), buf.size())) > 0;)
            lines += static_cast<std::size_t>(std::count(buf.data(), buf.data() + n, '\n'));
        ::close(fd);
    }
    return t.millis();
}

double getline_parse_ms(const std::vector<std::filesystem::path>& files, std::size_t& numbers) {
    numbers = 0;
    stopwatch t;
    for (const auto& f : files) {
        std::ifstream in(f);
        for (std::string line; std::getline(in, line);) {
            rapidjson::Document doc;
            doc.Parse<rapidjson::kParseFullPrecisionFlag>(line.data(), line.size());
            if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("values") && doc["values"].IsArray())
                numbers += doc["values"].Size();
        }
    }
    return t.millis();
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--reopen") == 0) return reopen_child(argv[i + 1]);
    long long points = bench::arg(argc, argv, "--points", 4'000'000);
    int keys = static_cast<int>(bench::arg(argc, argv, "--keys", 4));
    int repeats = static_cast<int>(bench::arg(argc, argv, "--repeat", 5));
    const std::string self = std::filesystem::canonical("/proc/self/exe").string();

    bench::scratch_dir scratch;
    const std::string dir = (scratch / "store").string();
    write_store(dir, points, keys);
    auto files = files_under(dir);
    std::uintmax_t bytes = 0;
    for (const auto& f : files) bytes += std::filesystem::file_size(f);
    std::printf("jsonl reopen: %lld points, %d keys, %.1f MB in %zu files; best of %d\n\n", points, keys,
                static_cast<double>(bytes) / 1e6, files.size(), repeats);

    // Interleaved, best of each: on a shared machine any one pass can land on a busy moment.
    std::vector<double> reopen_runs, raw_runs, parse_runs;
    long rss = 0;
    bool complete = true;
    std::size_t lines = 0, numbers = 0;
    for (int r = 0; r < repeats; ++r) {
        auto got = reopen_in_child(self, dir);
        complete = complete && got.points == static_cast<std::size_t>(points);
        reopen_runs.push_back(got.ms);
        rss = std::max(rss, got.rss_kib);
        raw_runs.push_back(raw_read_ms(files, lines));
        parse_runs.push_back(getline_parse_ms(files, numbers));
    }
    double reopen = *std::min_element(reopen_runs.begin(), reopen_runs.end());
    double raw = *std::min_element(raw_runs.begin(), raw_runs.end());
    double parse = *std::min_element(parse_runs.begin(), parse_runs.end());
    auto rate = [&](double ms) { return static_cast<double>(points) / (ms / 1000.0); };
    std::printf("%-34s %9.0f ms %12.0f pts/s   peak RSS %.0f MB (files %.0f MB)\n", "jsonl_store reopen", reopen,
                rate(reopen), static_cast<double>(rss) / 1024.0, static_cast<double>(bytes) / 1e6);
    std::printf("%-34s %9.0f ms %12.0f pts/s   reopen at %.2fx its speed (%zu lines)\n", "raw read, lines counted", raw,
                rate(raw), raw / reopen, lines);
    std::printf("%-34s %9.0f ms %12.0f pts/s   reopen at %.2fx its speed (%zu values)\n",
                "getline + RapidJSON, kept nothing", parse, rate(parse), parse / reopen, numbers);
    std::printf("\nevery point read back after reopening: %s\n", complete ? "yes" : "NO");
    return complete ? 0 : 1;
}
