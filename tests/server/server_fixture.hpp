#pragma once
// A real server on 127.0.0.1 port 0 over a real store (SQLite in a temp dir),
// and a client connected to it.
#include <string>

#include <catch2/catch.hpp>

#include "server/test_client.hpp"
#include "support/stores.hpp"
#include "support/temp_dir.hpp"
#include "tmon/server.hpp"

namespace tmon::test {

template <class Store, class Sampler = no_sampler>
struct served {
    temp_dir dir;
    server<Store, asio_transport, Sampler> srv;
    api_client api;

    explicit served(server_config c = {}) : srv(configure(std::move(c), dir)), api(srv.port(), srv.config().token) {}

    static server_config configure(server_config c, const temp_dir& d) {
        c.port = 0;
        c.db_path = d.file("tmon.db");
        return c;
    }

    std::string create_run(std::string_view name, std::string_view extra = "") {
        auto r = api.post("/api/runs", fmt::format(R"({{"name":"{}"{}}})", name, extra));
        REQUIRE(r.status == 200);
        return str(r["id"]);
    }

    api_reply post_metrics(std::string_view run_id, std::string_view body) {
        return api.post(fmt::format("/api/runs/{}/metrics", run_id), body);
    }
};

}  // namespace tmon::test
