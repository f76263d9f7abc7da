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
#include "tmon/transport/asio_transport.hpp"

namespace tmon {

template <>
inline constexpr std::string_view storage_name_v<memory_store> = "memory";
using memory_server = server<memory_store>;

template <>
inline constexpr std::string_view storage_name_v<jsonl_store> = "jsonl";
using jsonl_server = server<jsonl_store>;

}  // namespace tmon
