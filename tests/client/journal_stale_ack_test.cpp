// The journal's .ack file holding an offset past the end of the journal (the
// journal was cut back, deleted or lost its tail while the ack file kept an old
// offset): everything is replayed, and the stale offset is not kept on disk,
// where it would later point into the records appended after it.
// Found by tests/fuzz/fuzz_client_journal (corpus/crash-stale-ack-past-end). And one
// pointing inside a record: that record is sent again, the rest kept.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "support/temp_dir.hpp"
#include "tmon/client/detail/journal.hpp"

using tmon::detail::journal;
using tmon::detail::journal_kind;

namespace {

void write_ack(const std::filesystem::path& p, std::uint64_t v) {
    unsigned char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xff);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, buf, 8) == 8);
    ::close(fd);
}

}  // namespace

TEST_CASE("journal: a stale ack offset past the end is reset on disk, so records appended next survive a reopen",
          "[client][journal]") {
    tmon::test::temp_dir dir;
    write_ack(dir.path() / "run_s.r0.ack", 43);  // the journal itself is gone (or empty)
    {
        journal j(dir.path(), "run_s.r0", 1 << 20);
        CHECK(j.acked_offset() == 0);
        REQUIRE(j.append(journal_kind::metrics, "PUT", "/api/runs/run_s/metrics", "{\"step\":1}", 7));
        REQUIRE(j.append(journal_kind::request, "POST", "/api/runs", "{\"name\":\"s\"}"));
        REQUIRE(j.end_offset() > 43);
    }
    journal j(dir.path(), "run_s.r0", 1 << 20);
    CHECK(j.acked_offset() == 0);
    CHECK(j.recovered_records() == 2);
    CHECK(j.recovered_points() == 7);
    auto first = j.read(0);
    REQUIRE(first);
    CHECK(first->body == "{\"step\":1}");
    auto second = j.read(first->end_offset);
    REQUIRE(second);
    CHECK(second->path == "/api/runs");
    CHECK(std::filesystem::file_size(dir.path() / "run_s.r0.journal") == j.end_offset());
}

TEST_CASE("journal: an ack offset inside a record sends that record again instead of cutting it and the rest off",
          "[client][journal]") {
    tmon::test::temp_dir dir;
    std::uint64_t second_start = 0;
    {
        journal j(dir.path(), "run_m.r0", 1 << 20);
        REQUIRE(j.append(journal_kind::metrics, "PUT", "/api/runs/run_m/metrics", "{\"step\":1}", 3));
        second_start = j.end_offset();
        REQUIRE(j.append(journal_kind::metrics, "PUT", "/api/runs/run_m/metrics", "{\"step\":2}", 5));
        REQUIRE(j.append(journal_kind::metrics, "PUT", "/api/runs/run_m/metrics", "{\"step\":3}", 11));
    }
    // A power loss or a foreign write left the ack 5 bytes into the second record.
    write_ack(dir.path() / "run_m.r0.ack", second_start + 5);
    std::optional<journal> j(std::in_place, dir.path(), "run_m.r0", 1 << 20);
    CHECK(j->acked_offset() == second_start);
    j.reset();  // the boundary is on disk now: a second open starts there too
    j.emplace(dir.path(), "run_m.r0", 1 << 20);
    CHECK(j->acked_offset() == second_start);
    CHECK(j->recovered_records() == 2);
    CHECK(j->recovered_points() == 16);
    auto second = j->read(second_start);
    REQUIRE(second);
    CHECK(second->body == "{\"step\":2}");
    auto third = j->read(second->end_offset);
    REQUIRE(third);
    CHECK(third->body == "{\"step\":3}");
}
