#pragma once
// The server without SQLite: REST + WebSocket + dashboard over memory_store or
// jsonl_store (link tmon::server_core: Asio, RapidJSON, zlib).
//
//   #include <tmon/server_core.hpp>
//   tmon::server<tmon::memory_store> srv{{.port = 8000}};
//
// tmon/server.hpp is this plus sqlite_store.
#include "tmon/sampler/no_sampler.hpp"
#include "tmon/sampler/system_sampler.hpp"
#include "tmon/server/server.hpp"
#include "tmon/storage/jsonl_store.hpp"
#include "tmon/storage/memory_store.hpp"

namespace tmon {

template <>
inline constexpr std::string_view storage_name_v<memory_store> = "memory";
using memory_server = server<memory_store>;

template <>
inline constexpr std::string_view storage_name_v<jsonl_store> = "jsonl";
using jsonl_server = server<jsonl_store>;

}  // namespace tmon

// Separate compilation: see TMON_MEMORY_STORE_TEMPLATES (storage/memory_store.hpp);
// defined in src/server_core.cpp. The server over Store, its recorder and the
// monitor srv.start_run() returns; what the server holds (detail::server_impl)
// is defined only where server_impl.hpp is included, so it needs no extern.
#define TMON_SERVER_TEMPLATES(declare, Store)                                        \
    declare template class server_recorder<Store>;                                   \
    declare template class detail::monitor_core<server_recorder<Store>, no_sampler>; \
    declare template class monitor<server_recorder<Store>, no_sampler>;              \
    declare template class server<Store, asio_transport, system_sampler>;
#if defined(TMON_SEPARATE_COMPILATION)
namespace tmon {
TMON_SERVER_TEMPLATES(extern, memory_store)
TMON_SERVER_TEMPLATES(extern, jsonl_store)
}  // namespace tmon
#endif
