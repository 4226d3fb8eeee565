#include "node/process_agent.h"

#include <algorithm>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "apiserver/responses.h"
#include "common/base64.h"
#include "common/log.h"
#include "client/events.h"
#include "node/probes.h"
#include "node/readiness_gates.h"
#include "node/simulated_agent.h"

namespace xblocks::node {
namespace {

namespace fs = std::filesystem;
using client::resources::kClusterVersions;
using client::resources::kPersistentVolumeClaims;
using client::resources::kPods;

constexpr std::chrono::seconds kVolumeSweepInterval{10};
// The maximum time a server stop waits for a pod's processes before it kills them.
constexpr std::chrono::seconds kShutdownGrace{10};
constexpr char kComponent[] = "kubelet";
constexpr std::chrono::seconds kReplanInterval{2};

int64_t GracePeriod(const Json& pod) {
  const Json& meta = pod["metadata"];
  if (meta.contains("deletionGracePeriodSeconds") && meta["deletionGracePeriodSeconds"].is_number_integer()) {
    return meta["deletionGracePeriodSeconds"].get<int64_t>();
  }
  const Json& spec = pod.value("spec", Json::object());
  return spec.value("terminationGracePeriodSeconds", int64_t{30});
}

bool SafePathComponent(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// The QoS class as kubelet computes it, from requests and limits of cpu and memory.
std::string QosClass(const Json& pod) {
  bool any = false;
  bool guaranteed = true;
  for (const auto& container : pod["spec"].value("containers", Json::array())) {
    const Json& resources = container.value("resources", Json::object());
    const Json& limits = resources.value("limits", Json::object());
    const Json& requests = resources.value("requests", Json::object());
    for (const char* name : {"cpu", "memory"}) {
      const std::string limit = api::StringMemberOf(limits, name);
      const std::string request = api::StringMemberOf(requests, name);
      if (!limit.empty() || !request.empty()) any = true;
      if (limit.empty() || (!request.empty() && request != limit)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

// Writes the keys of a ConfigMap or (decoded) Secret as files into `dir`.
void WriteVolumeFiles(const Json& object, bool secret, const fs::path& dir) {
  const Json& data = object.value("data", Json::object());
  if (!data.is_object()) return;
  for (const auto& [key, value] : data.items()) {
    if (!value.is_string() || !SafePathComponent(key)) continue;
    std::string content = value.get<std::string>();
    if (secret) {
      auto decoded = Base64Decode(content);
      if (!decoded) continue;
      content = *decoded;
    }
    std::ofstream(dir / key, std::ios::binary | std::ios::trunc) << content;
  }
}

std::string ReadFrom(const fs::path& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The last `lines` lines of `text`.
std::string TailLines(const std::string& text, int64_t lines) {
  if (lines < 0) return text;
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int64_t seen = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++seen == lines) break;
  }
  return lines == 0 ? "" : text.substr(pos);
}

apiserver::HttpResponse BadLogRequest(const std::string& message) {
  Status status = BadRequest(message);
  return apiserver::ErrorResponse(status);
}

}  // namespace

struct ProcessAgent::ContainerRuntime {
  struct Probe {
    const char* kind;  // "Startup", "Liveness", "Readiness"
    Json spec;
    std::optional<ProbeState> state;
    std::future<ProbeResult> inflight;
  };

  ContainerRuntime(Json container_spec, const Clock& clock, RestartBackoffOptions backoff_options)
      : spec(std::move(container_spec)), backoff(clock, backoff_options) {
    probes.push_back({"Startup", spec.value("startupProbe", Json()), std::nullopt, {}});
    probes.push_back({"Liveness", spec.value("livenessProbe", Json()), std::nullopt, {}});
    probes.push_back({"Readiness", spec.value("readinessProbe", Json()), std::nullopt, {}});
  }

  Probe& startup() { return probes[0]; }
  Probe& liveness() { return probes[1]; }
  Probe& readiness() { return probes[2]; }

  Json spec;
  ContainerPlan plan;
  std::optional<ProcessHandle> handle;
  int runs = 0;  // starts so far; the current log is run `runs - 1`
  int restart_count = 0;
  RestartBackoff backoff;
  TimePoint started_at{};
  int64_t oom_kills_at_start = 0;
  bool started = false;
  bool ready = false;
  std::optional<TimePoint> kill_at;  // set while stopping: SIGKILL at this time
  Json terminated;       // state.terminated of a container that will not run again, else null
  Json last_terminated;  // lastState.terminated
  std::string waiting_reason = "ContainerCreating";
  std::string waiting_message;
  TimePoint next_plan{};  // when a plan that failed is tried again
  std::vector<Probe> probes;
};

struct ProcessAgent::PodRuntime {
  Json pod;
  std::string uid;
  std::string ns;
  std::string name;
  std::string ip;
  fs::path dir;
  std::string restart_policy = "Always";
  bool cgroup_created = false;
  bool limits_enforced = false;
  std::string limits_message;
  TimePoint start_time{};
  bool terminating = false;
  TimePoint deadline{};
  PodContext context;
  std::vector<std::unique_ptr<ContainerRuntime>> containers;
  Json last_status;
};

ProcessAgent::ProcessAgent(client::Client& client, const Clock& clock, ProcessLauncher& launcher,
                           CgroupDriver& cgroups, Options options)
    : client_(client), clock_(clock), launcher_(launcher), cgroups_(cgroups), options_(std::move(options)) {}

ProcessAgent::~ProcessAgent() { Stop(); }

fs::path ProcessAgent::LogPath(const std::string& pod_uid, const std::string& container, int run) const {
  return options_.data_dir / "pods" / pod_uid / "logs" / container / fmt::format("{}.log", run);
}

Status ProcessAgent::Start() {
  // A previous server that died without stopping may have left processes in the subtree.
  XB_RETURN_IF_ERROR(cgroups_.Cleanup());
  XB_RETURN_IF_ERROR(cgroups_.Init());
  std::error_code error;
  fs::create_directories(options_.data_dir / "pods", error);
  fs::create_directories(options_.data_dir / "volumes", error);
  XB_LOG_INFO("process agent started", {{"cgroups", cgroups_.Describe()},
                                        {"nodes", std::to_string(options_.nodes.size())}});
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ProcessAgent::Notify() {
  std::lock_guard lock(wake_mu_);
  woken_ = true;
  wake_.notify_one();
}

void ProcessAgent::Run() {
  while (true) {
    {
      std::unique_lock lock(wake_mu_);
      wake_.wait_for(lock, options_.tick, [this] { return woken_ || stopping_; });
      if (stopping_) break;
      woken_ = false;
    }
    Pass();
  }
  Shutdown();
}

void ProcessAgent::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

// Runs on the agent thread: the processes it started get SIGKILL from the kernel once the
// thread that started them exits (PR_SET_PDEATHSIG), so they are stopped before it does.
void ProcessAgent::Shutdown() {
  std::lock_guard lock(mu_);
  const TimePoint deadline = clock_.Now() + kShutdownGrace;
  for (auto& [uid, pod] : pods_) {
    pod->terminating = true;
    pod->deadline = std::min(deadline, clock_.Now() + std::chrono::seconds(GracePeriod(pod->pod)));
  }
  while (!pods_.empty()) {
    for (auto it = pods_.begin(); it != pods_.end();) {
      if (Terminate(*it->second)) {
        XB_LOG_INFO("pod processes stopped", {{"namespace", it->second->ns}, {"pod", it->second->name},
                                              {"reason", "server stopping"}});
        it = pods_.erase(it);
      } else {
        ++it;
      }
    }
    if (!pods_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ips_.clear();
  if (Status cleaned = cgroups_.Cleanup(); !cleaned.ok()) {
    XB_LOG_WARN("cgroup cleanup failed", {{"err", cleaned.message()}});
  }
}

void ProcessAgent::Pass() {
  auto listed = client_.List(kPods, "", {});
  if (!listed.ok()) {
    XB_LOG_WARN("process agent cannot list pods", {{"err", listed.status().message()}});
    return;
  }
  std::lock_guard lock(mu_);
  std::set<std::string> present;
  for (const Json& pod : listed->items) {
    if (options_.nodes.count(pod["spec"].value("nodeName", "")) == 0) continue;
    present.insert(apiserver::Uid(pod));
    SyncPod(pod);
  }
  std::vector<std::pair<std::string, bool>> finished;
  for (auto& [uid, pod] : pods_) {
    const bool exists = present.count(uid) > 0;
    if (!exists && !pod->terminating) {
      // Removed with a grace period of 0 (kubectl delete --force): stop at once.
      pod->terminating = true;
      pod->deadline = clock_.Now();
    }
    if (pod->terminating && Terminate(*pod)) finished.emplace_back(uid, exists);
  }
  for (const auto& [uid, exists] : finished) FinishPod(uid, exists);
  if (clock_.Now() - last_volume_sweep_ >= kVolumeSweepInterval) {
    last_volume_sweep_ = clock_.Now();
    RemoveStaleVolumes();
  }
}

void ProcessAgent::SyncPod(const Json& pod) {
  const std::string uid = apiserver::Uid(pod);
  auto found = pods_.find(uid);
  if (found == pods_.end()) {
    const std::string phase = pod.value("status", Json::object()).value("phase", "");
    if (phase == "Succeeded" || phase == "Failed") return;
    if (apiserver::IsDeleting(pod)) {
      // Never started here (or not since a restart): nothing to stop.
      Status deleted = client_.Delete(kPods, apiserver::Namespace(pod), apiserver::Name(pod),
                                      {.precondition_uid = uid, .grace_period_seconds = 0});
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
        XB_LOG_WARN("pod delete failed", {{"pod", apiserver::Name(pod)}, {"err", deleted.message()}});
      }
      return;
    }
    AdmitPod(pod);
    found = pods_.find(uid);
    if (found == pods_.end()) return;
  }
  PodRuntime& runtime = *found->second;
  runtime.pod = pod;
  if (apiserver::IsDeleting(pod) && !runtime.terminating) {
    runtime.terminating = true;
    runtime.deadline = clock_.Now() + std::chrono::seconds(GracePeriod(pod));
    XB_LOG_INFO("pod stopping", {{"namespace", runtime.ns}, {"pod", runtime.name},
                                 {"grace_seconds", std::to_string(GracePeriod(pod))}});
  }
  if (runtime.terminating) return;
  for (auto& container : runtime.containers) {
    CheckExit(runtime, *container);
    const bool may_run = container->terminated.is_null() && !container->handle && !container->backoff.InBackOff();
    // A ConfigMap, Secret or image mapping that was missing may exist by now, as kubelet retries.
    if (may_run && container->plan.argv.empty() && clock_.Now() >= container->next_plan) {
      PlanContainer(runtime, *container);
    }
    if (may_run && !container->plan.argv.empty()) StartContainer(runtime, *container);
    if (container->handle) RunProbes(runtime, *container);
  }
  WriteStatus(runtime);
}

void ProcessAgent::AdmitPod(const Json& pod) {
  auto runtime = std::make_unique<PodRuntime>();
  runtime->pod = pod;
  runtime->uid = apiserver::Uid(pod);
  runtime->ns = apiserver::Namespace(pod);
  runtime->name = apiserver::Name(pod);
  if (!SafePathComponent(runtime->uid)) return;
  runtime->ip = AllocateIp(runtime->uid);
  runtime->dir = options_.data_dir / "pods" / runtime->uid;
  runtime->restart_policy = pod["spec"].value("restartPolicy", "Always");
  runtime->start_time = clock_.Now();
  std::error_code error;
  fs::create_directories(runtime->dir / "volumes", error);

  PodContext context;
  context.pod = pod;
  context.pod_ip = runtime->ip;
  context.pod_dir = runtime->dir.string();
  context.base_env = options_.base_env;
  const std::string ns = runtime->ns;
  context.lookup = [this, ns](const std::string& resource, const std::string& name) -> std::optional<Json> {
    const client::Resource& type =
        resource == "secrets" ? client::resources::kSecrets : client::resources::kConfigMaps;
    auto object = client_.Get(type, ns, name);
    return object.ok() ? std::optional<Json>(std::move(*object)) : std::nullopt;
  };
  for (const auto& volume : pod["spec"].value("volumes", Json::array())) {
    const std::string name = api::StringMemberOf(volume, "name");
    if (!SafePathComponent(name)) continue;
    fs::path dir;
    if (volume.contains("persistentVolumeClaim")) {
      const std::string claim = api::StringMemberOf(volume["persistentVolumeClaim"], "claimName");
      if (!SafePathComponent(claim)) continue;
      dir = options_.data_dir / "volumes" / runtime->ns / claim;
    } else if (volume.contains("hostPath")) {
      dir = api::StringMemberOf(volume["hostPath"], "path");
    } else if (volume.contains("emptyDir") || volume.contains("configMap") || volume.contains("secret")) {
      dir = runtime->dir / "volumes" / name;
    } else {
      continue;
    }
    fs::create_directories(dir, error);
    if (volume.contains("configMap") || volume.contains("secret")) {
      const bool secret = volume.contains("secret");
      const std::string source = api::StringMemberOf(volume[secret ? "secret" : "configMap"], secret ? "secretName" : "name");
      if (auto object = context.lookup(secret ? "secrets" : "configmaps", source)) {
        WriteVolumeFiles(*object, secret, dir);
      }
    }
    context.volume_dirs[name] = dir.string();
  }

  auto limits = PodLimits(pod);
  if (!limits.ok()) {
    runtime->limits_message = limits.status().message();
  } else if (Status created = cgroups_.Create(runtime->uid, *limits); !created.ok()) {
    runtime->limits_message = created.message();
  } else {
    runtime->cgroup_created = true;
    runtime->limits_enforced = cgroups_.EnforcesLimits();
    runtime->limits_message = fmt::format("cpu={} memory={} via {}",
                                          limits->cpu_millis ? fmt::format("{}m", *limits->cpu_millis) : "unlimited",
                                          limits->memory_bytes ? std::to_string(*limits->memory_bytes) : "unlimited",
                                          cgroups_.Describe());
  }

  runtime->context = std::move(context);
  const Json& statuses = pod.value("status", Json::object()).value("containerStatuses", Json::array());
  for (const auto& spec : pod["spec"].value("containers", Json::array())) {
    auto container = std::make_unique<ContainerRuntime>(spec, clock_, options_.backoff);
    container->plan.name = api::StringMemberOf(spec, "name");
    PlanContainer(*runtime, *container);
    // After a server restart the pod keeps its restart count and earlier logs.
    for (const auto& status : statuses) {
      if (api::StringMemberOf(status, "name") == container->plan.name) container->restart_count = status.value("restartCount", 0);
    }
    while (SafePathComponent(container->plan.name) &&
           fs::exists(LogPath(runtime->uid, container->plan.name, container->runs))) {
      ++container->runs;
    }
    runtime->containers.push_back(std::move(container));
  }
  XB_LOG_INFO("pod admitted", {{"namespace", runtime->ns}, {"pod", runtime->name}, {"ip", runtime->ip},
                               {"limits", runtime->limits_message},
                               {"enforced", runtime->limits_enforced ? "true" : "false"}});
  pods_[runtime->uid] = std::move(runtime);
}

void ProcessAgent::PlanContainer(PodRuntime& pod, ContainerRuntime& container) {
  ImageCommands images = options_.images;
  if (auto versions = client_.List(kClusterVersions, "", {}); versions.ok()) {
    for (const std::string& problem : images.LoadClusterVersions(versions->items)) {
      XB_LOG_WARN("local command mapping skipped", {{"err", problem}});
    }
  }
  container.plan = node::PlanContainer(container.spec, pod.context, images);
  container.next_plan = clock_.Now() + kReplanInterval;
  if (container.plan.waiting_reason.empty()) return;
  if (container.waiting_message != container.plan.waiting_message) {
    XB_LOG_WARN("container cannot start", {{"namespace", pod.ns}, {"pod", pod.name}, {"container", container.plan.name},
                                           {"reason", container.plan.waiting_reason},
                                           {"err", container.plan.waiting_message}});
  }
  container.waiting_reason = container.plan.waiting_reason;
  container.waiting_message = container.plan.waiting_message;
}

void ProcessAgent::StartContainer(PodRuntime& pod, ContainerRuntime& container) {
  if (!SafePathComponent(container.plan.name)) return;
  const fs::path log_path = LogPath(pod.uid, container.plan.name, container.runs);
  std::error_code error;
  fs::create_directories(log_path.parent_path(), error);

  ProcessSpec spec;
  spec.argv = container.plan.argv;
  spec.env = container.plan.env;
  spec.working_dir = container.plan.working_dir;
  spec.log_path = log_path.string();
  if (pod.cgroup_created) {
    spec.cgroup_driver = &cgroups_;
    spec.cgroup_name = pod.uid;
  }

  const std::string program = ResolveProgram(spec.argv[0], spec.env);
  if (program.find('/') == std::string::npos || ::access(program.c_str(), X_OK) != 0) {
    const std::string image = api::StringMemberOf(container.spec, "image");
    const std::string message = fmt::format(
        "{} (the local command of image {}) is not an executable file on the server's PATH; install it, e.g. "
        "`pip install \"xinference==0.11.0\"` for xinference-local, or map the image to another command with "
        "the ClusterVersion annotation {} or by restarting the server with `--image-command {}=PROGRAM [ARGS]`",
        spec.argv[0], image, kLocalCommandsAnnotation, image);
    if (container.waiting_message != message) {
      Event(pod, "Warning", "Failed", fmt::format("Error: {}", message));
      XB_LOG_WARN("container cannot start", {{"namespace", pod.ns}, {"pod", pod.name},
                                             {"container", container.plan.name}, {"err", message}});
    }
    container.waiting_reason = "LocalCommandNotFound";
    container.waiting_message = message;
    // Planned again every kReplanInterval, so a program installed later or a new mapping in the
    // ClusterVersion annotation takes effect without deleting the pod.
    container.plan.argv.clear();
    container.next_plan = clock_.Now() + kReplanInterval;
    return;
  }

  if (auto usage = cgroups_.Read(pod.uid); usage.ok()) container.oom_kills_at_start = usage->oom_kills.value_or(0);
  auto started = launcher_.Start(spec);
  if (!started.ok()) {
    container.waiting_reason = "RunContainerError";
    container.waiting_message = started.status().message();
    container.backoff.RecordExit();
    Event(pod, "Warning", "Failed", fmt::format("Error: {}", started.status().message()));
    return;
  }

  if (container.runs > 0) ++container.restart_count;
  ++container.runs;
  container.handle = *started;
  container.started_at = clock_.Now();
  container.backoff.RecordStart();
  container.waiting_reason.clear();
  container.waiting_message.clear();
  container.started = container.startup().spec.is_null();
  container.ready = false;

  for (auto& probe : container.probes) {
    probe.state.reset();
    if (probe.spec.is_null()) continue;
    auto settings = ParseProbeSettings(probe.spec);
    const ProbeOutcome initial = probe.kind == std::string("Readiness") ? ProbeOutcome::kFailure
                                 : probe.kind == std::string("Liveness") ? ProbeOutcome::kSuccess
                                                                          : ProbeOutcome::kUnknown;
    probe.state.emplace(settings.ok() ? *settings : ProbeSettings{}, clock_, container.started_at, initial);
  }

  XB_LOG_INFO("container started", {{"namespace", pod.ns}, {"pod", pod.name}, {"container", container.plan.name},
                                    {"pid", std::to_string(started->pid)}, {"ip", pod.ip},
                                    {"restarts", std::to_string(container.restart_count)}});
  Event(pod, "Normal", "Started", fmt::format("Started container {}", container.plan.name));
}

void ProcessAgent::CheckExit(PodRuntime& pod, ContainerRuntime& container) {
  if (!container.handle) return;
  auto polled = launcher_.Poll(*container.handle);
  if (polled.ok() && !polled->has_value()) {
    if (container.kill_at && clock_.Now() >= *container.kill_at) {
      (void)launcher_.Signal(*container.handle, SIGKILL);
    }
    return;
  }

  ExitStatus exit;
  if (polled.ok()) exit = **polled;
  // Whatever the leader left behind in its process group goes with it.
  (void)launcher_.Signal(*container.handle, SIGKILL);
  (void)launcher_.Release(*container.handle);
  container.handle.reset();
  container.kill_at.reset();
  container.ready = false;
  for (auto& probe : container.probes) {
    if (probe.inflight.valid()) probe.inflight.wait();
    probe.inflight = {};
  }

  int64_t oom_kills = container.oom_kills_at_start;
  if (auto usage = cgroups_.Read(pod.uid); usage.ok()) oom_kills = usage->oom_kills.value_or(oom_kills);
  const bool oom = exit.signal == SIGKILL && oom_kills > container.oom_kills_at_start;
  std::string reason = oom ? "OOMKilled" : exit.exit_code == 0 ? "Completed" : "Error";
  Json terminated = {{"exitCode", exit.exit_code},
                     {"reason", reason},
                     {"startedAt", FormatRfc3339(container.started_at)},
                     {"finishedAt", FormatRfc3339(clock_.Now())},
                     {"containerID", fmt::format("xblocks://{}/{}/{}", pod.uid, container.plan.name, container.runs - 1)}};
  if (exit.signal != 0) terminated["signal"] = exit.signal;
  XB_LOG_INFO("container exited", {{"namespace", pod.ns}, {"pod", pod.name}, {"container", container.plan.name},
                                   {"exit_code", std::to_string(exit.exit_code)}, {"reason", reason}});

  const bool restart = !pod.terminating && (pod.restart_policy == "Always" ||
                                            (pod.restart_policy == "OnFailure" && exit.exit_code != 0));
  if (!restart) {
    container.terminated = std::move(terminated);
    return;
  }

  container.last_terminated = std::move(terminated);
  container.backoff.RecordExit();
  container.waiting_reason = "CrashLoopBackOff";
  container.waiting_message = fmt::format("back-off {}s restarting failed container={} pod={}_{}({})",
                                          container.backoff.Delay().count(), container.plan.name, pod.name, pod.ns,
                                          pod.uid);
  Event(pod, "Warning", "BackOff", fmt::format("Back-off restarting failed container {} in pod {}_{}({})",
                                               container.plan.name, pod.name, pod.ns, pod.uid));
}

void ProcessAgent::RunProbes(PodRuntime& pod, ContainerRuntime& container) {
  ProbeContext context;
  context.container_ports = container.spec.value("ports", Json::array());
  context.exec.launcher = &launcher_;
  context.exec.env = container.plan.env;
  context.exec.working_dir = container.plan.working_dir;
  context.exec.output_path = (pod.dir / fmt::format("probe-{}.log", container.plan.name)).string();
  if (pod.cgroup_created) {
    context.exec.cgroup_driver = &cgroups_;
    context.exec.cgroup_name = pod.uid;
  }

  for (auto& probe : container.probes) {
    if (!probe.state) continue;
    if (probe.inflight.valid() &&
        probe.inflight.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      ProbeResult result = probe.inflight.get();
      probe.state->Record(result);
      if (result.outcome != ProbeOutcome::kSuccess) {
        Event(pod, "Warning", "Unhealthy", fmt::format("{} probe failed: {}", probe.kind, result.message));
      }
    }
  }

  auto& startup = container.startup();
  if (startup.state && !container.started) {
    if (startup.state->verdict() == ProbeOutcome::kSuccess) container.started = true;
    if (startup.state->verdict() == ProbeOutcome::kFailure && !container.kill_at) {
      StopContainer(pod, container, std::chrono::seconds(GracePeriod(pod.pod)),
                    fmt::format("Container {} failed startup probe, will be restarted", container.plan.name));
      return;
    }
  }

  auto launch = [&](ContainerRuntime::Probe& probe) {
    if (!probe.state || probe.inflight.valid() || !probe.state->Due()) return;
    probe.inflight = std::async(std::launch::async, [spec = probe.spec, ip = pod.ip, context] {
      return RunProbe(spec, ip, context);
    });
  };
  if (!container.started) {
    launch(startup);
    return;
  }

  auto& liveness = container.liveness();
  if (liveness.state && liveness.state->verdict() == ProbeOutcome::kFailure && !container.kill_at) {
    StopContainer(pod, container, std::chrono::seconds(GracePeriod(pod.pod)),
                  fmt::format("Container {} failed liveness probe, will be restarted", container.plan.name));
    return;
  }
  launch(liveness);
  auto& readiness = container.readiness();
  launch(readiness);
  container.ready = !readiness.state || readiness.state->verdict() == ProbeOutcome::kSuccess;
}

void ProcessAgent::StopContainer(PodRuntime& pod, ContainerRuntime& container, std::chrono::seconds grace,
                                 const std::string& why) {
  if (!container.handle || container.kill_at) return;
  (void)launcher_.Signal(*container.handle, container.plan.stop_signal);
  container.kill_at = clock_.Now() + grace;
  container.ready = false;
  Event(pod, "Normal", "Killing", why);
}

bool ProcessAgent::Terminate(PodRuntime& pod) {
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(pod.deadline - clock_.Now());
  bool running = false;
  for (auto& container : pod.containers) {
    if (!container->handle) continue;
    if (!container->kill_at) {
      StopContainer(pod, *container, std::max(left, std::chrono::seconds(0)),
                    fmt::format("Stopping container {}", container->plan.name));
      container->kill_at = pod.deadline;
    }
    CheckExit(pod, *container);
    if (container->handle) running = true;
  }
  if (running) return false;
  if (pod.cgroup_created) {
    if (Status removed = cgroups_.Remove(pod.uid); !removed.ok()) {
      XB_LOG_WARN("pod cgroup removal failed", {{"pod", pod.name}, {"err", removed.message()}});
      return false;
    }
    pod.cgroup_created = false;
  }
  return true;
}

void ProcessAgent::FinishPod(const std::string& uid, bool delete_object) {
  auto found = pods_.find(uid);
  if (found == pods_.end()) return;
  PodRuntime& pod = *found->second;
  if (delete_object) {
    Status deleted = client_.Delete(kPods, pod.ns, pod.name, {.precondition_uid = uid, .grace_period_seconds = 0});
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
      XB_LOG_WARN("pod delete failed", {{"pod", pod.name}, {"err", deleted.message()}});
      return;  // the next pass tries again
    }
  }
  XB_LOG_INFO("pod stopped", {{"namespace", pod.ns}, {"pod", pod.name}, {"ip", pod.ip}});
  std::error_code error;
  fs::remove_all(pod.dir, error);
  ips_.erase(pod.ip);
  pods_.erase(found);
}

Json ProcessAgent::ContainerStatus(const PodRuntime& pod, const ContainerRuntime& container) const {
  Json state;
  if (container.handle) {
    state = {{"running", {{"startedAt", FormatRfc3339(container.started_at)}}}};
  } else if (!container.terminated.is_null()) {
    state = {{"terminated", container.terminated}};
  } else {
    Json waiting = {{"reason", container.waiting_reason}};
    if (!container.waiting_message.empty()) waiting["message"] = container.waiting_message;
    state = {{"waiting", waiting}};
  }
  Json status = {{"name", container.plan.name},
                 {"image", api::StringMemberOf(container.spec, "image")},
                 {"imageID", ""},
                 {"ready", container.handle.has_value() && container.ready},
                 {"started", container.handle.has_value() && container.started},
                 {"restartCount", container.restart_count},
                 {"state", state},
                 {"lastState", container.last_terminated.is_null() ? Json::object()
                                                                    : Json{{"terminated", container.last_terminated}}}};
  if (container.runs > 0) {
    status["containerID"] = fmt::format("xblocks://{}/{}/{}", pod.uid, container.plan.name, container.runs - 1);
  }
  return status;
}

void ProcessAgent::WriteStatus(PodRuntime& pod) {
  Json containers = Json::array();
  bool all_ready = !pod.containers.empty();
  bool any_started = false;
  bool all_terminated = !pod.containers.empty();
  bool any_failed = false;
  for (const auto& container : pod.containers) {
    containers.push_back(ContainerStatus(pod, *container));
    all_ready = all_ready && container->handle && container->ready;
    any_started = any_started || container->runs > 0;
    all_terminated = all_terminated && !container->terminated.is_null();
    if (!container->terminated.is_null() && container->terminated.value("exitCode", 0) != 0) any_failed = true;
  }
  std::string phase = any_started ? "Running" : "Pending";
  if (all_terminated) phase = any_failed ? "Failed" : "Succeeded";

  const Json& old = pod.pod.value("status", Json::object());
  const std::string now = FormatRfc3339(clock_.Now());
  auto condition = [&](const std::string& type, bool ok, const std::string& reason, const std::string& message) {
    std::string since = now;
    for (const auto& existing : old.value("conditions", Json::array())) {
      if (api::StringMemberOf(existing, "type") == type && api::StringMemberOf(existing, "status") == (ok ? "True" : "False")) {
        since = api::StringMemberOf(existing, "lastTransitionTime");
      }
    }
    Json out = {{"type", type}, {"status", ok ? "True" : "False"}, {"lastProbeTime", nullptr},
                {"lastTransitionTime", since}};
    if (!reason.empty()) out["reason"] = reason;
    if (!message.empty()) out["message"] = message;
    return out;
  };
  const std::string not_ready = all_ready ? "" : "ContainersNotReady";
  const ReadinessGates gates = EvaluateReadinessGates(pod.pod);
  const bool pod_ready = all_ready && gates.ready;
  const std::string pod_not_ready = !all_ready ? not_ready : (gates.ready ? "" : "ReadinessGatesNotReady");
  Json status = {
      {"phase", phase},
      {"hostIP", "127.0.0.1"},
      {"hostIPs", {{{"ip", "127.0.0.1"}}}},
      {"podIP", pod.ip},
      {"podIPs", {{{"ip", pod.ip}}}},
      {"startTime", FormatRfc3339(pod.start_time)},
      {"qosClass", QosClass(pod.pod)},
      {"conditions",
       {condition("PodScheduled", true, "", ""), condition("Initialized", true, "", ""),
        condition("ContainersReady", all_ready, not_ready, ""),
        condition("Ready", pod_ready, pod_not_ready, all_ready ? gates.message : ""),
        condition(kLimitsEnforcedCondition, pod.limits_enforced,
                  pod.limits_enforced ? "" : "CgroupsUnavailable",
                  pod.limits_enforced ? pod.limits_message
                                      : fmt::format("CPU and memory limits are not enforced: {}", pod.limits_message))}},
      {"containerStatuses", containers}};
  // Keep the conditions that other controllers own, such as readiness gates, as they are.
  for (const Json& foreign : gates.foreign_conditions) status["conditions"].push_back(foreign);
  // Keep the first startTime the API saw, as kubelet does.
  if (old.contains("startTime") && old["startTime"].is_string()) status["startTime"] = old["startTime"];
  Json comparable = status;
  if (comparable == pod.last_status) return;
  // With the resourceVersion, a write based on a stale read fails instead of dropping a
  // condition that another controller set meanwhile. The next pass writes again.
  Json patch = {{"metadata", {{"resourceVersion", api::StringAt(pod.pod, "metadata.resourceVersion")}}},
                {"status", status}};
  auto patched = client_.PatchStatus(kPods, pod.ns, pod.name, patch);
  if (!patched.ok()) {
    if (patched.status().code() != StatusCode::kNotFound && patched.status().code() != StatusCode::kConflict) {
      XB_LOG_WARN("pod status write failed", {{"pod", pod.name}, {"err", patched.status().message()}});
    }
    return;
  }
  pod.pod = *patched;
  pod.last_status = std::move(comparable);
}

void ProcessAgent::RemoveStaleVolumes() {
  auto claims = client_.List(kPersistentVolumeClaims, "", {});
  if (!claims.ok()) return;
  std::set<std::string> wanted;
  for (const Json& claim : claims->items) wanted.insert(apiserver::Namespace(claim) + "/" + apiserver::Name(claim));
  for (const auto& [uid, pod] : pods_) {
    for (const auto& volume : pod->pod["spec"].value("volumes", Json::array())) {
      if (volume.contains("persistentVolumeClaim")) {
        wanted.insert(pod->ns + "/" + api::StringMemberOf(volume["persistentVolumeClaim"], "claimName"));
      }
    }
  }
  std::error_code error;
  for (const auto& ns_dir : fs::directory_iterator(options_.data_dir / "volumes", error)) {
    for (const auto& claim_dir : fs::directory_iterator(ns_dir.path(), error)) {
      const std::string key = ns_dir.path().filename().string() + "/" + claim_dir.path().filename().string();
      if (wanted.count(key) > 0) continue;
      fs::remove_all(claim_dir.path(), error);
      XB_LOG_INFO("volume removed", {{"claim", key}, {"reason", "persistentvolumeclaim deleted"}});
    }
  }
}

std::string ProcessAgent::AllocateIp(const std::string& uid) {
  // Start at the address the uid hashes to, and probe upwards past used ones, the host's
  // 127.0.x.x and the Service range 127.96.0.0/16.
  std::string ip = SimulatedPodIp(uid);
  int a = 0, b = 0, c = 0;
  std::sscanf(ip.c_str(), "127.%d.%d.%d", &a, &b, &c);
  for (int tries = 0; tries < 254 * 256 * 254; ++tries) {
    ip = fmt::format("127.{}.{}.{}", a, b, c);
    if (a != 96 && ips_.count(ip) == 0) break;
    if (++c > 254) {
      c = 1;
      if (++b > 255) {
        b = 0;
        if (++a > 254) a = 1;
      }
    }
  }
  ips_.insert(ip);
  return ip;
}

void ProcessAgent::Event(const PodRuntime& pod, const std::string& type, const std::string& reason,
                         const std::string& message) {
  Status recorded = client::RecordEvent(client_, clock_, pod.pod, {type, reason, message, kComponent});
  if (!recorded.ok() && recorded.code() != StatusCode::kConflict) {
    XB_LOG_DEBUG("pod event not recorded", {{"pod", pod.name}, {"reason", reason}, {"err", recorded.message()}});
  }
}

apiserver::HttpResponse ProcessAgent::ServeLogs(const Json& pod, const apiserver::HttpRequest& request) {
  const std::string name = apiserver::Name(pod);
  const std::string uid = apiserver::Uid(pod);
  std::vector<std::string> names;
  for (const auto& container : pod["spec"].value("containers", Json::array())) {
    names.push_back(api::StringMemberOf(container, "name"));
  }
  std::string container = request.Query("container");
  if (container.empty()) {
    if (names.size() != 1) {
      return BadLogRequest(fmt::format("a container name must be specified for pod {}, choose one of: [{}]", name,
                                       fmt::join(names, " ")));
    }
    container = names[0];
  }
  if (std::find(names.begin(), names.end(), container) == names.end() || !SafePathComponent(container) ||
      !SafePathComponent(uid)) {
    return BadLogRequest(fmt::format("container {} is not valid for pod {}", container, name));
  }
  int runs = 0;
  std::string waiting = "ContainerCreating";
  {
    std::lock_guard lock(mu_);
    if (auto found = pods_.find(uid); found != pods_.end()) {
      for (const auto& runtime : found->second->containers) {
        if (runtime->plan.name != container) continue;
        runs = runtime->runs;
        if (!runtime->waiting_reason.empty()) waiting = runtime->waiting_reason;
      }
    } else {
      while (fs::exists(LogPath(uid, container, runs))) ++runs;
    }
  }
  const bool previous = request.Flag("previous");
  if (runs == 0) {
    return BadLogRequest(fmt::format("container \"{}\" in pod \"{}\" is waiting to start: {}", container, name, waiting));
  }
  const int run = previous ? runs - 2 : runs - 1;
  if (run < 0) {
    return BadLogRequest(fmt::format("previous terminated container \"{}\" in pod \"{}\" not found", container, name));
  }
  int64_t tail = -1;
  int64_t limit = -1;
  try {
    if (!request.Query("tailLines").empty()) tail = std::stoll(request.Query("tailLines"));
    if (!request.Query("limitBytes").empty()) limit = std::stoll(request.Query("limitBytes"));
  } catch (const std::exception&) {
    return BadLogRequest("tailLines and limitBytes must be integers");
  }
  const fs::path path = LogPath(uid, container, run);
  std::string text = ReadFrom(path, 0);
  const uint64_t offset = text.size();
  text = TailLines(text, tail);
  if (limit >= 0 && static_cast<int64_t>(text.size()) > limit) text.resize(static_cast<size_t>(limit));

  apiserver::HttpResponse response;
  response.content_type = "text/plain";
  if (!request.Flag("follow") || previous) {
    response.body = std::move(text);
    return response;
  }
  response.stream = [this, text = std::move(text), path, offset, uid, container, run](apiserver::ResponseStream& out) {
    if (!text.empty() && !out.Write(text)) return;
    uint64_t position = offset;
    while (!out.Closed()) {
      std::string more = ReadFrom(path, position);
      position += more.size();
      if (!more.empty() && !out.Write(more)) return;
      bool current = false;
      {
        std::lock_guard lock(mu_);
        if (auto found = pods_.find(uid); found != pods_.end()) {
          for (const auto& runtime : found->second->containers) {
            if (runtime->plan.name == container) current = runtime->handle.has_value() && runtime->runs - 1 == run;
          }
        }
      }
      // The stream ends with the run it follows, as kubelet's does.
      if (!current && more.empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  return response;
}

}  // namespace xblocks::node
