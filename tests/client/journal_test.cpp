// The remote client's journal: what is appended survives the process, what
// the server acknowledged is never sent again, a torn tail is cut off, and the
// size cap refuses exactly what does not fit.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"
#include "tmon/client/detail/journal.hpp"

using tmon::detail::journal;
using tmon::detail::journal_kind;

namespace {

std::uint64_t size_of(const std::filesystem::path& p) { return std::filesystem::file_size(p); }

std::vector<tmon::detail::journal_record> read_all(const journal& j) {
    std::vector<tmon::detail::journal_record> out;
    std::uint64_t at = j.acked_offset();
    while (auto r = j.read(at)) {
        at = r->end_offset;
        out.push_back(std::move(*r));
    }
    return out;
}

}  // namespace

TEST_CASE("journal: records read back in order with their method, path, body and point count", "[client][journal]") {
    tmon::test::temp_dir dir;
    journal j(dir.path(), "run_a.r0", 1 << 20);
    REQUIRE(j.append(journal_kind::request, "POST", "/api/runs", R"({"name":"a"})"));
    REQUIRE(
        j.append(journal_kind::metrics, "POST", "/api/runs/run_a/metrics", R"({"step":1,"metrics":{"loss":1}})", 1));
    REQUIRE(j.append(journal_kind::request, "PUT", "/api/runs/run_a", R"({"status":"completed"})"));
    auto all = read_all(j);
    REQUIRE(all.size() == 3);
    CHECK(all[0].method == "POST");
    CHECK(all[0].path == "/api/runs");
    CHECK(all[1].kind == journal_kind::metrics);
    CHECK(all[1].points == 1);
    CHECK(all[1].body == R"({"step":1,"metrics":{"loss":1}})");
    CHECK(all[2].method == "PUT");
    CHECK(j.pending_points() == 1);
}

TEST_CASE("journal: unacknowledged records survive a new process; acknowledged ones are not sent again",
          "[client][journal]") {
    tmon::test::temp_dir dir;
    std::uint64_t first_end = 0;
    {
        journal j(dir.path(), "run_b.r0", 1 << 20);
        j.append(journal_kind::metrics, "POST", "/m", "1", 10);
        j.append(journal_kind::metrics, "POST", "/m", "2", 20);
        j.append(journal_kind::metrics, "POST", "/m", "3", 30);
        first_end = j.read(0)->end_offset;
        j.acknowledge(first_end, 10);
    }
    journal again(dir.path(), "run_b.r0", 1 << 20);
    CHECK(again.recovered_records() == 2);
    CHECK(again.recovered_points() == 50);
    auto all = read_all(again);
    REQUIRE(all.size() == 2);
    CHECK(all[0].body == "2");
    CHECK(all[1].body == "3");
}

TEST_CASE("journal: everything acknowledged cuts the file back to empty", "[client][journal]") {
    tmon::test::temp_dir dir;
    journal j(dir.path(), "run_c.r0", 1 << 20);
    j.append(journal_kind::metrics, "POST", "/m", std::string(1000, 'x'), 5);
    auto gen = j.generation();
    j.acknowledge(j.end_offset(), 5);
    CHECK(size_of(dir.path() / "run_c.r0.journal") == 0);
    CHECK(j.generation() == gen + 1);
    CHECK(j.pending_bytes() == 0);
    CHECK(j.pending_points() == 0);
    // And a new process finds nothing to send.
    j.append(journal_kind::request, "POST", "/x", "{}");
    j.acknowledge(j.end_offset(), 0);
    CHECK(size_of(dir.path() / "run_c.r0.journal") == 0);
}

