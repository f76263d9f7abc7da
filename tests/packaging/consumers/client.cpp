// A remote trainer: monitor<http_client> (tmon::client: Asio, RapidJSON, zlib,
// no SQLite). No server listens, so everything stays in the journal.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <tmon/client.hpp>

#ifdef SQLITE_VERSION
#error "tmon/client.hpp must not include SQLite"
#endif

int main() {
    auto dir = std::filesystem::temp_directory_path() / ("tmon-client-consumer-" + std::to_string(::getpid()));
    {
        tmon::http_client client{{.url = "http://127.0.0.1:9", .journal_dir = dir, .drain_timeout = {}}};
        tmon::monitor mon{client, {.run_name = "client"}};
        for (int step = 0; step < 100; ++step) mon.log(step, {{"loss", 1.0 / (step + 1)}});
        mon.flush();
    }
    bool journaled = std::filesystem::exists(dir) && !std::filesystem::is_empty(dir);
    std::filesystem::remove_all(dir);
    if (!journaled) {
        std::fprintf(stderr, "client: nothing journaled in %s\n", dir.c_str());
        return EXIT_FAILURE;
    }
    std::printf("client ok: journaled while the server was unreachable\n");
    return EXIT_SUCCESS;
}
