// detail/json_read.hpp: the one gate every JSON text passes (requests, WS
// messages, store files). Depth and encoding are refused with a reason; numbers
// read exactly as RapidJSON's full-precision parser reads them where that one
// is right, and right where its 1.1.0 release is not.
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "tmon/detail/json_read.hpp"

using namespace tmon::detail;

TEST_CASE("json_read refuses nesting past the cap without recursing into it", "[core][json_read]") {
    rapidjson::Document d;
    auto deep = parse_document(d, std::string(1'000'000, '['));
    CHECK(deep.fault == json_fault::too_deep);
    CHECK(deep.message().find("deeper than 64") != std::string::npos);
    CHECK(d.IsNull());
    std::string at_cap = std::string(64, '[') + std::string(64, ']');
    CHECK(parse_document(d, at_cap));
    std::string past = std::string(65, '[') + std::string(65, ']');
    CHECK(parse_document(d, past).fault == json_fault::too_deep);
    CHECK(parse_document_nul_terminated(d, past.c_str()).fault == json_fault::too_deep);
    CHECK(parse_document(d, past, 100));
}

TEST_CASE("json_read refuses invalid UTF-8 in strings and keys", "[core][json_read]") {
    rapidjson::Document d;
    CHECK(parse_document(d, "{\"k\":\"\xff\"}").fault == json_fault::encoding);
    CHECK(parse_document(d, "{\"\xc3\x28\":1}").fault == json_fault::encoding);
    CHECK(parse_document(d, "{\"\xce\xbb\":\"\xe2\x82\xac\"}"));
}

TEST_CASE("json_read reads numbers that RapidJSON's full-precision path mishandles", "[core][json_read]") {
    for (const char* zero :
         {"0e-30", "0.0000000000000000000000000", "-0.0E+99", "0.000000000000000000000000e-40", "0E-400"}) {
        INFO(zero);
        rapidjson::Document d;
        std::string text = fmt::format("[{}]", zero);
        REQUIRE(parse_document(d, text));
        CHECK(d[0].GetDouble() == 0.0);
        REQUIRE(parse_document_nul_terminated(d, text.c_str()));
        CHECK(d[0].GetDouble() == 0.0);
    }
    rapidjson::Document d;
    CHECK(parse_document(d, "[1e400]").fault == json_fault::number);
    CHECK(parse_document(d, "7201e308").fault == json_fault::number);
    CHECK(parse_document(d, "[1e400, 0e1]").fault != json_fault::none);
    REQUIRE(parse_document(d, "[0.00000000000000000000001e-5, 0e1]"));
    CHECK(d[0].GetDouble() == 1e-28);
    std::string tiny = "[0." + std::string(400, '0') + "1, 0e1]";  // 1e-401: underflows to zero
    REQUIRE(parse_document(d, tiny));
    CHECK(d[0].GetDouble() == 0.0);
    // 20 significant digits whose rounding wraps RapidJSON's significand to zero.
    REQUIRE(parse_document(d, "[1.84467440737095516155]"));
    CHECK(d[0].GetDouble() == 1.8446744073709552);
}

TEST_CASE("json_read gives every number the value and type RapidJSON's full-precision parser gives",
          "[core][json_read]") {
    std::mt19937_64 rng(7);
    std::vector<std::string> numbers = {"0",
                                        "-0",
                                        "4294967295",
                                        "4294967296",
                                        "-2147483649",
                                        "9223372036854775808",
                                        "18446744073709551616",
                                        "-9223372036854775809",
                                        "5e-324",
                                        "1e-330"};
    for (int i = 0; i < 20'000; ++i) {
        std::uint64_t bits = rng();
        double x;
        std::memcpy(&x, &bits, sizeof x);
        if (std::isfinite(x)) numbers.push_back(i % 2 ? fmt::format("{}", x) : fmt::format("{:.6g}", x));
    }
    for (const auto& n : numbers) {
        {
            std::string text = fmt::format("[{}]", n);
            rapidjson::Document ours, theirs;
            REQUIRE(parse_document(ours, text));
            theirs.Parse<rapidjson::kParseFullPrecisionFlag>(fmt::format("[{}]", n).c_str());
            const auto& a = ours[0];
            const auto& b = theirs[0];
            INFO(text);
            CHECK(a.IsInt64() == b.IsInt64());
            CHECK(a.IsUint64() == b.IsUint64());
            CHECK(a.IsDouble() == b.IsDouble());
            CHECK(a.GetDouble() == b.GetDouble());
        }
    }
}
