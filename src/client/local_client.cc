#include "client/local_client.h"

#include <condition_variable>
#include <deque>
#include <mutex>

#include <fmt/format.h>

#include "api/selector.h"
#include "api/validation.h"
#include "apiserver/object_meta.h"

namespace xblocks::client {
namespace {

// Wakes a waiting Next(). Shared with the store's notify callback, which may run after the
// stream is gone.
struct Signal {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;  // guarded by mu
};

// A watch over the store, filtered by selectors the way the HTTP watch filters them.
class LocalWatchStream : public WatchStream {
 public:
  LocalWatchStream(const api::ResourceType& type, std::optional<api::LabelSelector> labels,
                   std::optional<api::FieldSelector> fields)
      : type_(type), labels_(std::move(labels)), fields_(std::move(fields)) {}
  ~LocalWatchStream() override {
    if (watcher_) watcher_->Cancel();
  }

  Status Open(store::Store& store, const std::string& prefix, int64_t from) {
    auto watcher = store.Watch(prefix, from, [signal = signal_] {
      std::lock_guard lock(signal->mu);
      signal->ready = true;
      signal->cv.notify_one();
    });
    if (!watcher.ok()) return watcher.status();
    watcher_ = std::move(*watcher);
    return Status::Ok();
  }

  Result<std::optional<WatchEvent>> Next(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (pending_.empty()) {
        for (auto& event : watcher_->Drain()) pending_.push_back(std::move(event));
      }
      while (!pending_.empty()) {
        store::Event event = std::move(pending_.front());
        pending_.pop_front();
        if (auto converted = Convert(std::move(event))) return std::optional<WatchEvent>(std::move(*converted));
      }
      if (watcher_->closed()) return Gone("the watch was closed; list again");
      std::unique_lock lock(signal_->mu);
      if (!signal_->cv.wait_until(lock, deadline, [this] { return signal_->ready; })) {
        return std::optional<WatchEvent>();
      }
      signal_->ready = false;
    }
  }

 private:
  bool Matches(const Json& object) const {
    if (object.is_null()) return false;
    static const Json kEmpty = Json::object();
    const Json& meta = object.contains("metadata") ? object["metadata"] : kEmpty;
    if (labels_ && !labels_->Matches(meta.contains("labels") ? meta["labels"] : kEmpty)) return false;
    return !fields_ || fields_->Matches(object);
  }

  std::optional<WatchEvent> Convert(store::Event event) const {
    const bool now = Matches(event.object);
    const bool before = Matches(event.prev_object);
    WatchEvent out;
    out.resource_version = event.revision;
    if (event.type == store::EventType::kDeleted || (!now && before)) {
      if (!now && !before) return std::nullopt;
      out.type = WatchEventType::kDeleted;
    } else if (!now) {
      return std::nullopt;
    } else {
      out.type = before ? WatchEventType::kModified : WatchEventType::kAdded;
    }
    out.object = std::move(event.object);
    api::ApplyDefaults(type_, out.object);
    return out;
  }

  const api::ResourceType& type_;
  const std::optional<api::LabelSelector> labels_;
  const std::optional<api::FieldSelector> fields_;
  std::shared_ptr<store::Watcher> watcher_;
  std::deque<store::Event> pending_;
  std::shared_ptr<Signal> signal_ = std::make_shared<Signal>();
};

apiserver::Propagation ToPropagation(Propagation propagation) {
  switch (propagation) {
    case Propagation::kForeground: return apiserver::Propagation::kForeground;
    case Propagation::kOrphan: return apiserver::Propagation::kOrphan;
    case Propagation::kBackground: break;
  }
  return apiserver::Propagation::kBackground;
}

}  // namespace

LocalClient::LocalClient(apiserver::Registry& registry, std::string field_manager)
    : registry_(registry), field_manager_(std::move(field_manager)) {}

Result<const api::ResourceType*> LocalClient::TypeOf(const Resource& resource) const {
  const api::ResourceType* type = registry_.scheme().Find(resource.group, resource.version, resource.plural);
  if (type == nullptr) {
    return NotFound(fmt::format("the server does not serve {}/{}", resource.ApiVersion(), resource.plural));
  }
  return type;
}

