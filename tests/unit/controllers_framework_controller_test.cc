// ReconcileController end to end over a real registry: a toy reconciler that copies a
// ConfigMap's data into "<name>-copy" converges, and each ReconcileResult is applied.
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <gtest/gtest.h>

#include "api/json_fields.h"
#include "controllers/reconcile_controller.h"
#include "controllers_framework_test_support.h"

namespace xblocks::testing {
namespace {

using controllers::Informer;
using controllers::ReconcileContext;
using controllers::ReconcileController;
using controllers::ReconcileResult;
using controllers::Request;
using std::chrono::milliseconds;
using std::chrono::seconds;

const client::Resource& kConfigMaps = client::resources::kConfigMaps;

// Copies data of ConfigMaps labelled role=source into "<name>-copy", labelled copy-of=<name>,
// and deletes the copy when the source is gone.
class CopyReconciler : public controllers::Reconciler {
 public:
  CopyReconciler(client::Client& client, Informer& sources) : client_(client), sources_(sources) {}

  std::string_view name() const override { return "configmap-copy"; }

  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override {
    reconciles_.fetch_add(1);
    const std::string copy_name = request.name + "-copy";
    std::optional<Json> source = sources_.Get(request.ns, request.name);
    if (!source) {
      Status deleted = client_.Delete(kConfigMaps, request.ns, copy_name, {});
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return ReconcileResult::Retry(deleted);
      return ReconcileResult::Done();
    }

    const Json& data = api::ObjectAt(*source, "data");
    auto copy = client_.Get(kConfigMaps, request.ns, copy_name);
    if (!copy.ok() && copy.status().code() != StatusCode::kNotFound) return ReconcileResult::Retry(copy.status());
    if (!copy.ok()) {
      Json created = {{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", {{"name", copy_name}, {"namespace", request.ns}, {"labels", {{"copy-of", request.name}}}}},
                      {"data", data}};
      auto result = client_.Create(kConfigMaps, created);
      if (!result.ok()) return ReconcileResult::Retry(result.status());
      context.Info("created copy");
      return ReconcileResult::Done();
    }
    if (api::ObjectAt(*copy, "data") == data) return ReconcileResult::Done();
    Json updated = std::move(*copy);
    updated["data"] = data;
    auto result = client_.Update(kConfigMaps, updated);
    if (!result.ok()) return ReconcileResult::Retry(result.status());
    return ReconcileResult::Done();
  }

  int reconciles() const { return reconciles_.load(); }

 private:
  client::Client& client_;
  Informer& sources_;
  std::atomic<int> reconciles_{0};
};

// Returns scripted results per call, then Done, and counts calls.
class ScriptedReconciler : public controllers::Reconciler {
 public:
  explicit ScriptedReconciler(std::vector<std::function<ReconcileResult()>> script) : script_(std::move(script)) {}

  std::string_view name() const override { return "scripted"; }

  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override {
    EXPECT_EQ(context.request(), request);
    EXPECT_EQ(context.reconcile_id().size(), 8u);
    const int call = calls_.fetch_add(1);
    if (call < static_cast<int>(script_.size())) return script_[call]();
    return ReconcileResult::Done();
  }

  int calls() const { return calls_.load(); }

 private:
  const std::vector<std::function<ReconcileResult()>> script_;
  std::atomic<int> calls_{0};
};

class ReconcileControllerTest : public ClientFixture {
 protected:
  std::optional<Json> Copy(const std::string& name) {
    auto copy = client_->Get(kConfigMaps, "demo", name + "-copy");
    if (!copy.ok()) return std::nullopt;
    return *copy;
  }

