// How a jsonl_store reads its files back. detail::for_each_line: a file is read a block at a
// time, so lines cross blocks and can be longer than one; tiny blocks here
// make every such case happen in a few bytes.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "storage/store_fixture.hpp"
#include "tmon/storage/detail/append_file.hpp"
#include "tmon/storage/detail/replay_progress.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {
std::filesystem::path write_file(const temp_dir& dir, const std::string& text) {
    auto path = dir.path() / "lines.jsonl";
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

std::vector<std::string> lines_read(const std::filesystem::path& path, std::size_t block_bytes) {
    std::vector<std::string> out;
    detail::for_each_line(
        path,
        [&](std::string_view line) {
            CHECK(line.data()[line.size()] == '\0');  // what the parser scans to
            out.emplace_back(line);
        },
        block_bytes);
    return out;
}
}  // namespace

TEST_CASE("for_each_line hands out every line whole, whatever the block size", "[storage]") {
    temp_dir dir;
    const std::string long_line(100, 'x');
    auto path = write_file(dir, "a\nbb\n\nccc\n" + long_line + "\nd\n");
    const std::vector<std::string> expected{"a", "bb", "ccc", long_line, "d"};  // the empty line skipped
    for (std::size_t block : {1, 2, 3, 7, 64, 1 << 20}) {
        INFO("block of " << block << " bytes");
        log_capture logs;
        CHECK(lines_read(path, block) == expected);
        CHECK(logs.warnings.empty());
    }
    CHECK(std::filesystem::file_size(path) == 113);  // a whole file is left as it was
}

TEST_CASE("for_each_line drops a torn last line with one warning and cuts it off the file", "[storage]") {
    for (std::size_t block : {1, 4, 1 << 20}) {
        INFO("block of " << block << " bytes");
        temp_dir dir;
        auto path = write_file(dir, "first\nsecond\n{\"key\":\"lo");
        log_capture logs;
        CHECK(lines_read(path, block) == std::vector<std::string>{"first", "second"});
        REQUIRE(logs.warnings.size() == 1);
        CHECK(logs.warnings[0].find("torn last line (10 bytes)") != std::string::npos);
        CHECK(std::filesystem::file_size(path) == 13);  // "first\nsecond\n"
        CHECK(lines_read(path, block) == std::vector<std::string>{"first", "second"});
    }
}

TEST_CASE("for_each_line reads nothing from a missing or empty file, and says nothing", "[storage]") {
    temp_dir dir;
    log_capture logs;
    CHECK(lines_read(dir.path() / "missing.jsonl", 8).empty());
    CHECK(lines_read(write_file(dir, ""), 8).empty());
    CHECK(logs.warnings.empty());
    CHECK(!std::filesystem::exists(dir.path() / "missing.jsonl"));
}

TEST_CASE("a long replay says how far it is, in bytes of the store's files", "[storage]") {
    temp_dir dir;
    write_file(dir, std::string(1000, 'x'));  // 1,000 bytes under the folder
    log_capture logs;
    detail::replay_progress progress{dir.path(), std::chrono::seconds{0}};  // due at every check
    for (int i = 0; i < 255; ++i) progress.line_read(2);
    CHECK(logs.infos.empty());  // the clock is read every 256 lines, not every line
    progress.line_read(2);
    REQUIRE(logs.infos.size() == 1);
    CHECK(logs.infos[0].find("replaying " + dir.path().string() + ": 0 of 0 MB (51 %)") != std::string::npos);
}

TEST_CASE("reopening a jsonl_store ends with one line saying what it read", "[storage]") {
    temp_dir dir;
    jsonl_store::options o;
    o.dir = dir.path().string();
    std::string run_id;
    {
        log_capture logs;
        jsonl_store s{o};
        run_id = s.create_run(named_run("exp")).id;
        std::vector<metric_point> pts;
        for (step_t i = 0; i < 500; ++i) pts.push_back(point(i % 2 ? "loss" : "acc", i / 2, 0.5));
        s.append_metrics(run_id, pts);
        CHECK(logs.infos.empty());  // a new, empty store has nothing to say
    }
    log_capture logs;
    jsonl_store s{o};
    REQUIRE(logs.infos.size() == 1);
    CHECK(logs.infos[0].find("opened " + o.dir + ": 1 run, 500 metric points") != std::string::npos);
    CHECK(s.query_metrics(series_of(run_id, "loss")).points.size() == 250);
}
