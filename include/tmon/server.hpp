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
#include "tmon/storage/jsonl_store.hpp"
#include "tmon/storage/memory_store.hpp"
#include "tmon/storage/sqlite_store.hpp"
#include "tmon/transport/asio_transport.hpp"

namespace tmon {

template <>
inline constexpr std::string_view storage_name_v<memory_store> = "memory";
using memory_server = server<memory_store>;

template <>
inline constexpr std::string_view storage_name_v<sqlite_store> = "sqlite";
using sqlite_server = server<sqlite_store>;

template <>
inline constexpr std::string_view storage_name_v<jsonl_store> = "jsonl";
using jsonl_server = server<jsonl_store>;

}  // namespace tmon
