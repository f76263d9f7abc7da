#pragma once
// The full server: REST + WebSocket + dashboard over a store of your choice.
//
//   #include <tmon/server.hpp>
//   tmon::server<tmon::sqlite_store> srv{{.db_path = "runs.db", .port = 8000}};
//
// Pulls in Asio, RapidJSON and SQLite (link tmon::server); a server over
// memory_store or jsonl_store without SQLite includes tmon/server_core.hpp
// (tmon::server_core), and a training loop that only reports elsewhere
// includes tmon/tmon.hpp or tmon/client.hpp instead.
#include "tmon/server_core.hpp"
#include "tmon/storage/sqlite_store.hpp"

namespace tmon {

template <>
inline constexpr std::string_view storage_name_v<sqlite_store> = "sqlite";
using sqlite_server = server<sqlite_store>;

}  // namespace tmon

// Separate compilation: server<sqlite_store> is compiled once, in src/server.cpp.
#if defined(TMON_SEPARATE_COMPILATION)
namespace tmon {
TMON_SERVER_TEMPLATES(extern, sqlite_store)
}  // namespace tmon
#endif