  bool CopyHasData(const std::string& name, const Json& data) {
    std::optional<Json> copy = Copy(name);
    return copy && (*copy)["data"] == data;
  }
};

TEST_F(ReconcileControllerTest, CopyConvergesAfterCreatesAndUpdates) {
  CreateConfigMap("early", {{"a", "0"}}, {{"role", "source"}});
  Informer sources(*client_, kConfigMaps, "", {.label_selector = "role=source"});
  Informer copies(*client_, kConfigMaps, "", {.label_selector = "copy-of"});
  CopyReconciler reconciler(*client_, sources);
  SystemClock clock;
  ReconcileController controller(reconciler, clock, {.workers = 3});
  controller.Watches(sources);
  controller.Watches(copies, controllers::LabelMapper("copy-of"));
  sources.Start();
  copies.Start();
  ASSERT_TRUE(controller.Start().ok());

  EXPECT_TRUE(Eventually([&] { return CopyHasData("early", {{"a", "0"}}); }));

  for (int i = 0; i < 5; ++i) CreateConfigMap("src-" + std::to_string(i), {{"a", "1"}}, {{"role", "source"}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(Eventually([&] { return CopyHasData("src-" + std::to_string(i), {{"a", "1"}}); })) << i;
  }

  PatchData("src-2", {{"a", "2"}, {"b", "3"}});
  EXPECT_TRUE(Eventually([&] { return CopyHasData("src-2", {{"a", "2"}, {"b", "3"}}); }));

  // A change to the copy maps back to its source, which restores it.
  PatchData("src-3-copy", {{"a", "tampered"}});
  EXPECT_TRUE(Eventually([&] { return CopyHasData("src-3", {{"a", "1"}}); }));

  DeleteConfigMap("src-4");
  EXPECT_TRUE(Eventually([&] { return !Copy("src-4").has_value(); }));

  controller.Stop();
  EXPECT_EQ(controller.stats().retry + controller.stats().terminal, 0);
  EXPECT_GE(controller.stats().done, 8);
}

TEST_F(ReconcileControllerTest, RetryBacksOffAndSucceedsLater) {
  auto unavailable = [] { return ReconcileResult::Retry(Status(StatusCode::kUnavailable, "dependency not ready")); };
  ScriptedReconciler reconciler({unavailable, unavailable, unavailable});
  Informer informer(*client_, kConfigMaps, "demo");
  FakeClock clock;
  ReconcileController controller(reconciler, clock, {.queue = {.base_delay = seconds(1), .max_delay = seconds(60)}});
  controller.Watches(informer);
  informer.Start();
  ASSERT_TRUE(controller.Start().ok());
  const Request key{"demo", "a"};

  CreateConfigMap("a");
  ASSERT_TRUE(Eventually([&] { return controller.stats().retry == 1; }));
  EXPECT_EQ(reconciler.calls(), 1);
  EXPECT_EQ(controller.queue().NumRequeues(key), 1);
  EXPECT_EQ(controller.queue().Len(), 0u) << "the retry must wait for its backoff";

  // Backoffs are 1 s, 2 s, then 4 s of clock time.
  clock.Advance(seconds(1));
  controller.queue().Tick();
  ASSERT_TRUE(Eventually([&] { return controller.stats().retry == 2; }));
  clock.Advance(seconds(1));
  EXPECT_EQ(controller.queue().Len(), 0u) << "the second backoff is 2 s";
  clock.Advance(seconds(1));
  controller.queue().Tick();
  ASSERT_TRUE(Eventually([&] { return controller.stats().retry == 3; }));
  clock.Advance(seconds(4));
  controller.queue().Tick();
  ASSERT_TRUE(Eventually([&] { return controller.stats().done == 1; }));
  EXPECT_EQ(reconciler.calls(), 4);
  EXPECT_EQ(controller.queue().NumRequeues(key), 0) << "Done must reset the backoff";
}

TEST_F(ReconcileControllerTest, TerminatingNamespaceIsNotRetried) {
  auto refused = [] {
    return ReconcileResult::Retry(Status(StatusCode::kForbidden, "namespace demo is being terminated")
                                      .WithDetails({.causes = {{.type = kNamespaceTerminatingCause}}}));
  };
  ScriptedReconciler reconciler({refused});
  Informer informer(*client_, kConfigMaps, "demo");
  FakeClock clock;
  ReconcileController controller(reconciler, clock, {});
  controller.Watches(informer);
  informer.Start();
  ASSERT_TRUE(controller.Start().ok());

  CreateConfigMap("a");
  ASSERT_TRUE(Eventually([&] { return controller.stats().done == 1; }));
  EXPECT_EQ(controller.stats().retry, 0);
  EXPECT_EQ(controller.queue().NumRequeues({"demo", "a"}), 0);
}

TEST_F(ReconcileControllerTest, RequeueAfterFires) {
  ScriptedReconciler reconciler({[] { return ReconcileResult::RequeueAfter(seconds(30)); }});
  Informer informer(*client_, kConfigMaps, "demo");
  FakeClock clock;
  ReconcileController controller(reconciler, clock);
  controller.Watches(informer);
  informer.Start();
  ASSERT_TRUE(controller.Start().ok());

  CreateConfigMap("a");
  ASSERT_TRUE(Eventually([&] { return controller.stats().requeue_after == 1; }));
  clock.Advance(seconds(29));
  EXPECT_EQ(controller.queue().Len(), 0u);
  EXPECT_EQ(reconciler.calls(), 1);
  clock.Advance(seconds(1));
  controller.queue().Tick();
  EXPECT_TRUE(Eventually([&] { return controller.stats().done == 1; }));
  EXPECT_EQ(reconciler.calls(), 2);
}

TEST_F(ReconcileControllerTest, TerminalIsNotRetriedUntilObjectChanges) {
  ScriptedReconciler reconciler({[] { return ReconcileResult::Terminal(Invalid("spec.replicas must be >= 0")); }});
  Informer informer(*client_, kConfigMaps, "demo");
  FakeClock clock;
  ReconcileController controller(reconciler, clock);
  controller.Watches(informer);
  informer.Start();
  ASSERT_TRUE(controller.Start().ok());

  CreateConfigMap("a");
  ASSERT_TRUE(Eventually([&] { return controller.stats().terminal == 1; }));
  clock.Advance(seconds(5000));
  controller.queue().Tick();
  EXPECT_EQ(controller.queue().Len(), 0u);
  EXPECT_EQ(controller.queue().NumRequeues({"demo", "a"}), 0);
  EXPECT_EQ(reconciler.calls(), 1);

  PatchData("a", {{"a", "2"}});
  EXPECT_TRUE(Eventually([&] { return controller.stats().done == 1; }));
  EXPECT_EQ(reconciler.calls(), 2);
}

TEST_F(ReconcileControllerTest, ThrownExceptionBecomesRetry) {
  ScriptedReconciler reconciler({[]() -> ReconcileResult { throw std::runtime_error("boom"); }});
  Informer informer(*client_, kConfigMaps, "demo");
  FakeClock clock;
  ReconcileController controller(reconciler, clock);
  controller.Watches(informer);
  informer.Start();
  ASSERT_TRUE(controller.Start().ok());

  CreateConfigMap("a");
  ASSERT_TRUE(Eventually([&] { return controller.stats().retry == 1; }));
  clock.Advance(milliseconds(5));
  controller.queue().Tick();
  EXPECT_TRUE(Eventually([&] { return controller.stats().done == 1; }));
}

TEST_F(ReconcileControllerTest, StartTimesOutWhenInformerNotStarted) {
  ScriptedReconciler reconciler({});
  Informer informer(*client_, kConfigMaps, "demo");
  SystemClock clock;
  ReconcileController controller(reconciler, clock, {.sync_timeout = milliseconds(20)});
  controller.Watches(informer);
  Status started = controller.Start();
  EXPECT_EQ(started.code(), StatusCode::kTimeout);
  EXPECT_NE(started.message().find("configmaps"), std::string::npos) << started.message();
  EXPECT_EQ(controller.Start().code(), StatusCode::kBadRequest);
}

TEST_F(ReconcileControllerTest, StopWaitsForInFlightReconcile) {
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  ScriptedReconciler reconciler({[&] {
    entered = true;
    // Long enough that Stop() is called while this runs.
    std::this_thread::sleep_for(milliseconds(50));
    finished = true;
    return ReconcileResult::Done();
  }});
  Informer informer(*client_, kConfigMaps, "demo");
  SystemClock clock;
  ReconcileController controller(reconciler, clock);
  controller.Watches(informer);
  informer.Start();
  ASSERT_TRUE(controller.Start().ok());
  CreateConfigMap("a");
  ASSERT_TRUE(Eventually([&] { return entered.load(); }));
  controller.Stop();
  EXPECT_TRUE(finished.load());
  controller.Stop();

  // Events after Stop() reach no queue.
  CreateConfigMap("b");
  EXPECT_EQ(controller.queue().Len(), 0u);
}

TEST_F(ReconcileControllerTest, OwnedObjectsMapToTheirOwner) {
  ScriptedReconciler reconciler({});
  Informer informer(*client_, kConfigMaps, "demo");
  FakeClock clock;
  ReconcileController controller(reconciler, clock);
  controller.Watches(informer, controllers::OwnerMapper("Component"));
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  Json owned = ConfigMap("pod-config");
  owned["metadata"]["ownerReferences"] = {
      {{"apiVersion", "apps.kubeblocks.io/v1alpha1"}, {"kind", "Component"}, {"name", "web"},
       {"uid", "1"}, {"controller", true}}};
  ASSERT_TRUE(client_->Create(kConfigMaps, owned).ok());
  // The workers are not started, so the Request stays queued for the test to take.
  ASSERT_TRUE(Eventually([&] { return controller.queue().Len() == 1; }));
  EXPECT_EQ(controller.queue().Get(), (Request{"demo", "web"}));
}

}  // namespace
}  // namespace xblocks::testing
