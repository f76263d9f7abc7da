#pragma once
// NVML loaded at run time with dlopen, so tmon builds without CUDA and runs on
// machines without a GPU. Only the handful of entry points the sampler uses are
// declared here, with the ABI documented in nvml.h.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <dlfcn.h>

#include "tmon/core/log.hpp"
#include "tmon/core/types.hpp"

namespace tmon::detail {

namespace nvml_abi {
using result = int;  // nvmlReturn_t
inline constexpr result success = 0;
inline constexpr result not_supported = 3;
using device = struct opaque_device*;  // nvmlDevice_t
struct utilization {
    unsigned int gpu, memory;
};
struct memory {
    unsigned long long total, free, used;
};
inline constexpr int temperature_gpu = 0;  // NVML_TEMPERATURE_GPU

using init_fn = result (*)();
using shutdown_fn = result (*)();
using error_string_fn = const char* (*)(result);
using device_count_fn = result (*)(unsigned int*);
using handle_by_index_fn = result (*)(unsigned int, device*);
using name_fn = result (*)(device, char*, unsigned int);
using utilization_fn = result (*)(device, utilization*);
using memory_fn = result (*)(device, memory*);
using temperature_fn = result (*)(device, int, unsigned int*);
using power_fn = result (*)(device, unsigned int*);
}  // namespace nvml_abi

// Owns the library handle and NVML's init; any failure leaves it "unavailable"
// with one log line, and read_gpus() then returns an empty list.
class nvml_library {
public:
    explicit nvml_library(const char* soname = "libnvidia-ml.so.1") { open(soname); }
    nvml_library(const nvml_library&) = delete;
    nvml_library& operator=(const nvml_library&) = delete;
    ~nvml_library() { close(); }

    bool available() const noexcept { return initialized_; }

    // Empty on any error; the first error is logged once and NVML is closed so
    // a broken driver is not asked again every second.
    std::vector<gpu_sample> read_gpus() {
        std::vector<gpu_sample> gpus;
        if (!initialized_) return gpus;
        unsigned int count = 0;
        if (!check(device_count_(&count), "nvmlDeviceGetCount_v2")) return {};
        gpus.reserve(count);
        for (unsigned int i = 0; i < count; ++i) {
            auto g = read_gpu(i);
            if (!g) return {};
            gpus.push_back(std::move(*g));
        }
        return gpus;
    }

private:
    template <class F>
    bool bind(F& fn, const char* symbol) {
        fn = reinterpret_cast<F>(::dlsym(handle_, symbol));
        if (!fn) give_up("NVML has no symbol {}", symbol);
        return fn != nullptr;
    }

    void open(const char* soname) {
        handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!handle_) {
            log(log_level::info, "sampler", "no GPU metrics: {} not loadable ({})", soname, dl_error());
            return;
        }
        bool bound = bind(init_, "nvmlInit_v2") && bind(shutdown_, "nvmlShutdown") &&
                     bind(device_count_, "nvmlDeviceGetCount_v2") &&
                     bind(handle_by_index_, "nvmlDeviceGetHandleByIndex_v2") && bind(name_, "nvmlDeviceGetName") &&
                     bind(utilization_, "nvmlDeviceGetUtilizationRates") && bind(memory_, "nvmlDeviceGetMemoryInfo") &&
                     bind(temperature_, "nvmlDeviceGetTemperature") && bind(power_, "nvmlDeviceGetPowerUsage");
        if (!bound) return;
        error_string_ = reinterpret_cast<nvml_abi::error_string_fn>(::dlsym(handle_, "nvmlErrorString"));
        nvml_abi::result r = init_();
        if (r != nvml_abi::success) {
            give_up("nvmlInit_v2 failed: {}", describe(r));
            return;
        }
        initialized_ = true;
    }

    void close() noexcept {
        if (initialized_ && shutdown_) shutdown_();
        initialized_ = false;
        if (handle_) ::dlclose(handle_);
        handle_ = nullptr;
    }

    std::optional<gpu_sample> read_gpu(unsigned int index) {
        nvml_abi::device dev = nullptr;
        if (!check(handle_by_index_(index, &dev), "nvmlDeviceGetHandleByIndex_v2")) return std::nullopt;
        gpu_sample g;
        g.index = static_cast<int>(index);
        char name[96] = {};
        if (!check(name_(dev, name, sizeof name), "nvmlDeviceGetName")) return std::nullopt;
        g.name = name;
        nvml_abi::utilization util{};
        if (!check(utilization_(dev, &util), "nvmlDeviceGetUtilizationRates")) return std::nullopt;
        g.utilization = util.gpu;
        nvml_abi::memory mem{};
        if (!check(memory_(dev, &mem), "nvmlDeviceGetMemoryInfo")) return std::nullopt;
        g.memory_used = mem.used;
        g.memory_total = mem.total;
        // Some boards report no temperature or power; that is not a failure.
        unsigned int celsius = 0, milliwatts = 0;
        if (!check_optional(temperature_(dev, nvml_abi::temperature_gpu, &celsius), "nvmlDeviceGetTemperature"))
            return std::nullopt;
        if (!check_optional(power_(dev, &milliwatts), "nvmlDeviceGetPowerUsage")) return std::nullopt;
        g.temperature = celsius;
        g.power = milliwatts / 1000.0;
        return g;
    }

    bool check(nvml_abi::result r, const char* call) {
        if (r == nvml_abi::success) return true;
        give_up("{} failed: {}", call, describe(r));
        return false;
    }
    bool check_optional(nvml_abi::result r, const char* call) { return r == nvml_abi::not_supported || check(r, call); }

    template <class... Args>
    void give_up(fmt::format_string<Args...> f, Args&&... args) {
        log(log_level::warn, "sampler", "no GPU metrics: {}", fmt::format(f, std::forward<Args>(args)...));
        close();
    }

    std::string describe(nvml_abi::result r) const {
        if (error_string_) return fmt::format("{} (code {})", error_string_(r), r);
        return fmt::format("code {}", r);
    }

    static const char* dl_error() noexcept {
        const char* e = ::dlerror();
        return e ? e : "unknown error";
    }

    void* handle_ = nullptr;
    bool initialized_ = false;
    nvml_abi::init_fn init_ = nullptr;
    nvml_abi::shutdown_fn shutdown_ = nullptr;
    nvml_abi::error_string_fn error_string_ = nullptr;
    nvml_abi::device_count_fn device_count_ = nullptr;
    nvml_abi::handle_by_index_fn handle_by_index_ = nullptr;
    nvml_abi::name_fn name_ = nullptr;
    nvml_abi::utilization_fn utilization_ = nullptr;
    nvml_abi::memory_fn memory_ = nullptr;
    nvml_abi::temperature_fn temperature_ = nullptr;
    nvml_abi::power_fn power_ = nullptr;
};

}  // namespace tmon::detail
