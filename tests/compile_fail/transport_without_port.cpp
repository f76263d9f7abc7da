// A transport without port().
// expect: Transport must provide: std::uint16_t port() const
#include <tmon/server.hpp>

struct my_transport {
    void start(const tmon::transport_config&, tmon::app_handlers) {}
    void stop() {}
};

int main() { tmon::server<tmon::memory_store, my_transport> srv{tmon::server_config{}}; }
