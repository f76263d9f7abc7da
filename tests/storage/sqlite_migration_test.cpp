// A database file written before remote trainers existed (schema 1) opens,
// keeps its runs and events, and takes per-run samples and client ids.
#include <catch2/catch.hpp>

#include "storage/store_fixture.hpp"
#include "tmon/storage/detail/sqlite_schema.hpp"

using namespace tmon;
using namespace tmon::test;

TEST_CASE("a schema 1 sqlite file is migrated in place and keeps its records", "[storage][sqlite][remote]") {
    temp_dir dir;
    std::string path = (dir.path() / "old.db").string();
    {
        detail::sqlite_connection db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        db.exec(detail::sqlite_migration_v1);
        db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);");
        db.exec(
            "INSERT INTO runs VALUES ('run_old', 'old run', 'running', '{}', '[]', '', 10, NULL, 10, 20, NULL, NULL);"
            "INSERT INTO events (run_id, time, type, message, data_json) VALUES ('run_old', 10, 'run_created', "
            "'run ''old run'' created', '{}');");
    }
    sqlite_store::options o;
    o.path = path;
    {
        sqlite_store s(o);
        auto r = s.get_run("run_old");
        REQUIRE(r);
        CHECK(r->name == "old run");
        event_query q;
        q.run_id = "run_old";
        auto evs = s.list_events(q);
        REQUIRE(evs.size() == 1);
        CHECK(evs[0].client_id.empty());

        event e;
        e.run_id = "run_old";
        e.type = "warning";
        e.client_id = "c-1";
        CHECK(s.append_event(e).id == s.append_event(e).id);
        system_sample x;
        x.run_id = "run_old";
        x.host = "node-1";
        x.time = 30;
        s.append_system(x);
        s.append_system(x);
    }
    sqlite_store s(o);  // reopening a migrated file migrates nothing twice
    system_query q;
    q.run_id = "run_old";
    CHECK(s.system_history(q).size() == 1);
    event_query eq;
    eq.run_id = "run_old";
    CHECK(s.list_events(eq).size() == 2);
    detail::sqlite_connection db(path, SQLITE_OPEN_READONLY);
    auto v = db.prepare("SELECT version FROM schema_version");
    REQUIRE(v.step());
    CHECK(v.int64(0) == detail::sqlite_schema_version);
}
