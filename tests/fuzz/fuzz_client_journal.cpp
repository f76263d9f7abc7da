// The remote client's journal reader (client/detail/journal.hpp) on arbitrary
// files: what a crash, a full disk or another program can leave in
// `<name>.journal` and `<name>.ack`.
//
// Input: byte 0 is a control byte, the rest the files.
//   bits 0-3  k: the next k bytes are the .ack file (k = 0: no .ack file; the
//             journal reads an offset only from a file of 8 bytes or more)
//   bit 4     fix up the crc of every record whose length fits, so the fuzzer
//             gets past the checksum to the payload checks
//   bit 5     after the checks, acknowledge the first recovered record and
//             reopen: the ack must survive the reopen
// Everything after that is the .journal file.
//
// The journal is opened as the client opens it and every record is read back
// from the acknowledged offset. Besides "no crash, no sanitizer report, no
// stray exception", what it reads must equal an independent reading of the
// bytes (own crc32, own decoder): the records from the ack offset (clamped to
// 0 when past the end, moved back to the start of the record it falls inside)
// up to the first torn or corrupt one, each with a valid
// crc, a known kind and a path inside its payload. The file is cut back to
// the last good record, with one warning exactly when there was something to
// cut (and one when the ack was moved back). A record appended then, after a reopen, reads back after those records:
// a second open finds nothing to cut.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_util.hpp"
#include "tmon/client/detail/journal.hpp"
#include "tmon/core/log.hpp"

