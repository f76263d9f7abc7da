#pragma once
// For a binary that only stores: nothing listens, nothing is served.
#include <cstdint>

#include "tmon/transport/transport_concept.hpp"

namespace tmon {

class no_transport {
public:
    void start(const transport_config&, app_handlers) {}
    void stop() {}
    std::uint16_t port() const noexcept { return 0; }
};

static_assert(tmon::assert_transport<no_transport>());

}  // namespace tmon
