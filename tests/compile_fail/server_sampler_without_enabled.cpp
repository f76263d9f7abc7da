// The same sampler mistake, given to the server.
// expect: Sampler must provide: static constexpr bool enabled
#include <tmon/server.hpp>

struct my_sampler {
    tmon::system_sample sample() { return {}; }
};

int main() { tmon::server<tmon::memory_store, tmon::asio_transport, my_sampler> srv{tmon::server_config{}}; }
