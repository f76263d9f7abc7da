#pragma once
// The full server: REST + WebSocket + dashboard over a store of your choice.
//
//   #include <tmon/server.hpp>
//   tmon::server<tmon::sqlite_store> srv{{.db_path = "runs.db", .port = 8000}};
//
// Pulls in Asio, RapidJSON and SQLite; a training loop that only reports
// elsewhere includes tmon/tmon.hpp instead.
#include "tmon/sampler/no_sampler.hpp"
#include "tmon/sampler/system_sampler.hpp"
#include "tmon/server/server.hpp"
#include "tmon/storage/memory_store.hpp"
#include "tmon/transport/asio_transport.hpp"
#if __has_include("tmon/storage/sqlite_store.hpp")
#include "tmon/storage/sqlite_store.hpp"
#define TMON_SERVER_HAS_SQLITE 1
#endif
#if __has_include("tmon/storage/jsonl_store.hpp")
#include "tmon/storage/jsonl_store.hpp"
#define TMON_SERVER_HAS_JSONL 1
#endif

namespace tmon {

template <>
inline constexpr std::string_view storage_name_v<memory_store> = "memory";
using memory_server = server<memory_store>;

#ifdef TMON_SERVER_HAS_SQLITE
template <>
inline constexpr std::string_view storage_name_v<sqlite_store> = "sqlite";
using sqlite_server = server<sqlite_store>;
#endif

#ifdef TMON_SERVER_HAS_JSONL
template <>
inline constexpr std::string_view storage_name_v<jsonl_store> = "jsonl";
using jsonl_server = server<jsonl_store>;
#endif

}  // namespace tmon
