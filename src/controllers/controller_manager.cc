#include "controllers/controller_manager.h"

#include "common/log.h"

namespace xblocks::controllers {

ControllerManager::ControllerManager(store::Store& store, Options options) : store_(store), options_(options) {}

ControllerManager::~ControllerManager() { Stop(); }

void ControllerManager::Add(std::unique_ptr<Controller> controller) { controllers_.push_back(std::move(controller)); }

Status ControllerManager::Start() {
  auto watcher = store_.Watch("/", 0, [this] {
    std::lock_guard lock(mu_);
    triggered_ = true;
    cv_.notify_one();
  });
  if (!watcher.ok()) return watcher.status();
  watcher_ = std::move(*watcher);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ControllerManager::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (watcher_) watcher_->Cancel();
}

void ControllerManager::SyncAll() {
  for (auto& controller : controllers_) {
    Status status = controller->Sync();
    if (!status.ok()) {
      XB_LOG_WARN("controller sync failed", {{"controller", std::string(controller->name())}, {"err", status.message()}});
    }
  }
}

void ControllerManager::Run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.resync, [this] { return triggered_ || stopping_; });
      if (stopping_) return;
    }
    // Let a burst of writes land before the pass, then take the trigger.
    std::this_thread::sleep_for(options_.debounce);
    {
      std::lock_guard lock(mu_);
      triggered_ = false;
    }
    // The controllers read the store directly; the queued events only mean "something changed".
    watcher_->Drain();
    if (watcher_->closed()) {
      auto watcher = store_.Watch("/", 0, [this] {
        std::lock_guard lock(mu_);
        triggered_ = true;
        cv_.notify_one();
      });
      if (watcher.ok()) watcher_ = std::move(*watcher);
    }
    SyncAll();
  }
}

}  // namespace xblocks::controllers