apiserver::WriteOptions LocalClient::Options(apiserver::Subresource subresource) const {
  apiserver::WriteOptions options;
  options.field_manager = field_manager_;
  options.subresource = subresource;
  return options;
}

Result<Json> LocalClient::Get(const Resource& resource, const std::string& ns, const std::string& name) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  return registry_.Get(**type, ns, name);
}

Result<ObjectList> LocalClient::List(const Resource& resource, const std::string& ns, const ListOptions& options) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  auto listed = registry_.List(**type, ns, {options.label_selector, options.field_selector});
  if (!listed.ok()) return listed.status();
  return ObjectList{std::move(listed->items), listed->revision};
}

Result<Json> LocalClient::Create(const Resource& resource, const Json& object) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  auto created = registry_.Create(**type, apiserver::Namespace(object), object, Options());
  if (!created.ok()) return created.status();
  return std::move(created->object);
}

Result<Json> LocalClient::Update(const Resource& resource, const Json& object) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  auto updated = registry_.Update(**type, apiserver::Namespace(object), apiserver::Name(object), object, Options());
  if (!updated.ok()) return updated.status();
  return std::move(updated->object);
}

Result<Json> LocalClient::UpdateStatus(const Resource& resource, const Json& object) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  auto updated = registry_.Update(**type, apiserver::Namespace(object), apiserver::Name(object), object,
                                  Options(apiserver::Subresource::kStatus));
  if (!updated.ok()) return updated.status();
  return std::move(updated->object);
}

Result<Json> LocalClient::Patch(const Resource& resource, const std::string& ns, const std::string& name,
                                PatchType type, const Json& patch) {
  auto resource_type = TypeOf(resource);
  if (!resource_type.ok()) return resource_type.status();
  const auto patch_type = type == PatchType::kJson ? apiserver::PatchType::kJson : apiserver::PatchType::kMerge;
  auto patched = registry_.Patch(**resource_type, ns, name, patch_type, patch, Options());
  if (!patched.ok()) return patched.status();
  return std::move(patched->object);
}

Result<Json> LocalClient::PatchStatus(const Resource& resource, const std::string& ns, const std::string& name,
                                      const Json& merge_patch) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  auto patched = registry_.Patch(**type, ns, name, apiserver::PatchType::kMerge, merge_patch,
                                 Options(apiserver::Subresource::kStatus));
  if (!patched.ok()) return patched.status();
  return std::move(patched->object);
}

Status LocalClient::Delete(const Resource& resource, const std::string& ns, const std::string& name,
                           const DeleteOptions& options) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  apiserver::DeleteOptions delete_options;
  delete_options.propagation = ToPropagation(options.propagation);
  delete_options.precondition_uid = options.precondition_uid;
  delete_options.grace_period_seconds = options.grace_period_seconds;
  auto deleted = registry_.Delete(**type, ns, name, delete_options);
  return deleted.ok() ? Status::Ok() : deleted.status();
}

Result<std::unique_ptr<WatchStream>> LocalClient::Watch(const Resource& resource, const std::string& ns,
                                                        int64_t resource_version, const ListOptions& options) {
  auto type = TypeOf(resource);
  if (!type.ok()) return type.status();
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;
  if (!options.label_selector.empty()) {
    auto parsed = api::ParseLabelSelector(options.label_selector);
    if (!parsed.ok()) return parsed.status();
    labels = std::move(*parsed);
  }
  if (!options.field_selector.empty()) {
    XB_RETURN_IF_ERROR(registry_.CheckFieldSelector(**type, options.field_selector));
    auto parsed = api::ParseFieldSelector(options.field_selector);
    if (!parsed.ok()) return parsed.status();
    fields = std::move(*parsed);
  }
  auto stream = std::make_unique<LocalWatchStream>(**type, std::move(labels), std::move(fields));
  XB_RETURN_IF_ERROR(stream->Open(registry_.store(), apiserver::Registry::Prefix(**type, ns), resource_version));
  return std::unique_ptr<WatchStream>(std::move(stream));
}

}  // namespace xblocks::client
