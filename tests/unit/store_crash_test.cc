// Fault injection: a child process writes to the store and is killed with SIGKILL mid-stream.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/store_test_support.h"

namespace xblocks::store {
namespace {

using testing::MakePod;
using testing::PodKey;
using testing::ResourceVersion;
using testing::TempDir;
using testing::TestOptions;

// One acknowledged write as the child reports it: "<revision> <name>\n".
struct Ack {
  int64_t revision = 0;
  std::string name;
};

// The child: opens the store with full durability and creates pods until it is killed. Each
// line goes to the pipe only after Create returned, so every line is an acknowledged write.
[[noreturn]] void RunChild(const Store::Options& options, int ack_fd) {
  Result<std::unique_ptr<Store>> store = Store::Open(options);
  if (!store.ok()) _exit(2);
  FILE* acks = fdopen(ack_fd, "w");
  for (int i = 0;; ++i) {
    const std::string name = "p" + std::to_string(i);
    Result<Json> created = (*store)->Create(PodKey("crash", name), MakePod("crash", name));
    if (!created.ok()) _exit(3);
    fprintf(acks, "%s %s\n", ResourceVersion(*created).c_str(), name.c_str());
    fflush(acks);
  }
}

// Reads acknowledgements until `target` have arrived, then a random number more, so the kill
// lands at a random point of a write. Returns them all.
std::vector<Ack> ReadAcksThenStop(FILE* acks, size_t target, pid_t child) {
  std::mt19937 random(std::random_device{}());
  const size_t stop_at = target + std::uniform_int_distribution<size_t>(0, 50)(random);
  std::vector<Ack> received;
  char name[64];
  long long revision = 0;
  while (received.size() < stop_at && fscanf(acks, "%lld %63s", &revision, name) == 2) {
    received.push_back({revision, name});
  }
  kill(child, SIGKILL);
  // Acks written between the last read and the kill were acknowledged too.
  while (fscanf(acks, "%lld %63s", &revision, name) == 2) received.push_back({revision, name});
  return received;
}

TEST(StoreCrash, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  const Store::Options options = TestOptions(dir, /*synchronous_full=*/true);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    RunChild(options, fds[1]);
  }
  close(fds[1]);
  FILE* acks = fdopen(fds[0], "r");
  ASSERT_NE(acks, nullptr);
  std::vector<Ack> received = ReadAcksThenStop(acks, 200, child);
  fclose(acks);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "the child exited early with status " << wait_status;
  ASSERT_GE(received.size(), 200u);

  Result<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().message();
  for (const Ack& ack : received) {
    Result<Json> got = (*store)->Get(PodKey("crash", ack.name));
    ASSERT_TRUE(got.ok()) << "acknowledged pod " << ack.name << " is missing";
    EXPECT_EQ(ResourceVersion(*got), std::to_string(ack.revision));
  }
  const int64_t last_acked = received.back().revision;
  EXPECT_GE((*store)->CurrentRevision(), last_acked);
  Result<Json> next = (*store)->Create(PodKey("crash", "after"), MakePod("crash", "after"));
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_GT(std::stoll(ResourceVersion(*next)), last_acked);
}

}  // namespace
}  // namespace xblocks::store
