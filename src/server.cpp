// tmon::compiled: the templates TMON_SEPARATE_COMPILATION leaves to this library.
#include "tmon/server.hpp"
#include "tmon/server/server_impl.hpp"

namespace tmon {
TMON_SERVER_TEMPLATES(, sqlite_store)
}  // namespace tmon
