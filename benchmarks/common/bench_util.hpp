#pragma once
// Small helpers shared by the storage benchmarks: a stopwatch, medians,
// `--name value` arguments and a scratch directory removed on exit.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <stdlib.h>

namespace tmon::bench {

class stopwatch {
public:
    stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    double millis() const { return seconds() * 1000.0; }

private:
    std::chrono::steady_clock::time_point start_;
};

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// `--name 123` anywhere in argv, else the fallback.
inline long long arg(int argc, char** argv, std::string_view name, long long fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (name == argv[i]) return std::atoll(argv[i + 1]);
    return fallback;
}

class scratch_dir {
public:
    scratch_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tmon-bench-XXXXXX").string();
        if (mkdtemp(tmpl.data())) path_ = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace tmon::bench
