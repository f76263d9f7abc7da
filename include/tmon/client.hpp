#pragma once
// Report to a tmon-server from another process, node or rank:
//
//   #include <tmon/client.hpp>
//   tmon::http_client client;                        // TMON_URL, TMON_TOKEN, TMON_RUN_ID
//   tmon::monitor mon{client, {.run_name = "resnet"}};
//   mon.log(step, {{"loss", loss}});
//
// Needs Asio, RapidJSON and zlib (link tmon::client); no SQLite.
#include "tmon/tmon.hpp"
#include "tmon/client/client_options.hpp"
#include "tmon/client/http_client.hpp"

namespace tmon {
// The remote monitor with the machine's own sampler, which most trainers want.
template <class Sampler = system_sampler>
using remote_monitor = monitor<http_client, Sampler>;
}  // namespace tmon
