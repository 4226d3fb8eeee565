// Measures, in one run on one machine, the raw SQLite commit rate at the store's durability
// settings and the store's Create, Get and List rates, and prints the Store/raw ratio.
//
//   sqlite_commit_bench [--dir DIR] [--count N]
//
// Each phase stops after kPhaseLimit even if it has not reached --count, and reports the rate over
// the writes it made. Nothing here asserts a timing.
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include <fmt/format.h>

#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using xblocks::Json;
using xblocks::store::Store;

constexpr auto kPhaseLimit = std::chrono::seconds(30);
constexpr size_t kValueBytes = 1024;
constexpr int kObjectsPerNamespace = 100;

struct Flags {
  std::filesystem::path dir;
  int count = 5000;
};

// A phase's operation count and elapsed time.
struct Measurement {
  int operations = 0;
  double seconds = 0;
  double PerSecond() const { return seconds > 0 ? operations / seconds : 0; }
};

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      flags.dir = argv[++i];
    } else if (arg == "--count" && i + 1 < argc) {
      flags.count = atoi(argv[++i]);
    } else {
      fmt::print(stderr, "usage: sqlite_commit_bench [--dir DIR] [--count N]\n"
                         "  --dir DIR   directory for the two database files (default: a new temp dir)\n"
                         "  --count N   writes, gets and lists per phase (default 5000)\n");
      return std::nullopt;
    }
  }
  if (flags.count <= 0) {
    fmt::print(stderr, "--count must be a positive number of operations\n");
    return std::nullopt;
  }
  return flags;
}

bool Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) == SQLITE_OK) return true;
  fmt::print(stderr, "SQLite statement failed: {}: {}\n", sql, error != nullptr ? error : "");
  sqlite3_free(error);
  return false;
}

// Opens `path` with the store's settings: exclusive locking, WAL, synchronous=FULL, and the same
// log table and index.
sqlite3* OpenRaw(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    fmt::print(stderr, "cannot open {}: {}\n", path.string(), sqlite3_errmsg(db));
    sqlite3_close(db);
    return nullptr;
  }
  const bool ok = Exec(db, "PRAGMA locking_mode=EXCLUSIVE") && Exec(db, "PRAGMA journal_mode=WAL") &&
                  Exec(db, "PRAGMA synchronous=FULL") &&
                  Exec(db, "CREATE TABLE log (revision INTEGER PRIMARY KEY AUTOINCREMENT, "
                           "key TEXT NOT NULL, created INTEGER NOT NULL, deleted INTEGER NOT NULL, "
                           "prev_revision INTEGER, value BLOB)") &&
                  Exec(db, "CREATE INDEX log_key_revision ON log (key, revision)");
  if (!ok) {
    sqlite3_close(db);
    return nullptr;
  }
  return db;
}

// One transaction per write: the AUTOINCREMENT insert bumps the revision counter and stores a
// 1 KiB value, as a store write does.
std::optional<Measurement> MeasureRawCommits(const std::filesystem::path& path, int count) {
  sqlite3* db = OpenRaw(path);
  if (db == nullptr) return std::nullopt;
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO log (key, created, deleted, prev_revision, value) "
                     "VALUES (?1, 0, 0, NULL, ?2)",
                     -1, &insert, nullptr);
  const std::string value(kValueBytes, 'v');
  Measurement measured;
  const auto start = Clock::now();
  for (int i = 0; i < count && Clock::now() - start < kPhaseLimit; ++i) {
    const std::string key = fmt::format("/core/pods/ns{}/p{}", i / kObjectsPerNamespace, i);
    bool ok = Exec(db, "BEGIN IMMEDIATE");
    sqlite3_bind_text(insert, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    ok = ok && sqlite3_step(insert) == SQLITE_DONE;
    sqlite3_reset(insert);
    ok = ok && Exec(db, "COMMIT");
    if (!ok) break;
    ++measured.operations;
  }
  measured.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return measured;
}

