// Full-run exports are streamed: the same bytes as building the whole body
// at once, while the server holds about one window of the run, also when the
// client stops reading.
#include <sys/ioctl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "server/server_fixture.hpp"
#include "transport/transport_fixture.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TMON_TEST_ASAN 1
#elif defined(__SANITIZE_THREAD__)
#define TMON_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TMON_TEST_ASAN 1
#elif __has_feature(thread_sanitizer)
#define TMON_TEST_TSAN 1
#endif
#endif
#ifdef TMON_TEST_ASAN
// From the ASan runtime (sanitizer/allocator_interface.h, which not every compiler installs).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

using namespace tmon;
using namespace tmon::test;
using namespace std::chrono_literals;

namespace {

// The export as it was built before streaming: every series read whole, the
// rows sorted by step at once (stable: keys keep their order within a step).
template <class Store>
std::string whole_export(Store& store, const run_info& run, std::string_view format) {
    struct row {
        step_t step;
        double time;
        const std::string* key;
        double value;
    };
    std::vector<metric_series> all;
    for (auto& key : store.metric_keys(run.id)) {
        metric_query q;
        q.run_id = run.id;
        q.key = key;
        auto series = store.query_metrics(q);
        series.key = std::move(key);
        all.push_back(std::move(series));
    }
    std::vector<row> rows;
    for (const auto& series : all)
        for (const auto& p : series.points) rows.push_back({p.step, p.time, &series.key, p.value});
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
    auto write_row = [](json_out::json_writer& w, const row& r) {
        w.begin_object()
            .field("step", static_cast<std::int64_t>(r.step))
            .field("timestamp", r.time)
            .field("key", *r.key)
            .field("value", r.value)
            .end_object();
    };
    std::string out;
    if (format == "csv") {
        out = "step,timestamp,key,value\n";
        for (const auto& r : rows) {
            fmt::format_to(std::back_inserter(out), "{},{},", r.step, r.time);
            detail::append_csv_field(out, *r.key);
            out.push_back(',');
            tmon::detail::append_json_number(out, r.value);
            out.push_back('\n');
        }
    } else if (format == "jsonl") {
        for (const auto& r : rows) {
            json_out::json_writer w(out);
            write_row(w, r);
            out.push_back('\n');
        }
    } else {
        json_out::json_writer w(out);
        w.begin_object().field("run_id", run.id).key("run");
        json_out::write_run(w, run);
        w.key("points").begin_array();
        for (const auto& r : rows) write_row(w, r);
        w.end_array().end_object();
    }
    return out;
}

// FNV-1a over the bytes, so a 200 MB body need not be kept to be compared.
struct digest {
    std::uint64_t hash = 14695981039346656037ull;
    std::uint64_t size = 0;
    void add(std::string_view s) {
        for (unsigned char c : s) hash = (hash ^ c) * 1099511628211ull;
        size += s.size();
    }
    bool operator==(const digest&) const = default;
};

digest digest_of(std::string_view s) {
    digest d;
    d.add(s);
    return d;
}

// Memory the process uses now: live heap under ASan (its quarantine keeps freed
// blocks resident, so RSS would count what was freed), resident pages otherwise.
std::int64_t memory_in_use() {
#ifdef TMON_TEST_ASAN
    return static_cast<std::int64_t>(__sanitizer_get_current_allocated_bytes());
#else
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmRSS:")) return std::stoll(line.substr(6)) * 1024;
    return 0;
#endif
}

[[maybe_unused]] constexpr std::int64_t mib = 1024 * 1024;  // unused under TSan

// GET of an export on its own connection, read piece by piece; `on_piece` sees each.
template <class OnPiece>
digest stream_export(std::uint16_t port, const std::string& path, OnPiece on_piece) {
    blocking_client c(port);
    REQUIRE(c.send(fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path)));
    auto head = c.read_response();
    REQUIRE(head);
    REQUIRE(head->status == 200);
    CHECK(head->header("Transfer-Encoding") == "chunked");
    CHECK(head->header("Content-Length").empty());
    digest d;
    bool complete = c.read_chunked_body([&](std::string_view piece) {
        d.add(piece);
        on_piece();
    });
    REQUIRE(complete);
    return d;
}

// A run whose steps are everything a window must get right: below 0, gaps of
// every size, steps shared by many keys, keys with one point, a key to quote.
template <class Store>
std::string awkward_run(Store& store) {
    new_run nr;
    nr.name = "awkward";
    nr.config_json = R"({"lr":0.1})";
    auto run = store.create_run(nr);
    std::vector<metric_point> batch;
    auto add = [&](std::string key, step_t step, double value) {
        batch.push_back(metric_point{std::move(key), step, 1.7e9 + static_cast<double>(step % 100000) * 0.25, value});
    };
    for (step_t s = -50; s < 0; ++s) add("warmup", s, static_cast<double>(s));
    for (step_t s = 0; s < 40000; ++s) add("loss", s, 1.0 / static_cast<double>(s + 1));
    for (step_t s = 0; s < 40000; s += 7) add("a,\"b\"", s, static_cast<double>(s) * 0.5);
    for (int k = 0; k < 300; ++k) add(fmt::format("layer{:03}/norm", k), 1000 + k % 5, k * 0.125);
    for (step_t s = 1'000'000'000; s < 1'000'000'000 + 3000; s += 3) add("loss", s, 0.01);
    add("loss", step_t{1} << 40, 0.001);
    add("late", (step_t{1} << 40) + 1, 1e-300);
    for (std::size_t i = 0; i < batch.size(); i += 10000) {
        auto n = std::min<std::size_t>(10000, batch.size() - i);
        store.append_metrics(run.id, std::span<const metric_point>(batch.data() + i, n));
    }
    return run.id;
}

}  // namespace

