// detail::for_each_line, the jsonl store's reader: a file is read a block at a
// time, so lines cross blocks and can be longer than one; tiny blocks here
// make every such case happen in a few bytes.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "storage/store_fixture.hpp"
#include "tmon/storage/detail/append_file.hpp"

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
    detail::for_each_line(path, [&](std::string_view line) { out.emplace_back(line); }, block_bytes);
    return out;
}
}  // namespace

TEST_CASE("for_each_line hands out every line whole, whatever the block size") {
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

TEST_CASE("for_each_line drops a torn last line with one warning and cuts it off the file") {
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

TEST_CASE("for_each_line reads nothing from a missing or empty file, and says nothing") {
    temp_dir dir;
    log_capture logs;
    CHECK(lines_read(dir.path() / "missing.jsonl", 8).empty());
    CHECK(lines_read(write_file(dir, ""), 8).empty());
    CHECK(logs.warnings.empty());
    CHECK(!std::filesystem::exists(dir.path() / "missing.jsonl"));
}
