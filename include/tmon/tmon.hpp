#pragma once
// tmon: live monitoring for ML training, header-only.
//
// This umbrella is the light part: the core model, the in-memory store, the
// monitor (the training loop's hot path), the samplers and the policy
// concepts. It needs fmt and the standard library only. Add:
//   #include <tmon/storage/sqlite_store.hpp>   // SQLite storage
//   #include <tmon/storage/jsonl_store.hpp>    // JSON-lines storage (RapidJSON)
//   #include <tmon/server.hpp>                 // REST + WebSocket + dashboard (Asio)
#include "tmon/fwd.hpp"
#include "tmon/version.hpp"

#include "tmon/core/clock.hpp"
#include "tmon/core/downsample.hpp"
#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
#include "tmon/core/status.hpp"
#include "tmon/core/types.hpp"

#include "tmon/storage/memory_store.hpp"
#include "tmon/storage/storage_concept.hpp"

#include "tmon/sampler/no_sampler.hpp"
#include "tmon/sampler/sampler_concept.hpp"
#include "tmon/sampler/system_sampler.hpp"

#include "tmon/transport/no_transport.hpp"
#include "tmon/transport/transport_concept.hpp"

#include "tmon/monitor/monitor.hpp"
#include "tmon/monitor/monitor_options.hpp"
#include "tmon/monitor/recorder_concept.hpp"
