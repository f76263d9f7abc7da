#include <catch2/catch.hpp>

#include <string>

#include "tmon/transport/http/loggable.hpp"

using tmon::http::loggable;

TEST_CASE("loggable escapes what could end or forge a log line", "[transport]") {
    CHECK(loggable("/api/runs") == "/api/runs");
    CHECK(loggable("/x\n2025-01-01T00:00:00Z info  [http] forged") ==
          "/x\\x0a2025-01-01T00:00:00Z info  [http] forged");
    CHECK(loggable("a\rb\tc\x1b[31m") == "a\\x0db\\x09c\\x1b[31m");
    CHECK(loggable(std::string_view{"nul\0x", 5}) == "nul\\x00x");
    CHECK(loggable("del\x7f") == "del\\x7f");
    CHECK(loggable("back\\x0a") == "back\\\\x0a");  // a literal backslash cannot imitate an escape
}

TEST_CASE("loggable keeps readable UTF-8 and escapes invalid bytes and invisible controls", "[transport]") {
    CHECK(loggable("/runs/caf\xc3\xa9") == "/runs/caf\xc3\xa9");
    CHECK(loggable("/\xe6\x97\xa5\xe6\x9c\xac") == "/\xe6\x97\xa5\xe6\x9c\xac");
    CHECK(loggable("bad\xc3") == "bad\\xc3");
    CHECK(loggable("\xff\xfe") == "\\xff\\xfe");
    CHECK(loggable("\xc0\xaf") == "\\xc0\\xaf");  // overlong '/'
    CHECK(loggable("line\xe2\x80\xa8sep") == "line\\u{2028}sep");
    CHECK(loggable("rtl\xe2\x80\xaeoverride") == "rtl\\u{202e}override");
    CHECK(loggable("c1\xc2\x85") == "c1\\u{0085}");
}

TEST_CASE("loggable cuts long text and says how much was left out", "[transport]") {
    std::string path(2000, 'p');
    auto shown = loggable(path, 100);
    CHECK(shown == std::string(100, 'p') + "...(1900 more bytes)");
    // A multi-byte character cut at the limit is not split into a half sequence.
    CHECK(loggable("ab\xc3\xa9", 3) == "ab\\xc3...(1 more bytes)");
}