// A pod whose JSON text is a little over 1 KiB, like the raw phase's value.
Json MakePod(int i) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"namespace", fmt::format("ns{}", i / kObjectsPerNamespace)},
                {"name", fmt::format("p{}", i)},
                {"annotations", {{"bench", std::string(kValueBytes - 200, 'a')}}}}},
              {"spec", {{"containers", Json::array({{{"name", "main"}, {"image", "x"}}})}}}};
}

std::string PodKey(int i) { return fmt::format("/core/pods/ns{}/p{}", i / kObjectsPerNamespace, i); }

std::optional<Measurement> MeasureCreates(Store& store, int count) {
  Measurement measured;
  const auto start = Clock::now();
  for (int i = 0; i < count && Clock::now() - start < kPhaseLimit; ++i) {
    xblocks::Result<Json> created = store.Create(PodKey(i), MakePod(i));
    if (!created.ok()) {
      fmt::print(stderr, "Store::Create failed: {}\n", created.status().message());
      return std::nullopt;
    }
    ++measured.operations;
  }
  measured.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return measured;
}

Measurement MeasureGets(const Store& store, int count, int stored) {
  std::mt19937 random(1);
  std::uniform_int_distribution<int> pick(0, stored - 1);
  Measurement measured;
  const auto start = Clock::now();
  for (int i = 0; i < count && Clock::now() - start < kPhaseLimit; ++i) {
    if (store.Get(PodKey(pick(random))).ok()) ++measured.operations;
  }
  measured.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return measured;
}

// Lists one namespace of up to kObjectsPerNamespace pods per call.
Measurement MeasureLists(const Store& store, int count, int stored) {
  const int namespaces = (stored + kObjectsPerNamespace - 1) / kObjectsPerNamespace;
  Measurement measured;
  const auto start = Clock::now();
  for (int i = 0; i < count && Clock::now() - start < kPhaseLimit; ++i) {
    store.List(fmt::format("/core/pods/ns{}/", i % namespaces));
    ++measured.operations;
  }
  measured.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return measured;
}

void RemoveDatabase(const std::filesystem::path& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path.string() + suffix, ignored);
  }
}

int Run(const Flags& flags) {
  const std::filesystem::path raw_path = flags.dir / "bench-raw.db";
  const std::filesystem::path store_path = flags.dir / "bench-store.db";
  for (const auto& path : {raw_path, store_path}) {
    if (std::filesystem::exists(path)) {
      fmt::print(stderr, "{} already exists; remove it or pass another --dir\n", path.string());
      return 1;
    }
  }

  std::optional<Measurement> raw = MeasureRawCommits(raw_path, flags.count);
  RemoveDatabase(raw_path);
  if (!raw) return 1;

  Store::Options options;
  options.path = store_path;
  xblocks::Result<std::unique_ptr<Store>> store = Store::Open(options);
  if (!store.ok()) {
    fmt::print(stderr, "Store::Open failed: {}\n", store.status().message());
    return 1;
  }
  std::optional<Measurement> creates = MeasureCreates(**store, flags.count);
  if (!creates) return 1;
  const Measurement gets = MeasureGets(**store, flags.count, creates->operations);
  const Measurement lists = MeasureLists(**store, flags.count, creates->operations);
  store->reset();
  RemoveDatabase(store_path);

  fmt::print("raw_sqlite_commits={} raw_sqlite_commits_per_s={:.0f}\n", raw->operations, raw->PerSecond());
  fmt::print("store_creates={} store_creates_per_s={:.0f} ratio={:.2f}\n", creates->operations,
             creates->PerSecond(), creates->PerSecond() / raw->PerSecond());
  fmt::print("store_gets_per_s={:.0f}\n", gets.PerSecond());
  fmt::print("store_lists_per_s={:.0f} objects_per_list={}\n", lists.PerSecond(),
             std::min(kObjectsPerNamespace, creates->operations));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags) return 2;
  std::optional<std::filesystem::path> temp_dir;
  if (flags->dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "xb-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      fmt::print(stderr, "cannot create a temp directory from {}\n", pattern);
      return 1;
    }
    temp_dir = flags->dir = pattern;
  }
  const int code = Run(*flags);
  if (temp_dir) std::filesystem::remove_all(*temp_dir);
  return code;
}
