// Runs controllers on one thread: a pass is triggered by any store change (debounced) and by a
// periodic resync, so every controller converges even after a failed pass.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "controllers/controller.h"
#include "store/store.h"

namespace xblocks::controllers {

class ControllerManager {
 public:
  struct Options {
    std::chrono::milliseconds debounce{20};
    std::chrono::milliseconds resync{2000};
  };

  ControllerManager(store::Store& store, Options options);
  ~ControllerManager();

  // Takes ownership. Call before Start.
  void Add(std::unique_ptr<Controller> controller);
  Status Start();
  void Stop();
  // Runs one pass of every controller on the calling thread (tests use it).
  void SyncAll();

 private:
  void Run();

  store::Store& store_;
  const Options options_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::shared_ptr<store::Watcher> watcher_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool triggered_ = false;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
};

}  // namespace xblocks::controllers
