#pragma once
// RFC 6455 requires closing with 1007 on invalid text; the check itself is
// tmon's one strict UTF-8 validator (tmon/detail/utf8.hpp).
#include "tmon/detail/utf8.hpp"

namespace tmon::ws {

using tmon::detail::is_valid_utf8;

}  // namespace tmon::ws
