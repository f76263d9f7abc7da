// cpp-httplib peer for bench_http.sh: answers the same paths with the same bytes as
// tmon-server, using cpp-httplib's defaults (thread pool, keep-alive limits) but TCP_NODELAY, which is
// what a user would get by writing their own server with it.
// Usage: httplib_server --port P --run-id ID --health FILE --latest FILE
#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "httplib_server: cannot read %s\n", path.c_str());
        std::exit(2);
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    std::string run_id = "run_bench", health_file, latest_file, host = "127.0.0.1";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--port") port = std::atoi(argv[i + 1]);
        else if (flag == "--host") host = argv[i + 1];
        else if (flag == "--run-id") run_id = argv[i + 1];
        else if (flag == "--health") health_file = argv[i + 1];
        else if (flag == "--latest") latest_file = argv[i + 1];
    }
    if (port == 0 || health_file.empty() || latest_file.empty()) {
        std::fprintf(stderr, "usage: httplib_server --port P --run-id ID --health FILE --latest FILE\n");
        return 2;
    }
    const std::string health = read_file(health_file);
    const std::string latest = read_file(latest_file);
    const std::string latest_path = "/api/runs/" + run_id + "/metrics/latest";

    httplib::Server server;
    // Only change from the defaults: without it small replies wait out Nagle + delayed ACK
    // (about 40 ms each), which would measure the kernel, not cpp-httplib. nginx sets it too.
    server.set_tcp_nodelay(true);
    server.Get("/health",
               [&](const httplib::Request&, httplib::Response& res) { res.set_content(health, "application/json"); });
    server.Get(latest_path,
               [&](const httplib::Request&, httplib::Response& res) { res.set_content(latest, "application/json"); });
    if (!server.listen(host, port)) {
        std::fprintf(stderr, "httplib_server: cannot listen on %s:%d\n", host.c_str(), port);
        return 1;
    }
}