TEMPLATE_TEST_CASE("a streamed export has the bytes of the whole export, whatever the steps", "[server][exports]",
                   TMON_TEST_STORES) {
    server_config config;
    config.liveness.stale_after_s = 1e9;  // no run_stale event may touch the run mid-test
    served<TestType> s(config);
    std::string id = awkward_run(s.srv.store());
    std::string empty_id = s.create_run("no metrics");
    for (std::string_view format : {"csv", "json", "jsonl"}) {
        INFO(format);
        for (const auto& run_id : {id, empty_id}) {
            auto run = s.srv.store().get_run(run_id);
            REQUIRE(run);
            std::string expected = whole_export(s.srv.store(), *run, format);
            auto got = s.api.get(fmt::format("/api/runs/{}/export?format={}", run_id, format));
            REQUIRE(got.status == 200);
            CHECK(got.header("Transfer-Encoding") == "chunked");
            CHECK(got.body.size() == expected.size());
            CHECK(got.body == expected);
        }
    }
}

TEST_CASE("an export of 2 M points is streamed byte for byte while the server's memory stays bounded",
          "[server][exports][memory]") {
#ifdef TMON_TEST_TSAN
    constexpr step_t steps = 100'000;  // TSan: the bytes only; its shadow memory makes RSS meaningless
#else
    constexpr step_t steps = 1'000'000;
#endif
    server_config config;
    config.liveness.stale_after_s = 1e9;  // no run_stale event may touch the run while the test runs
    served<memory_store> s(config);
    std::string id = s.create_run("long");
    {
        // 4 keys at different rates: 1 + 1/2 + 1/4 + 1/4 of the steps = 2 M points.
        std::vector<metric_point> batch;
        for (step_t base = 0; base < steps; base += 20000) {
            batch.clear();
            for (step_t st = base; st < std::min(steps, base + 20000); ++st) {
                double t = 1.7e9 + static_cast<double>(st) * 0.01;
                batch.push_back({"train/loss", st, t, 1.0 / static_cast<double>(st + 1)});
                if (st % 2 == 0) batch.push_back({"train/acc", st, t, static_cast<double>(st) / steps});
                if (st % 4 == 0) batch.push_back({"lr", st, t, 0.1 * static_cast<double>(steps - st) / steps});
                if (st % 4 == 1) batch.push_back({"a,b", st, t, static_cast<double>(st)});
            }
            s.srv.store().append_metrics(id, batch);
        }
    }
    for (std::string_view format : {"csv", "jsonl", "json"}) {
        INFO(format);
        auto run = s.srv.store().get_run(id);
        REQUIRE(run);
        digest expected = digest_of(whole_export(s.srv.store(), *run, format));  // freed before the baseline
        const std::int64_t before = memory_in_use();
        std::int64_t peak = before;
        std::size_t pieces = 0;
        digest got = stream_export(s.srv.port(), fmt::format("/api/runs/{}/export?format={}", id, format), [&] {
            if (++pieces % 16 == 0) peak = std::max(peak, memory_in_use());
        });
        peak = std::max(peak, memory_in_use());
        CHECK(got == expected);
#ifndef TMON_TEST_TSAN
        // Built whole, each of these bodies alone would be over the bound.
        CHECK(expected.size > 64 * static_cast<std::uint64_t>(mib));
        INFO("grew by " << (peak - before) / mib << " MiB while sending " << expected.size / mib << " MiB");
        CHECK(peak - before < 64 * mib);
#endif
    }
}

TEST_CASE("a client that stops reading an export holds the server to one piece, and gives its slot back on leaving",
          "[server][exports][memory]") {
    server_config c;
    c.requests.concurrent_exports = 1;
    c.liveness.stale_after_s = 1e9;
    served<memory_store> s(c);
    std::string id = s.create_run("long");
    std::vector<metric_point> batch;
    constexpr step_t steps = 400'000;
    for (step_t st = 0; st < steps; ++st)
        batch.push_back({"loss", st, 1.7e9 + static_cast<double>(st), 1.0 / static_cast<double>(st + 1)});
    s.srv.store().append_metrics(id, batch);
    batch = {};
    const std::string path = fmt::format("/api/runs/{}/export?format=json", id);

    [[maybe_unused]] const std::int64_t before = memory_in_use();  // unused under TSan
    auto stalled = std::make_unique<blocking_client>(s.srv.port(), 64 * 1024);
    REQUIRE(stalled->send(fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path)));
    auto head = stalled->read_response();
    REQUIRE(head);
    REQUIRE(head->status == 200);
    // Not reading from here on: wait until what reaches the socket stops growing.
    int unread = -1, same = 0;
    for (int i = 0; i < 600 && same < 10; ++i) {
        std::this_thread::sleep_for(100ms);
        int now = 0;
        ::ioctl(stalled->fd(), FIONREAD, &now);
        same = now == unread ? same + 1 : 0;
        unread = now;
    }
    CHECK(same >= 10);
#ifndef TMON_TEST_TSAN
    const std::int64_t held = memory_in_use() - before;
    INFO("held " << held / 1024 << " KiB for a client that stopped reading a ~40 MB export");
    CHECK(held < 16 * mib);  // one piece (256 KiB) and one window, far below the 8 MiB response cap plus slack
#endif
    // Its slot is taken while it stalls...
    api_client other(s.srv.port());
    auto busy = other.get(path);
    CHECK(busy.status == 503);
    CHECK(busy.header("Retry-After") == "2");
    // ...and given back once it goes.
    stalled.reset();
    int status = 0;
    tmon::test::wait_until([&] {
        status = api_client(s.srv.port()).get(fmt::format("/api/runs/{}/export?format=csv", id)).status;
        return status == 200;
    });
    CHECK(status == 200);
}
