#pragma once
// Report to a tmon-server from another process, node or rank:
//
//   #include <tmon/client.hpp>
//   tmon::http_client client;                        // TMON_URL, TMON_TOKEN, TMON_RUN_ID
//   tmon::monitor mon{client, {.run_name = "resnet"}};
//   mon.log(step, {{"loss", loss}});
//
// Needs Asio, RapidJSON and zlib (link tmon::client); no SQLite.
#include "tmon/client/client_options.hpp"
#include "tmon/client/http_client.hpp"
#include "tmon/tmon.hpp"

namespace tmon {
// The remote monitor with the machine's own sampler, which most trainers want.
template <class Sampler = system_sampler>
using remote_monitor = monitor<http_client, Sampler>;
}  // namespace tmon

// Separate compilation: see TMON_MEMORY_STORE_TEMPLATES (storage/memory_store.hpp);
// defined in src/client.cpp.
#define TMON_CLIENT_TEMPLATES(declare)                                        \
    declare template class detail::monitor_core<http_client, no_sampler>;     \
    declare template class monitor<http_client, no_sampler>;                  \
    declare template class detail::monitor_core<http_client, system_sampler>; \
    declare template class monitor<http_client, system_sampler>;
#if defined(TMON_SEPARATE_COMPILATION)
namespace tmon {
TMON_CLIENT_TEMPLATES(extern)
}  // namespace tmon
#endif
