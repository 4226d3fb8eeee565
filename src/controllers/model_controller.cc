#include "controllers/model_controller.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "client/events.h"
#include "common/log.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/phases.h"

namespace xblocks::controllers {
namespace {

namespace res = client::resources;

constexpr const char* kEventComponent = "model-controller";

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string SpecString(const Json& model, const char* field) {
  return api::StringMemberOf(api::ObjectAt(model, "spec"), field);
}

// The pod's Xinference port: the container port named "xinference", else the first one.
int XinferencePort(const Json& pod) {
  int first = 0;
  for (const Json& container : api::ArrayAt(pod, "spec.containers")) {
    for (const Json& port : api::ArrayAt(container, "ports")) {
      const int number = static_cast<int>(api::IntAt(port, "containerPort", 0));
      if (first == 0) first = number;
      if (api::StringMemberOf(port, "name") == "xinference" && number > 0) return number;
    }
  }
  return first > 0 ? first : 9997;
}

int64_t RestartCount(const Json& pod) {
  int64_t restarts = 0;
  for (const Json& container : api::ArrayAt(pod, "status.containerStatuses")) restarts += api::IntAt(container, "restartCount", 0);
  return restarts;
}

// Whether the last time a container of the pod ended, the kernel killed it for memory.
bool LastEndedOutOfMemory(const Json& pod) {
  for (const Json& container : api::ArrayAt(pod, "status.containerStatuses")) {
    if (api::StringAt(container, "lastState.terminated.reason") == "OOMKilled") return true;
  }
  return false;
}

int ExpectedReplicas(const Json& cluster) {
  int64_t total = 0;
  for (const Json& component : api::ArrayAt(cluster, "spec.componentSpecs")) total += api::IntAt(component, "replicas", 1);
  return static_cast<int>(total);
}

Json Condition(bool ok, const std::string& reason, const std::string& message, int64_t generation,
               const std::string& now) {
  return {{"type", "Ready"},         {"status", ok ? "True" : "False"}, {"reason", reason},
          {"message", message},      {"observedGeneration", generation}, {"lastTransitionTime", now}};
}

}  // namespace

std::string ModelUid(const Json& model) {
  const std::string uid = SpecString(model, "modelUid");
  return uid.empty() ? apiserver::Name(model) : uid;
}

Json LaunchBody(const Json& model) {
  const Json& spec = api::ObjectAt(model, "spec");
  Json body = {{"model_uid", ModelUid(model)},
               {"model_name", api::StringMemberOf(spec, "modelName")},
               {"model_type", spec.value("modelType", "LLM")},
               {"replica", api::IntAt(spec, "replica", 1)}};
  for (const auto& [field, key] : {std::pair{"modelEngine", "model_engine"}, std::pair{"modelFormat", "model_format"},
                                   std::pair{"quantization", "quantization"}}) {
    if (spec.contains(field) && spec[field].is_string()) body[key] = spec[field];
  }
  if (spec.contains("modelSizeInBillions")) body["model_size_in_billions"] = spec["modelSizeInBillions"];
  if (spec.contains("nGpu")) {
    const Json& gpus = spec["nGpu"];
    // 0 requests CPU, which Xinference spells as null.
    body["n_gpu"] = gpus.is_number_integer() && gpus.get<int64_t>() == 0 ? Json(nullptr) : gpus;
  }
  return body;
}

Json CustomModelSpec(const Json& model) {
  const Json& spec = api::ObjectAt(model, "spec");
  const std::string path = api::StringMemberOf(spec, "modelPath");
  if (path.empty()) return nullptr;
  Json custom = {{"model_name", api::StringMemberOf(spec, "modelName")},
                 {"model_uri", "file://" + path},
                 {"language", spec.value("language", Json::array({"en"}))}};
  if (spec.value("modelType", "") == "embedding") {
    custom["dimensions"] = api::IntAt(spec, "dimensions", 0);
    custom["max_tokens"] = api::IntAt(spec, "maxTokens", 512);
  }
  return custom;
}

LaunchFailure ClassifyLaunchFailure(const Json& model, const std::string& pod, const Refusal& refusal) {
  const std::string& detail = refusal.detail;
  const std::string name = SpecString(model, "modelName");
  const std::string type = api::ObjectAt(model, "spec").value("modelType", "LLM");
  const std::string path = SpecString(model, "modelPath");
  if (Contains(detail, "not found, availablemodel list") || Contains(detail, "Model not found, name:") ||
      Contains(detail, "not found, available")) {
    return {"UnknownModel",
            fmt::format("Xinference on {} has no {} model named \"{}\" with this format, size and quantization; "
                        "fix spec.modelName, or set spec.modelPath to register a custom model",
                        pod, type, name)};
  }
  if (!path.empty() && (Contains(detail, "No such file or directory") || Contains(detail, "not found"))) {
    return {"ModelPathNotFound",
            fmt::format("spec.modelPath {} does not exist on {}; point it at the directory that holds the model's "
                        "weights (Xinference: {})",
                        path, pod, detail)};
  }
  if (Contains(detail, "No available slot")) {
    return {"NoGpuSlot", fmt::format("no free GPU on {} for this model: lower spec.nGpu, delete another LLM Model of "
                                     "the cluster, or give the cluster more GPUs (Xinference: {})",
                                     pod, detail)};
  }
  if (Contains(detail, "Remote server") || Contains(detail, "out of memory") || Contains(detail, "Killed") ||
      Contains(detail, "MemoryError") || Contains(detail, "Cannot allocate memory")) {
    return {"OutOfMemory",
            fmt::format("the model's process on {} died while loading, most likely at the replica's memory limit: "
                        "raise the cluster's memory with a VerticalScaling or choose a smaller model (Xinference: {})",
                        pod, detail)};
  }
  if (refusal.status == 400) {
    return {"InvalidSpec", fmt::format("Xinference on {} refused the model: {}; fix the Model's spec", pod, detail)};
  }
  return {"LaunchFailed", fmt::format("Xinference on {} failed to launch the model (HTTP {}): {}", pod,
                                      refusal.status, detail)};
}

std::vector<Json> ModelsOfCluster(const Informer& models, const std::string& ns, const std::string& cluster) {
  std::vector<Json> found;
  auto listed = models.List(ns);
  if (!listed.ok()) return found;
  for (Json& model : *listed) {
    if (SpecString(model, "clusterName") == cluster) found.push_back(std::move(model));
  }
  return found;
}

std::optional<ModelsWait> WaitForModels(const std::vector<Json>& models, const std::vector<Json>& pods) {
  std::vector<std::string> waiting;
  for (const Json& model : models) {
    if (apiserver::IsDeleting(model)) continue;
    const std::string name = apiserver::Name(model);
    const Json& status = api::ObjectAt(model, "status");
    const bool current = api::IntAt(status, "observedGeneration", 0) == model["metadata"].value("generation", 1);
    int served = 0;
    for (const Json& pod : pods) {
      for (const Json& replica : api::ArrayAt(status, "replicas")) {
        if (api::StringMemberOf(replica, "podUID") != apiserver::Uid(pod)) continue;
        const std::string state = api::StringMemberOf(replica, "state");
        if (state == "Failed" && current) {
          return ModelsWait{true, fmt::format("model {} failed on {}: {}", name, apiserver::Name(pod),
                                              api::StringMemberOf(replica, "message"))};
        }
        if (state == "Ready") ++served;
      }
    }
    if (!current || served < static_cast<int>(pods.size()) || api::StringMemberOf(status, "phase") != "Ready") {
      waiting.push_back(fmt::format("{} ({}/{})", name, served, pods.size()));
    }
  }
  if (waiting.empty()) return std::nullopt;
  return ModelsWait{false, fmt::format("waiting for declared models to be served again: {}", fmt::join(waiting, ", "))};
}

MapFn PodToModels(const Informer& models) {
  return [&models](const Json& pod) -> std::vector<Request> {
    const std::string cluster = api::StringMemberOf(
        pod["metadata"].value("labels", Json::object()), kb::kInstanceLabel);
    if (cluster.empty()) return {};
    std::vector<Request> requests;
    auto listed = models.List(apiserver::Namespace(pod));
    if (!listed.ok()) return {};
    for (const Json& model : *listed) {
      if (SpecString(model, "clusterName") == cluster) requests.push_back({apiserver::Namespace(model), apiserver::Name(model)});
    }
    return requests;
  };
}

MapFn ClusterToModels(const Informer& models) {
  return [&models](const Json& cluster) -> std::vector<Request> {
    std::vector<Request> requests;
    auto listed = models.List(apiserver::Namespace(cluster));
    if (!listed.ok()) return {};
    for (const Json& model : *listed) {
      if (SpecString(model, "clusterName") == apiserver::Name(cluster)) {
        requests.push_back({apiserver::Namespace(model), apiserver::Name(model)});
      }
    }
    return requests;
  };
}

ModelReconciler::ModelReconciler(client::Client& client, const Clock& clock, const Informer& models,
                                 const Informer& clusters, const Informer& pods, Options options)
    : client_(client), clock_(clock), models_(models), clusters_(clusters), pods_(pods), options_(std::move(options)) {}

ModelReconciler::~ModelReconciler() {
  std::map<std::string, std::shared_ptr<Launch>> launches;
  {
    std::lock_guard lock(mu_);
    launches.swap(launches_);
  }
  for (auto& [key, launch] : launches) {
    bool finished = false;
    {
      std::lock_guard lock(launch->mu);
      finished = launch->finished;
    }
    if (!launch->thread.joinable()) continue;
    if (finished) {
      launch->thread.join();
    } else {
      launch->thread.detach();
    }
  }
}

std::optional<ModelReconciler::LaunchState> ModelReconciler::LaunchStateOf(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = launches_.find(key);
  if (it == launches_.end()) return std::nullopt;
  std::lock_guard launch_lock(it->second->mu);
  return LaunchState{!it->second->finished, it->second->answered, it->second->failure, it->second->restarts};
}

bool ModelReconciler::LaunchRunningOnPod(const std::string& pod_uid) {
  std::lock_guard lock(mu_);
  for (auto& [key, launch] : launches_) {
    if (!key.starts_with(pod_uid + "/")) continue;
    std::lock_guard launch_lock(launch->mu);
    if (!launch->finished) return true;
  }
  return false;
}

void ModelReconciler::FailLaunch(const std::string& key, LaunchFailure failure) {
  std::lock_guard lock(mu_);
  auto it = launches_.find(key);
  if (it == launches_.end()) return;
  std::lock_guard launch_lock(it->second->mu);
  if (it->second->finished) it->second->failure = std::move(failure);
}

void ModelReconciler::StartLaunch(const std::string& key, const Json& model, const std::string& pod,
                                  int64_t restarts, ReplicaEndpoint endpoint) {
  auto launch = std::make_shared<Launch>();
  launch->restarts = restarts;
  std::lock_guard lock(mu_);
  if (launches_.count(key) > 0) return;
  launches_[key] = launch;
  // The thread works on its own copies and the shared Launch only, so it may outlive the
  // reconciler.
  launch->thread = std::thread([launch, transport = options_.transport, timeout = options_.launch_timeout, model,
                                pod, endpoint = std::move(endpoint)] {
    XinferenceClient replica(transport, endpoint);
    std::optional<LaunchFailure> failure;
    bool answered = false;
    const Json custom = CustomModelSpec(model);
    Result<std::optional<Refusal>> result = std::optional<Refusal>();
    if (!custom.is_null()) {
      // Registering a name again makes Xinference 0.11 delete that model's cache, so a name that
      // it already lists (registered before this pod restarted, or built in) is left alone.
      const std::string type = api::ObjectAt(model, "spec").value("modelType", "LLM");
      auto known = replica.IsRegistered(type, custom.value("model_name", ""));
      if (!known.ok()) {
        result = known.status();
      } else if (!*known) {
        result = replica.Register(type, custom);
      }
    }
    if (result.ok() && !result->has_value()) result = replica.Launch(LaunchBody(model), timeout);
    if (result.ok()) {
      answered = true;
      // The uid is already loaded or loading, for example while Xinference recreates a model
      // whose process died. That is not a failure, and the next reconcile reads its state.
      if (result->has_value() && (*result)->detail.find("already in the model list") == std::string::npos) {
        failure = ClassifyLaunchFailure(model, pod, **result);
      }
    } else {
      XB_LOG_WARN("model launch got no answer", {{"namespace", apiserver::Namespace(model)},
                                                 {"name", apiserver::Name(model)},
                                                 {"pod", pod},
                                                 {"err", result.status().message()}});
    }
    std::lock_guard done(launch->mu);
    launch->failure = std::move(failure);
    launch->answered = answered;
    launch->finished = true;
  });
}

void ModelReconciler::ForgetLaunch(const std::string& key) {
  std::shared_ptr<Launch> launch;
  {
    std::lock_guard lock(mu_);
    auto it = launches_.find(key);
    if (it == launches_.end()) return;
    {
      std::lock_guard launch_lock(it->second->mu);
      if (!it->second->finished) return;
    }
    launch = std::move(it->second);
    launches_.erase(it);
  }
  if (launch->thread.joinable()) launch->thread.join();
}

void ModelReconciler::JoinFinished(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = launches_.find(key);
  if (it == launches_.end() || !it->second->thread.joinable()) return;
  {
    std::lock_guard launch_lock(it->second->mu);
    if (!it->second->finished) return;
  }
  it->second->thread.join();
}

void ModelReconciler::PruneLaunches(const std::string& uid, int64_t generation,
                                    const std::set<std::string>& pod_uids) {
  std::vector<std::shared_ptr<Launch>> dropped;
  {
    std::lock_guard lock(mu_);
    for (auto it = launches_.begin(); it != launches_.end();) {
      // Keys are "<pod uid>/<model uid>/<generation>"; a pod uid contains no '/'.
      const std::string& key = it->first;
      const size_t first = key.find('/');
      const size_t last = key.rfind('/');
      const bool this_model = first != last && key.substr(first + 1, last - first - 1) == uid;
      const bool current = pod_uids.count(key.substr(0, first)) > 0 && key.substr(last + 1) == std::to_string(generation);
      bool finished = false;
      {
        std::lock_guard launch_lock(it->second->mu);
        finished = it->second->finished;
      }
      if (this_model && !current && finished) {
        dropped.push_back(std::move(it->second));
        it = launches_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& launch : dropped) {
    if (launch->thread.joinable()) launch->thread.join();
  }
}

ModelReconciler::ReplicaState ModelReconciler::ReconcileReplica(const Json& model, const Json& pod,
                                                                const ReconcileContext& context) {
  ReplicaState state{apiserver::Name(pod), apiserver::Uid(pod), "Waiting", "", std::nullopt, ""};
  const std::string ip = api::StringAt(pod, "status.podIP");
  if (apiserver::IsDeleting(pod) || ip.empty() || !PodContainersReady(pod)) {
    state.message = "the replica is not ready yet";
    return state;
  }
  const ReplicaEndpoint endpoint{ip, XinferencePort(pod)};
  state.endpoint = endpoint.BaseUrl() + "/v1";
  const std::string uid = ModelUid(model);
  const std::string key =
      fmt::format("{}/{}/{}", apiserver::Uid(pod), uid, model["metadata"].value("generation", int64_t{1}));

  XinferenceClient replica(options_.transport, endpoint);
  auto instances = replica.ListInstances(uid);
  if (!instances.ok()) {
    state.message = "the replica does not respond: " + instances.status().message();
    return state;
  }
  const ModelInstance* instance = instances->empty() ? nullptr : &instances->front();
  auto launch = LaunchStateOf(key);

  if (instance != nullptr && instance->model_name != SpecString(model, "modelName") && instance->status != "ERROR") {
    // The uid serves another model (the spec changed, or someone launched it by hand).
    context.Info("terminating a model launched from another spec",
                 {{"pod", state.pod}, {"uid", uid}, {"running", instance->model_name}});
    if (Status terminated = replica.Terminate(uid); !terminated.ok()) state.message = terminated.message();
    ForgetLaunch(key);
    state.state = "Launching";
    return state;
  }
  if (launch && launch->running) {
    state.state = "Launching";
    state.message = instance != nullptr ? "Xinference reports " + instance->status : "registering and launching";
    return state;
  }
  if (launch && launch->failure) {
    JoinFinished(key);
    state.state = "Failed";
    state.message = launch->failure->message;
    state.failure = launch->failure;
    return state;
  }
  if (instance != nullptr && instance->status == "READY") {
    if (launch) ForgetLaunch(key);  // loaded: the record of its launch has done its job
    state.state = "Ready";
    return state;
  }
  if (instance != nullptr && (instance->status == "CREATING" || instance->status == "UPDATING" ||
                              instance->status == "TERMINATING")) {
    state.state = "Launching";
    state.message = "Xinference reports " + instance->status;
    return state;
  }
  // A launch that got no reply because the replica was OOM-killed meanwhile is that model's
  // failure: launching it again would kill the replica again, with every model on it.
  if (launch && !launch->answered && RestartCount(pod) > launch->restarts && LastEndedOutOfMemory(pod)) {
    LaunchFailure failure{"OutOfMemory",
                          fmt::format("{} was killed at its memory limit while it loaded this model: raise the "
                                      "cluster's memory with a VerticalScaling or choose a smaller model",
                                      state.pod)};
    FailLaunch(key, failure);
    JoinFinished(key);
    context.Warn("model launch killed its replica", {{"pod", state.pod}, {"uid", uid}});
    state.state = "Failed";
    state.message = failure.message;
    state.failure = std::move(failure);
    return state;
  }
  // Missing, TERMINATED, or ERROR from a launch this process did not make: launch it, unless
  // another model is loading on the replica.
  if (launch) ForgetLaunch(key);
  if (LaunchRunningOnPod(apiserver::Uid(pod))) {
    state.state = "Launching";
    state.message = "waiting for another model to finish loading on this replica";
    return state;
  }
  context.Info("launching model", {{"pod", state.pod}, {"uid", uid}, {"endpoint", endpoint.BaseUrl()},
                                   {"found", instance != nullptr ? instance->status : "none"}});
  StartLaunch(key, model, state.pod, RestartCount(pod), endpoint);
  state.state = "Launching";
  state.message = "registering and launching";
  return state;
}

ReconcileResult ModelReconciler::Finalize(const Json& model, const ReconcileContext& context) {
  const std::string ns = apiserver::Namespace(model);
  const std::string uid = api::StringAt(model, "status.modelUid").empty() ? ModelUid(model)
                                                                          : api::StringAt(model, "status.modelUid");
  auto pods = pods_.List(ns, std::string(kb::kInstanceLabel) + "=" + SpecString(model, "clusterName"));
  if (!pods.ok()) return ReconcileResult::Retry(pods.status());
  int terminated = 0;
  for (const Json& pod : *pods) {
    const std::string ip = api::StringAt(pod, "status.podIP");
    if (ip.empty() || !PodContainersReady(pod)) continue;  // a pod that is not serving has no model to stop
    XinferenceClient replica(options_.transport, {ip, XinferencePort(pod)});
    auto instances = replica.ListInstances(uid);
    if (!instances.ok()) continue;  // gone or restarting: it comes back without the model
    if (instances->empty() || instances->front().status == "ERROR") continue;  // nothing runs
    Status stopped = replica.Terminate(uid);
    if (!stopped.ok()) return ReconcileResult::Retry(stopped);
    ++terminated;
    context.Info("model terminated", {{"pod", apiserver::Name(pod)}, {"uid", uid}});
  }
  PruneLaunches(uid, -1, {});
  if (terminated > 0) {
    (void)client::RecordEvent(client_, clock_, model,
                              {"Normal", "Terminated", fmt::format("terminated {} on {} replica(s)", uid, terminated),
                               kEventComponent});
  }
  Json finalizers = Json::array();
  for (const Json& finalizer : api::ArrayAt(model, "metadata.finalizers")) {
    if (finalizer != kModelFinalizer) finalizers.push_back(finalizer);
  }
  auto patched = client_.Patch(res::kModels, ns, apiserver::Name(model), client::PatchType::kMerge,
                               {{"metadata", {{"finalizers", finalizers}}}});
  if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) return ReconcileResult::Retry(patched.status());
  return ReconcileResult::Done();
}

Status ModelReconciler::EnsureFinalizer(const Json& model) {
  Json finalizers = api::ArrayAt(model, "metadata.finalizers");
  if (std::find(finalizers.begin(), finalizers.end(), Json(kModelFinalizer)) != finalizers.end()) return Status::Ok();
  finalizers.push_back(kModelFinalizer);
  auto patched = client_.Patch(res::kModels, apiserver::Namespace(model), apiserver::Name(model),
                               client::PatchType::kMerge, {{"metadata", {{"finalizers", finalizers}}}});
  return patched.ok() ? Status::Ok() : patched.status();
}

Status ModelReconciler::WriteStatus(const Json& model, const std::vector<ReplicaState>& replicas, int expected,
                                    const std::string& pending_message, const ReconcileContext& context) {
  const int64_t generation = model["metadata"].value("generation", int64_t{1});
  const Json old_status = api::ObjectAt(model, "status");
  int ready = 0;
  const ReplicaState* failed = nullptr;
  bool launching = false;
  std::string endpoint;
  Json entries = Json::array();
  for (const ReplicaState& replica : replicas) {
    Json entry = {{"pod", replica.pod}, {"podUID", replica.pod_uid}, {"state", replica.state}};
    if (!replica.message.empty()) entry["message"] = replica.message;
    entries.push_back(std::move(entry));
    if (replica.state == "Ready") {
      ++ready;
      if (endpoint.empty()) endpoint = replica.endpoint;
    }
    if (replica.state == "Failed" && failed == nullptr) failed = &replica;
    if (replica.state == "Launching") launching = true;
  }

  std::string phase = "Pending";
  std::string reason = "Pending";
  std::string message = pending_message;
  if (failed != nullptr) {
    phase = "Failed";
    reason = failed->failure ? failed->failure->reason : "LaunchFailed";
    message = failed->message;
  } else if (expected > 0 && ready >= expected) {
    phase = "Ready";
    reason = "ModelReady";
    message = fmt::format("served by {}/{} replicas", ready, expected);
  } else if (launching || ready > 0) {
    phase = "Launching";
    reason = "Launching";
    message = fmt::format("{}/{} replicas serve the model", ready, expected);
  } else if (message.empty()) {
    message = "waiting for a ready replica of cluster " + SpecString(model, "clusterName");
  }

  Json status = {{"observedGeneration", generation},
                 {"phase", phase},
                 {"modelUid", ModelUid(model)},
                 {"ready", fmt::format("{}/{}", ready, expected)},
                 {"replicas", entries}};
  if (!endpoint.empty()) status["endpoint"] = endpoint;
  if (phase != "Ready" && !message.empty()) status["message"] = message;
  Json condition = Condition(phase == "Ready", reason, message, generation, FormatRfc3339(clock_.Now()));
  for (const Json& old : api::ArrayAt(old_status, "conditions")) {
    if (api::StringMemberOf(old, "type") == "Ready" && api::StringMemberOf(old, "status") == condition["status"]) {
      condition["lastTransitionTime"] = old.value("lastTransitionTime", condition["lastTransitionTime"]);
    }
  }
  status["conditions"] = Json::array({condition});
  if (status == old_status) return Status::Ok();

  // A merge patch keeps keys it does not name, so fields that no longer apply are set to null.
  Json patch = status;
  for (const char* field : {"endpoint", "message"}) {
    if (!status.contains(field) && old_status.contains(field)) patch[field] = nullptr;
  }
  auto written = client_.PatchStatus(res::kModels, apiserver::Namespace(model), apiserver::Name(model),
                                     {{"status", patch}});
  if (!written.ok()) return written.status().code() == StatusCode::kNotFound ? Status::Ok() : written.status();
  const std::string old_phase = api::StringMemberOf(old_status, "phase");
  const std::string old_message = api::StringMemberOf(old_status, "message");
  if (phase != old_phase || (phase == "Failed" && message != old_message)) {
    context.Info("model phase", {{"phase", phase}, {"ready", status["ready"].get<std::string>()}, {"reason", reason}});
    const std::string text = phase == "Ready" ? message : fmt::format("{}: {}", phase, message);
    return client::RecordEvent(client_, clock_, *written,
                               {phase == "Failed" ? "Warning" : "Normal", reason, text, kEventComponent});
  }
  return Status::Ok();
}

ReconcileResult ModelReconciler::Reconcile(const Request& request, const ReconcileContext& context) {
  auto cached = models_.Get(request.ns, request.name);
  if (!cached) return ReconcileResult::Done();
  const Json& model = *cached;
  if (apiserver::IsDeleting(model)) return Finalize(model, context);
  if (Status ensured = EnsureFinalizer(model); !ensured.ok()) {
    return ensured.code() == StatusCode::kNotFound ? ReconcileResult::Done() : ReconcileResult::Retry(ensured);
  }

  const std::string cluster_name = SpecString(model, "clusterName");
  auto cluster = clusters_.Get(request.ns, cluster_name);
  std::vector<ReplicaState> replicas;
  int expected = 0;
  std::string pending;
  if (!cluster) {
    pending = fmt::format("cluster {} does not exist in namespace {}; create it or fix spec.clusterName",
                          cluster_name, request.ns);
  } else {
    expected = ExpectedReplicas(*cluster);
    const std::string cluster_phase = api::StringAt(*cluster, "status.phase");
    if (cluster_phase == "Stopped" || cluster_phase == "Stopping") {
      pending = fmt::format("cluster {} is {}; the model is launched again when it starts", cluster_name,
                            cluster_phase);
    }
    auto pods = pods_.List(request.ns, std::string(kb::kInstanceLabel) + "=" + cluster_name);
    if (!pods.ok()) return ReconcileResult::Retry(pods.status());
    std::set<std::string> pod_uids;
    for (const Json& pod : *pods) {
      replicas.push_back(ReconcileReplica(model, pod, context));
      pod_uids.insert(apiserver::Uid(pod));
    }
    PruneLaunches(ModelUid(model), model["metadata"].value("generation", int64_t{1}), pod_uids);
  }

  // A uid launched before the spec changed it is stopped everywhere it still runs.
  const std::string old_uid = api::StringAt(model, "status.modelUid");
  if (!old_uid.empty() && old_uid != ModelUid(model)) {
    for (const ReplicaState& replica : replicas) {
      if (replica.endpoint.empty()) continue;
      auto pod = pods_.Get(request.ns, replica.pod);
      if (!pod) continue;
      XinferenceClient client(options_.transport, {api::StringAt(*pod, "status.podIP"), XinferencePort(*pod)});
      auto listed = client.ListInstances(old_uid);
      if (listed.ok() && !listed->empty()) (void)client.Terminate(old_uid);
    }
  }

  if (Status written = WriteStatus(model, replicas, expected, pending, context); !written.ok()) {
    return ReconcileResult::Retry(written);
  }
  const bool settled = std::all_of(replicas.begin(), replicas.end(), [](const ReplicaState& replica) {
    return replica.state == "Ready" || replica.state == "Failed";
  });
  return ReconcileResult::RequeueAfter(settled && !replicas.empty() ? options_.poll_settled
                                                                     : options_.poll_launching);
}

}  // namespace xblocks::controllers
