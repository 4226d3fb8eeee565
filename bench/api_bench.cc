// Measures acknowledged creates, gets and lists per second through the HTTPS API of an embedded
// server started in this process, and, in the same run, the raw SQLite commit rate with the
// store's durability (WAL, synchronous=FULL, one transaction per write). Prints each figure and
// the ratio of API creates to raw commits.
//
//   build/api_bench [--count N] [--clients C] [--dir DIR]
//
// Each client is one keep-alive TLS connection on its own thread, as kubectl and controllers use.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "https_client.h"
#include "server/embedded_server.h"
#include "common/log.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using Client = xblocks::bench::HttpsClient;
using Seconds = std::chrono::duration<double>;

struct Flags {
  int count = 2000;
  int clients = 4;
  fs::path dir;
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    if (name == "--count") flags.count = std::max(1, std::atoi(argv[i + 1]));
    else if (name == "--clients") flags.clients = std::max(1, std::atoi(argv[i + 1]));
    else if (name == "--dir") flags.dir = argv[i + 1];
  }
  if (flags.dir.empty()) flags.dir = fs::temp_directory_path() / fmt::format("xblocks-bench-{}", ::getpid());
  return flags;
}

std::string Payload() { return std::string(1024, 'x'); }

// One revision bump plus one ~1 KiB insert per transaction, as a store write does.
double RawSqliteCommitsPerSecond(const fs::path& path, int count) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE rev(n INTEGER NOT NULL); INSERT INTO rev VALUES(0);"
               "CREATE TABLE kv(id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value BLOB);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* bump = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "UPDATE rev SET n = n + 1", -1, &bump, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO kv(key, value) VALUES(?, ?)", -1, &insert, nullptr);
  const std::string value = Payload();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_step(bump);
    sqlite3_reset(bump);
    const std::string key = fmt::format("/core/configmaps/bench/cm-{}", i);
    sqlite3_bind_text(insert, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(bump);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return count / seconds;
}

// Runs `work(client, i)` for i in [0, count) spread over `clients` threads; returns ops/s.
template <typename Work>
double Run(int port, const fs::path& dir, int clients, int count, Work work) {
  const xblocks::bench::Endpoint endpoint{port, dir / "ca.crt", xblocks::bench::ReadToken(dir)};
  const xblocks::bench::RunResult result = xblocks::bench::RunParallel(endpoint, clients, count, work);
  if (result.failures > 0) std::cerr << "warning: " << result.failures << " requests failed " << result.error << "\n";
  return count / result.seconds;
}

std::string ConfigMapJson(const std::string& ns, int i) {
  return fmt::format(R"({{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"cm-{}","namespace":"{}"}},"data":{{"payload":"{}"}}}})",
                     i, ns, Payload());
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  xblocks::log::Init(spdlog::level::warn);
  fs::create_directories(flags.dir);

  const double raw = RawSqliteCommitsPerSecond(flags.dir / "raw.db", flags.count);

  auto server = xblocks::server::EmbeddedServer::Start({.data_dir = flags.dir / "server", .port = 0});
  if (!server.ok()) {
    std::cerr << "server failed to start: " << server.status().message() << "\n";
    return 1;
  }
  const int port = (*server)->port();
  const fs::path server_dir = flags.dir / "server";
  constexpr int kListSize = 100;
  Run(port, server_dir, 1, 2, [](Client& c, int i) {
    const std::string name = i == 0 ? "bench" : "bench-list";
    return c.Send(http::verb::post, "/api/v1/namespaces",
                  fmt::format(R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{}"}}}})", name)).status == 201;
  });
  Run(port, server_dir, 1, kListSize, [](Client& c, int i) {
    return c.Send(http::verb::post, "/api/v1/namespaces/bench-list/configmaps", ConfigMapJson("bench-list", i)).status == 201;
  });

  const double creates = Run(port, server_dir, flags.clients, flags.count, [](Client& c, int i) {
    return c.Send(http::verb::post, "/api/v1/namespaces/bench/configmaps", ConfigMapJson("bench", i)).status == 201;
  });
  const double gets = Run(port, server_dir, flags.clients, flags.count, [](Client& c, int i) {
    return c.Send(http::verb::get, fmt::format("/api/v1/namespaces/bench/configmaps/cm-{}", i)).status == 200;
  });
  const int list_count = std::max(1, flags.count / 10);
  const double lists = Run(port, server_dir, flags.clients, list_count, [](Client& c, int) {
    return c.Send(http::verb::get, "/api/v1/namespaces/bench-list/configmaps").status == 200;
  });
  (*server)->Stop();

  std::cout << fmt::format("machine_cores={} count={} clients={}\n", std::thread::hardware_concurrency(), flags.count,
                           flags.clients);
  std::cout << fmt::format("raw_sqlite_commits_per_s={:.0f}\n", raw);
  std::cout << fmt::format("api_creates_per_s={:.0f} ratio_to_raw_commits={:.2f}\n", creates, creates / raw);
  std::cout << fmt::format("api_gets_per_s={:.0f}\n", gets);
  std::cout << fmt::format("api_lists_per_s={:.0f} items_per_list={}\n", lists, kListSize);
  fs::remove_all(flags.dir);
  return 0;
}