namespace {

using namespace tmon;
using tmon::detail::journal;
using tmon::detail::journal_kind;
using tmon::detail::journal_record;
namespace fs = std::filesystem;

fs::path work_dir;
int warnings = 0;
constexpr const char* name = "run_f.r0";

std::uint32_t crc32_ref(std::string_view s) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : s) {
        c ^= b;
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

std::uint64_t le(std::string_view s, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
    return v;
}

void put_le32(std::string& s, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void write_file(const fs::path& p, std::string_view bytes) {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fuzz::fail("cannot write a file into the work folder");
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n <= 0) fuzz::fail("cannot write a file into the work folder");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    ::close(fd);
}

// The independent reading: what the journal promises to return.
struct expected {
    std::uint64_t ack = 0, end = 0, points = 0;
    bool ack_moved = false;  // it fell inside a record (one warning)
    std::vector<journal_record> records;
};

// The record at `at` as the journal must read it: a length that fits, its crc,
// a known kind and a path inside its payload; nullopt if torn or corrupt.
std::optional<journal_record> record_at(std::string_view file, std::uint64_t at) {
    if (file.size() - at < 8) return std::nullopt;
    const std::uint64_t len = le(file, at, 4), sum = le(file, at + 4, 4);
    if (len < 8 || len > journal::max_record_bytes || file.size() - at - 8 < len) return std::nullopt;
    std::string_view payload = file.substr(at + 8, len);
    if (crc32_ref(payload) != sum) return std::nullopt;
    const auto kind = static_cast<unsigned char>(payload[0]);
    const std::uint64_t path_len = le(payload, 6, 2);
    if ((kind != 1 && kind != 2) || 8 + path_len > len) return std::nullopt;
    journal_record r;
    r.kind = static_cast<journal_kind>(kind);
    switch (static_cast<unsigned char>(payload[1])) {
        case 0: r.method = "GET"; break;
        case 2: r.method = "PUT"; break;
        case 3: r.method = "DELETE"; break;
        default: r.method = "POST";
    }
    r.points = static_cast<std::uint32_t>(le(payload, 2, 4));
    r.path = payload.substr(8, path_len);
    r.body = payload.substr(8 + path_len);
    r.end_offset = at + 8 + len;
    return r;
}

expected read_reference(std::string_view file, std::string_view ack_file) {
    expected e;
    if (ack_file.size() >= 8) e.ack = le(ack_file, 0, 8);
    if (e.ack > file.size()) e.ack = 0;
    // An ack inside a record means that record's start (sent again), found by
    // reading the records from 0; where they stop before the ack, the ack stands.
    for (std::uint64_t at = 0; at < e.ack;) {
        auto r = record_at(file, at);
        if (!r) break;
        if (r->end_offset > e.ack) {
            e.ack = at;
            e.ack_moved = true;
            break;
        }
        at = r->end_offset;
    }
    std::uint64_t at = e.ack;
    while (auto r = record_at(file, at)) {
        e.points += r->points;
        at = r->end_offset;
        e.records.push_back(std::move(*r));
    }
    e.end = at;
    return e;
}

// Gives every record whose length field fits the crc of its payload.
void fix_crcs(std::string& file) {
    std::size_t at = 0;
    while (file.size() - at >= 8) {
        const std::uint64_t len = le(file, at, 4);
        if (len < 8 || file.size() - at - 8 < len) break;
        put_le32(file, at + 4, crc32_ref(std::string_view(file).substr(at + 8, len)));
        at += 8 + len;
    }
}

void check_same(const journal_record& a, const journal_record& b) {
    TMON_FUZZ_CHECK(a.kind == b.kind);
    TMON_FUZZ_CHECK(a.method == b.method);
    TMON_FUZZ_CHECK(a.path == b.path);
    TMON_FUZZ_CHECK(a.body == b.body);
    TMON_FUZZ_CHECK(a.points == b.points);
    TMON_FUZZ_CHECK(a.end_offset == b.end_offset);
}

std::vector<journal_record> read_all(const journal& j) {
    std::vector<journal_record> out;
    std::uint64_t at = j.acked_offset();
    while (auto r = j.read(at)) {
        TMON_FUZZ_CHECK(r->end_offset > at && r->end_offset <= j.end_offset());
        at = r->end_offset;
        out.push_back(std::move(*r));
    }
    TMON_FUZZ_CHECK(at == j.end_offset());
    TMON_FUZZ_CHECK(!j.read(j.end_offset() + 1));
    return out;
}

std::uint64_t size_on_disk(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The warning for a cut tail is counted, not printed.
    set_log_level(log_level::debug);
    set_log_sink([](log_level l, std::string_view) { warnings += l == log_level::warn; });
    work_dir = fuzz::scratch_dir("tmon-fuzz-journal-");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz::byte_reader in(input);
    const std::uint8_t control = in.byte();
    const std::size_t ack_len = std::min<std::size_t>(control & 0x0f, input.size() - std::min<std::size_t>(1, size));
    std::string_view rest = input.substr(std::min<std::size_t>(1, size));
    std::string_view ack_file = rest.substr(0, ack_len);
    std::string file(rest.substr(ack_len));
    if (control & 0x10) fix_crcs(file);

    const fs::path journal_path = work_dir / (std::string(name) + ".journal");
    const fs::path ack_path = work_dir / (std::string(name) + ".ack");
    std::error_code ec;
    fs::remove(ack_path, ec);
    write_file(journal_path, file);
    if (ack_len > 0) write_file(ack_path, ack_file);

    const expected want = read_reference(file, ack_file);
    const bool torn = want.end < file.size();
    std::vector<journal_record> first;
    {
        warnings = 0;
        journal j(work_dir, name, 1u << 30);
        TMON_FUZZ_CHECK(warnings == (torn ? 1 : 0) + (want.ack_moved ? 1 : 0));
        TMON_FUZZ_CHECK(j.acked_offset() == want.ack);
        TMON_FUZZ_CHECK(j.end_offset() == want.end);
        TMON_FUZZ_CHECK(j.pending_bytes() == want.end - want.ack);
        TMON_FUZZ_CHECK(j.recovered_records() == want.records.size());
        TMON_FUZZ_CHECK(j.recovered_points() == want.points);
        TMON_FUZZ_CHECK(j.pending_points() == want.points);
        TMON_FUZZ_CHECK(size_on_disk(journal_path) == want.end);  // the torn tail is cut on open
        first = read_all(j);
        TMON_FUZZ_CHECK(first.size() == want.records.size());
        for (std::size_t i = 0; i < first.size(); ++i) check_same(first[i], want.records[i]);

        // Appending goes on right after the last good record.
        TMON_FUZZ_CHECK(j.append(journal_kind::metrics, "PUT", "/api/runs/run_f/metrics", "{\"step\":1}", 7));
        TMON_FUZZ_CHECK(j.pending_points() == want.points + 7);
    }
    journal_record added;
    added.kind = journal_kind::metrics;
    added.method = "PUT";
    added.path = "/api/runs/run_f/metrics";
    added.body = "{\"step\":1}";
    added.points = 7;
    added.end_offset = want.end + journal::header_bytes + 8 + added.path.size() + added.body.size();
    {
        // A new process: the good records, then the new one; nothing to cut.
        warnings = 0;
        std::optional<journal> j2;
        j2.emplace(work_dir, name, 1u << 30);
        journal& j = *j2;
        TMON_FUZZ_CHECK(warnings == 0);
        TMON_FUZZ_CHECK(j.acked_offset() == want.ack);
        TMON_FUZZ_CHECK(j.end_offset() == added.end_offset);
        auto again = read_all(j);
        TMON_FUZZ_CHECK(again.size() == first.size() + 1);
        for (std::size_t i = 0; i < first.size(); ++i) check_same(again[i], first[i]);
        check_same(again.back(), added);

        if (control & 0x20) {
            // The server takes the first record: the ack survives a reopen.
            const std::uint64_t ack = again.front().end_offset;
            j.acknowledge(ack, again.front().points);
            const std::uint64_t want_ack = again.size() == 1 ? 0 : ack;  // all taken: cut back to empty
            TMON_FUZZ_CHECK(j.acked_offset() == want_ack);
            if (again.size() == 1) TMON_FUZZ_CHECK(size_on_disk(journal_path) == 0);
            again.erase(again.begin());
            j2.reset();
            j2.emplace(work_dir, name, 1u << 30);
            TMON_FUZZ_CHECK(j2->acked_offset() == want_ack);
            auto after = read_all(*j2);
            TMON_FUZZ_CHECK(after.size() == again.size());
            for (std::size_t i = 0; i < after.size(); ++i) TMON_FUZZ_CHECK(after[i].body == again[i].body);
        }
    }
    fs::remove(journal_path, ec);
    fs::remove(ack_path, ec);
    return 0;
}
