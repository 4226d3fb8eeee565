// What the process runtime runs for a container: the local command its image maps to, the
// argv and environment kubelet would give it, the directories behind its volume mounts, and
// the pod's cgroup limits. Pure functions over the pod, so they are tested without processes.
//
// An image names a filesystem that embedded mode does not have. The mapping names the local
// program that runs in the image's place: `xblocks server --image-command IMAGE=PROGRAM [ARGS]` or the
// ClusterVersion annotation kLocalCommandsAnnotation. The mapped argv replaces the first word of
// the container's `command` (its entrypoint); the rest of `command` and `args` follow it.
#pragma once

#include <csignal>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "node/cgroups.h"

namespace xblocks::node {

// A JSON object on a ClusterVersion mapping images to local commands: each value is an argv
// array or a string split on spaces, e.g. {"xprobe/xinference:v0.11.0-cpu": "xinference-local"}.
inline constexpr char kLocalCommandsAnnotation[] = "xblocks.io/local-commands";

class ImageCommands {
 public:
  // Adds one `IMAGE=PROGRAM [ARGS...]` flag (words split on spaces). Returns Invalid naming the
  // flag when the image or the program is missing.
  Status AddFlag(const std::string& flag);
  // Replaces the mappings read from ClusterVersions with those of `cluster_versions`. Returns
  // one message per annotation it could not read; those annotations are skipped.
  std::vector<std::string> LoadClusterVersions(const std::vector<Json>& cluster_versions);
  // The argv for `image`: a flag wins over a ClusterVersion. nullopt when nothing maps it.
  std::optional<std::vector<std::string>> Find(const std::string& image) const;

 private:
  std::map<std::string, std::vector<std::string>> flags_;
  std::map<std::string, std::vector<std::string>> versions_;
};

// Parses the value of kLocalCommandsAnnotation. Returns Invalid naming the bad entry.
Result<std::map<std::string, std::vector<std::string>>> ParseLocalCommands(const std::string& annotation);

// Expands $(NAME) references with `vars` as kubelet does: $$(NAME) becomes the literal
// $(NAME), and a reference to an unknown name stays as written.
std::string ExpandVariables(const std::string& text, const std::map<std::string, std::string>& vars);

// The host directory behind one volume mount.
struct MountDir {
  std::string mount_path;  // the path inside the container, without a trailing '/'
  std::string host_path;
};

// Rewrites a path-like value that is a mount path or below one to the host directory, so that
// XINFERENCE_HOME=/data or --log-dir /data/logs point into the pod's volume.
std::string RewriteMountedPath(const std::string& value, const std::vector<MountDir>& mounts);

// Everything PlanContainer reads besides the container.
struct PodContext {
  Json pod;
  std::string pod_ip;
  std::string host_ip = "127.0.0.1";
  std::string pod_dir;  // <data dir>/pods/<uid>: the working directory and HOME
  std::vector<std::string> base_env;  // "NAME=value" entries every container gets first (PATH ...)
  // Host directory of each pod volume by name; volumes missing here cannot be mounted.
  std::map<std::string, std::string> volume_dirs;
  // Reads a ConfigMap or Secret ("configmaps" / "secrets") of the pod's namespace; nullopt when
  // it does not exist. Secret data comes base64-encoded, as the API returns it.
  std::function<std::optional<Json>(const std::string& resource, const std::string& name)> lookup;
};

struct ContainerPlan {
  std::string name;
  std::vector<std::string> argv;  // empty when the container cannot start (see waiting_reason)
  std::vector<std::string> env;   // "NAME=value"
  std::string working_dir;
  int stop_signal = SIGTERM;
  std::vector<MountDir> mounts;
  // Set when the container cannot start, in kubelet's terms: reason ("CreateContainerConfigError",
  // "LocalCommandNotFound") and a message that explains how to fix it.
  std::string waiting_reason;
  std::string waiting_message;
};

// Builds the plan of `container` (an entry of spec.containers).
ContainerPlan PlanContainer(const Json& container, const PodContext& context, const ImageCommands& images);

// The value of a downward API fieldPath for the pod; nullopt for a path it does not support.
std::optional<std::string> PodFieldValue(const Json& pod, const std::string& field_path, const std::string& pod_ip,
                                         const std::string& host_ip);

// The pod's cgroup limits: the sum of its containers' limits. A resource that some container
// leaves without a limit stays unlimited for the pod. Returns Invalid naming the bad quantity.
Result<Limits> PodLimits(const Json& pod);

// The signal of lifecycle.stopSignal ("SIGINT", ...); SIGTERM when unset or unknown.
int StopSignal(const Json& container);

}  // namespace xblocks::node
