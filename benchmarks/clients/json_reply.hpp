// A REST reply a benchmark expects to be 200 with a JSON object, parsed; anything else throws
// with the reply's start, so a failed run says why.
#pragma once

#include "raw_http.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <stdexcept>

namespace bench {

inline rapidjson::Document parse_json_reply(const http_reply& reply, const char* what) {
    rapidjson::Document doc;
    doc.Parse(reply.body.data(), reply.body.size());
    if (reply.status != 200 || doc.HasParseError() || !doc.IsObject())
        throw std::runtime_error(fmt::format("{} answered {}: {}", what, reply.status, reply.body.substr(0, 300)));
    return doc;
}

}  // namespace bench
