// A sampler without `static constexpr bool enabled`.
// expect: Sampler must provide: static constexpr bool enabled
#include <tmon/tmon.hpp>

struct my_sampler {
    tmon::system_sample sample() { return {}; }
};

int main() {
    tmon::memory_store store;
    tmon::monitor<tmon::memory_store, my_sampler> mon{store, {.run_name = "r"}};
}