TEST_CASE("journal: a torn last record (the trainer died mid-write) is cut off, the records before it kept",
          "[client][journal]") {
    tmon::test::temp_dir dir;
    auto path = dir.path() / "run_d.r0.journal";
    {
        journal j(dir.path(), "run_d.r0", 1 << 20);
        j.append(journal_kind::metrics, "POST", "/m", "good-1", 1);
        j.append(journal_kind::metrics, "POST", "/m", "good-2", 1);
        j.append(journal_kind::metrics, "POST", "/m", "torn-one-here", 1);
    }
    auto whole = size_of(path);
    std::filesystem::resize_file(path, whole - 5);
    journal j(dir.path(), "run_d.r0", 1 << 20);
    CHECK(j.recovered_records() == 2);
    auto all = read_all(j);
    REQUIRE(all.size() == 2);
    CHECK(all[1].body == "good-2");
    CHECK(size_of(path) < whole - 5);  // the fragment is gone: the next append starts on a record boundary
    REQUIRE(j.append(journal_kind::metrics, "POST", "/m", "after", 1));
    CHECK(read_all(j).back().body == "after");
}

TEST_CASE("journal: a flipped byte in the middle stops replay there instead of sending garbage", "[client][journal]") {
    tmon::test::temp_dir dir;
    auto path = dir.path() / "run_e.r0.journal";
    std::uint64_t second_at = 0;
    {
        journal j(dir.path(), "run_e.r0", 1 << 20);
        j.append(journal_kind::metrics, "POST", "/m", "one", 1);
        second_at = j.end_offset();
        j.append(journal_kind::metrics, "POST", "/m", "two", 1);
    }
    int fd = ::open(path.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    char c = 'X';
    REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(size_of(path) - 1)) == 1);
    ::close(fd);
    journal j(dir.path(), "run_e.r0", 1 << 20);
    CHECK(j.recovered_records() == 1);
    CHECK(j.end_offset() == second_at);
}

TEST_CASE("journal: the size cap refuses whole records once unsent data would pass it", "[client][journal]") {
    tmon::test::temp_dir dir;
    const std::string body(100, 'p');
    const auto record = journal::encode(journal_kind::metrics, "POST", "/m", body, 1).size();
    journal j(dir.path(), "run_f.r0", record * 10 + record / 2);
    int accepted = 0;
    for (int i = 0; i < 25; ++i) accepted += j.append(journal_kind::metrics, "POST", "/m", body, 1) ? 1 : 0;
    CHECK(accepted == 10);
    CHECK(j.pending_points() == 10);
    // Acknowledging frees room again.
    j.acknowledge(j.read(0)->end_offset, 1);
    CHECK(j.append(journal_kind::metrics, "POST", "/m", body, 1));
    CHECK_FALSE(j.append(journal_kind::metrics, "POST", "/m", body, 1));
}

TEST_CASE("journal: a second process cannot use the same journal", "[client][journal]") {
    tmon::test::temp_dir dir;
    journal j(dir.path(), "run_g.r0", 1 << 20);
    try {
        journal other(dir.path(), "run_g.r0", 1 << 20);
        FAIL("a second journal on the same file opened");
    } catch (const tmon::error& e) {
        CHECK(e.code() == tmon::errc::conflict);
        CHECK(std::string(e.what()).find("in use by another process") != std::string::npos);
    }
}

TEST_CASE("journal: an ack offset past the end of the file (cut back before the ack was written) replays everything",
          "[client][journal]") {
    tmon::test::temp_dir dir;
    {
        journal j(dir.path(), "run_h.r0", 1 << 20);
        j.append(journal_kind::metrics, "POST", "/m", "x", 1);
    }
    {
        int fd = ::open((dir.path() / "run_h.r0.ack").c_str(), O_RDWR);
        unsigned char far[8] = {0xff, 0xff, 0, 0, 0, 0, 0, 0};
        REQUIRE(::pwrite(fd, far, 8, 0) == 8);
        ::close(fd);
    }
    journal j(dir.path(), "run_h.r0", 1 << 20);
    CHECK(j.recovered_records() == 1);
    CHECK(j.acked_offset() == 0);
}
