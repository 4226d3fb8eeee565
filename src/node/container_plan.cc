#include "node/container_plan.h"

#include <sstream>

#include <fmt/format.h>

#include "api/json_fields.h"
#include "common/base64.h"
#include "common/quantity.h"

namespace xblocks::node {
namespace {

std::vector<std::string> SplitWords(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::vector<std::string> StringList(const Json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const auto& item : value) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

// "metadata.labels['app']" -> the label value.
std::optional<std::string> MapEntry(const Json& map, const std::string& field_path, const std::string& prefix) {
  if (field_path.size() < prefix.size() + 4 || field_path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string key = field_path.substr(prefix.size());
  if (key.size() < 4 || key.front() != '[' || key.back() != ']') return std::nullopt;
  key = key.substr(2, key.size() - 4);
  return map.is_object() ? api::StringMemberOf(map, key.c_str()) : "";
}

std::string JoinIps(const Json& ips, const std::string& fallback) {
  std::string out;
  if (ips.is_array()) {
    for (const auto& ip : ips) {
      const std::string value = api::StringMemberOf(ip, "ip");
      if (!value.empty()) out += (out.empty() ? "" : ",") + value;
    }
  }
  return out.empty() ? fallback : out;
}

// resourceFieldRef: limits.cpu in whole cores rounded up (divisor 1), memory in bytes.
std::optional<std::string> ResourceFieldValue(const Json& container, const Json& ref) {
  const std::string resource = api::StringMemberOf(ref, "resource");
  const auto dot = resource.find('.');
  if (dot == std::string::npos) return std::nullopt;
  const Json& resources = container.value("resources", Json::object());
  const Json& list = resources.value(resource.substr(0, dot), Json::object());
  const std::string name = resource.substr(dot + 1);
  const std::string text = api::StringMemberOf(list, name.c_str());
  if (text.empty()) return std::string("0");
  auto quantity = ParseQuantity(text);
  if (!quantity.ok()) return std::nullopt;
  if (name == "cpu") return std::to_string((quantity->MilliValue() + 999) / 1000);
  return std::to_string(quantity->Value());
}

struct EnvBuilder {
  std::vector<std::string> order;
  std::map<std::string, std::string> values;

  void Set(const std::string& name, const std::string& value) {
    if (values.count(name) == 0) order.push_back(name);
    values[name] = value;
  }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& name : order) out.push_back(name + "=" + values.at(name));
    return out;
  }
};

// Adds the keys of a ConfigMap's data, or a Secret's decoded data, with `prefix`.
void AddSourceData(EnvBuilder& env, const Json& object, bool secret, const std::string& prefix) {
  const Json& data = object.value("data", Json::object());
  if (!data.is_object()) return;
  for (const auto& [key, value] : data.items()) {
    if (!value.is_string()) continue;
    if (!secret) {
      env.Set(prefix + key, value.get<std::string>());
    } else if (auto decoded = Base64Decode(value.get<std::string>())) {
      env.Set(prefix + key, *decoded);
    }
  }
}

// Applies envFrom then env, as kubelet orders them. Returns an error message when a required
// source is missing.
std::string BuildEnv(const Json& container, const PodContext& context, EnvBuilder& env) {
  for (const auto& source : container.value("envFrom", Json::array())) {
    const std::string prefix = api::StringMemberOf(source, "prefix");
    for (const auto& [field, resource] : {std::pair{"configMapRef", "configmaps"}, std::pair{"secretRef", "secrets"}}) {
      if (!source.contains(field)) continue;
      const Json& ref = source[field];
      const std::string name = api::StringMemberOf(ref, "name");
      std::optional<Json> object = context.lookup ? context.lookup(resource, name) : std::nullopt;
      if (!object) {
        if (ref.value("optional", false)) continue;
        return fmt::format("{} \"{}\" not found", resource == std::string("secrets") ? "secret" : "configmap", name);
      }
      AddSourceData(env, *object, resource == std::string("secrets"), prefix);
    }
  }
  for (const auto& item : container.value("env", Json::array())) {
    const std::string name = api::StringMemberOf(item, "name");
    if (name.empty()) continue;
    if (item.contains("value") && item["value"].is_string()) {
      env.Set(name, ExpandVariables(item["value"].get<std::string>(), env.values));
      continue;
    }
    const Json& from = item.value("valueFrom", Json::object());
    if (from.contains("fieldRef")) {
      auto value = PodFieldValue(context.pod, api::StringMemberOf(from["fieldRef"], "fieldPath"), context.pod_ip, context.host_ip);
      if (!value) return fmt::format("env {}: unsupported fieldRef {}", name, api::StringMemberOf(from["fieldRef"], "fieldPath"));
      env.Set(name, *value);
    } else if (from.contains("resourceFieldRef")) {
      auto value = ResourceFieldValue(container, from["resourceFieldRef"]);
      if (!value) return fmt::format("env {}: unsupported resourceFieldRef", name);
      env.Set(name, *value);
    } else {
      for (const auto& [field, resource] :
           {std::pair{"configMapKeyRef", "configmaps"}, std::pair{"secretKeyRef", "secrets"}}) {
        if (!from.contains(field)) continue;
        const Json& ref = from[field];
        const std::string key = api::StringMemberOf(ref, "key");
        std::optional<Json> object = context.lookup ? context.lookup(resource, api::StringMemberOf(ref, "name")) : std::nullopt;
        EnvBuilder one;
        if (object) AddSourceData(one, *object, resource == std::string("secrets"), "");
        if (one.values.count(key) > 0) {
          env.Set(name, one.values[key]);
        } else if (!ref.value("optional", false)) {
          return fmt::format("env {}: key {} of {} \"{}\" not found", name, key, resource, api::StringMemberOf(ref, "name"));
        }
      }
    }
  }
  return "";
}

}  // namespace

Result<std::map<std::string, std::vector<std::string>>> ParseLocalCommands(const std::string& annotation) {
  Json parsed = Json::parse(annotation, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Invalid(fmt::format("annotation {} must be a JSON object of image to command", kLocalCommandsAnnotation));
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [image, command] : parsed.items()) {
    std::vector<std::string> argv = command.is_string() ? SplitWords(command.get<std::string>()) : StringList(command);
    if (image.empty() || argv.empty() || (command.is_array() && argv.size() != command.size())) {
      return Invalid(fmt::format("annotation {}: the command of image \"{}\" must be a non-empty string or an array "
                                 "of strings",
                                 kLocalCommandsAnnotation, image));
    }
    out[image] = std::move(argv);
  }
  return out;
}

Status ImageCommands::AddFlag(const std::string& flag) {
  const auto equals = flag.find('=');
  std::vector<std::string> argv = equals == std::string::npos ? std::vector<std::string>{}
                                                              : SplitWords(flag.substr(equals + 1));
  if (equals == 0 || argv.empty()) {
    return Invalid(fmt::format("--image-command \"{}\": expected IMAGE=PROGRAM [ARGS...], e.g. "
                               "xprobe/xinference:v0.11.0-cpu=xinference-local",
                               flag));
  }
  flags_[flag.substr(0, equals)] = std::move(argv);
  return Status::Ok();
}

std::vector<std::string> ImageCommands::LoadClusterVersions(const std::vector<Json>& cluster_versions) {
  std::vector<std::string> problems;
  versions_.clear();
  for (const Json& version : cluster_versions) {
    const Json& annotations = version["metadata"].value("annotations", Json::object());
    const std::string value = api::StringMemberOf(annotations, kLocalCommandsAnnotation);
    if (value.empty()) continue;
    auto parsed = ParseLocalCommands(value);
    if (!parsed.ok()) {
      problems.push_back(fmt::format("clusterversion {}: {}", api::StringMemberOf(version["metadata"], "name"),
                                     parsed.status().message()));
      continue;
    }
    for (auto& [image, argv] : *parsed) versions_.emplace(image, std::move(argv));
  }
  return problems;
}

std::optional<std::vector<std::string>> ImageCommands::Find(const std::string& image) const {
  if (auto it = flags_.find(image); it != flags_.end()) return it->second;
  if (auto it = versions_.find(image); it != versions_.end()) return it->second;
  return std::nullopt;
}

std::string ExpandVariables(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '(') {
      const auto close = text.find(')', i + 2);
      if (close != std::string::npos) {
        const std::string name = text.substr(i + 2, close - i - 2);
        auto it = vars.find(name);
        out += it != vars.end() ? it->second : text.substr(i, close - i + 1);
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::string RewriteMountedPath(const std::string& value, const std::vector<MountDir>& mounts) {
  const MountDir* best = nullptr;
  for (const MountDir& mount : mounts) {
    const std::string& path = mount.mount_path;
    const bool below = value.size() > path.size() && value.compare(0, path.size(), path) == 0 && value[path.size()] == '/';
    if ((value == path || below) && (best == nullptr || path.size() > best->mount_path.size())) best = &mount;
  }
  return best == nullptr ? value : best->host_path + value.substr(best->mount_path.size());
}

std::optional<std::string> PodFieldValue(const Json& pod, const std::string& field_path, const std::string& pod_ip,
                                         const std::string& host_ip) {
  const Json& meta = pod.value("metadata", Json::object());
  const Json& spec = pod.value("spec", Json::object());
  if (field_path == "metadata.name") return api::StringMemberOf(meta, "name");
  if (field_path == "metadata.namespace") return api::StringMemberOf(meta, "namespace");
  if (field_path == "metadata.uid") return api::StringMemberOf(meta, "uid");
  if (field_path == "spec.nodeName") return api::StringMemberOf(spec, "nodeName");
  if (field_path == "spec.serviceAccountName") return api::StringMemberOf(spec, "serviceAccountName");
  if (field_path == "status.podIP") return pod_ip;
  if (field_path == "status.podIPs") return pod_ip;
  if (field_path == "status.hostIP") return host_ip;
  if (field_path == "status.hostIPs") return JoinIps(Json::array(), host_ip);
  if (auto label = MapEntry(meta.value("labels", Json::object()), field_path, "metadata.labels")) return label;
  return MapEntry(meta.value("annotations", Json::object()), field_path, "metadata.annotations");
}

int StopSignal(const Json& container) {
  static const std::map<std::string, int> kSignals = {{"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},
                                                      {"SIGHUP", SIGHUP},   {"SIGKILL", SIGKILL}, {"SIGUSR1", SIGUSR1},
                                                      {"SIGUSR2", SIGUSR2}};
  const std::string name = api::StringMemberOf(container.value("lifecycle", Json::object()), "stopSignal");
  auto it = kSignals.find(name);
  return it == kSignals.end() ? SIGTERM : it->second;
}

ContainerPlan PlanContainer(const Json& container, const PodContext& context, const ImageCommands& images) {
  ContainerPlan plan;
  plan.name = api::StringMemberOf(container, "name");
  plan.stop_signal = StopSignal(container);
  plan.working_dir = context.pod_dir;

  for (const auto& mount : container.value("volumeMounts", Json::array())) {
    const std::string volume = api::StringMemberOf(mount, "name");
    std::string path = api::StringMemberOf(mount, "mountPath");
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    auto dir = context.volume_dirs.find(volume);
    if (dir == context.volume_dirs.end()) {
      plan.waiting_reason = "CreateContainerConfigError";
      plan.waiting_message = fmt::format("volume \"{}\" mounted at {} is not defined in spec.volumes, or its type is "
                                         "not supported in embedded mode (emptyDir, persistentVolumeClaim, hostPath, "
                                         "configMap and secret are)",
                                         volume, path);
      return plan;
    }
    std::string host = dir->second;
    const std::string sub_path = api::StringMemberOf(mount, "subPath");
    if (!sub_path.empty()) host += "/" + sub_path;
    plan.mounts.push_back({path, host});
  }

  EnvBuilder env;
  for (const std::string& entry : context.base_env) {
    const auto equals = entry.find('=');
    if (equals != std::string::npos) env.Set(entry.substr(0, equals), entry.substr(equals + 1));
  }
  env.Set("HOME", context.pod_dir);
  env.Set("HOSTNAME", api::StringMemberOf(context.pod["metadata"], "name"));
  if (std::string error = BuildEnv(container, context, env); !error.empty()) {
    plan.waiting_reason = "CreateContainerConfigError";
    plan.waiting_message = error;
    return plan;
  }
  for (auto& [name, value] : env.values) value = RewriteMountedPath(value, plan.mounts);
  plan.env = env.Entries();

  const std::string image = api::StringMemberOf(container, "image");
  std::vector<std::string> command = StringList(container.value("command", Json::array()));
  const std::vector<std::string> args = StringList(container.value("args", Json::array()));
  auto local = images.Find(image);
  if (!local) {
    plan.waiting_reason = "LocalCommandNotFound";
    plan.waiting_message = fmt::format(
        "image {} has no local command in embedded mode; map it with the ClusterVersion annotation {} or by "
        "restarting the server with `--image-command {}=PROGRAM [ARGS]`",
        image, kLocalCommandsAnnotation, image);
    return plan;
  }
  plan.argv = *local;
  for (size_t i = command.empty() ? 0 : 1; i < command.size(); ++i) plan.argv.push_back(command[i]);
  for (const auto& arg : args) plan.argv.push_back(arg);
  for (size_t i = 1; i < plan.argv.size(); ++i) {
    plan.argv[i] = RewriteMountedPath(ExpandVariables(plan.argv[i], env.values), plan.mounts);
  }
  const std::string working_dir = api::StringMemberOf(container, "workingDir");
  if (!working_dir.empty()) plan.working_dir = RewriteMountedPath(working_dir, plan.mounts);
  return plan;
}

Result<Limits> PodLimits(const Json& pod) {
  Limits limits;
  bool cpu_everywhere = true;
  bool memory_everywhere = true;
  int64_t cpu = 0;
  int64_t memory = 0;
  const Json& containers = pod.value("spec", Json::object()).value("containers", Json::array());
  for (const auto& container : containers) {
    const Json& list = container.value("resources", Json::object()).value("limits", Json::object());
    const std::string cpu_text = api::StringMemberOf(list, "cpu");
    const std::string memory_text = api::StringMemberOf(list, "memory");
    if (cpu_text.empty()) cpu_everywhere = false;
    if (memory_text.empty()) memory_everywhere = false;
    if (!cpu_text.empty()) {
      auto quantity = ParseQuantity(cpu_text);
      if (!quantity.ok()) return Invalid(fmt::format("container {}: limits.cpu {}: {}", api::StringMemberOf(container, "name"),
                                                     cpu_text, quantity.status().message()));
      cpu += quantity->MilliValue();
    }
    if (!memory_text.empty()) {
      auto quantity = ParseQuantity(memory_text);
      if (!quantity.ok()) return Invalid(fmt::format("container {}: limits.memory {}: {}", api::StringMemberOf(container, "name"),
                                                     memory_text, quantity.status().message()));
      memory += quantity->Value();
    }
  }
  if (containers.empty()) return limits;
  if (cpu_everywhere && cpu > 0) limits.cpu_millis = cpu;
  if (memory_everywhere && memory > 0) limits.memory_bytes = memory;
  return limits;
}

}  // namespace xblocks::node
