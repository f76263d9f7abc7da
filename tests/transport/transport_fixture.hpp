#pragma once
// What the tests of a real asio_transport share besides the client: the config
// of the transport under test, and waiting for what its io threads do.
#include <chrono>
#include <thread>

#include "tmon/transport/transport_concept.hpp"

namespace tmon::test {

// 127.0.0.1 on a port the OS picks, two io threads so handlers can overlap.
inline transport_config loopback_config() {
    transport_config c;
    c.port = 0;
    c.threads = 2;
    return c;
}

// Polls `done` every 5 ms for up to 10 s. The caller then checks the outcome,
// so a transport that never gets there fails the test instead of hanging it.
template <class Done>
void wait_until(Done done) {
    for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace tmon::test
