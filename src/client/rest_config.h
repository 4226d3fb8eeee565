// The address of a Kubernetes API server and the credentials for it, read from a kubeconfig file
// as kubectl reads it, or from the service account that Kubernetes mounts into a pod.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace xblocks::client {

struct RestConfig {
  std::string server;  // "https://host:port", optionally with a path prefix
  // PEM data, read from the file or decoded from the *-data field of the kubeconfig.
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;
  bool insecure_skip_tls_verify = false;
  std::string default_namespace = "default";
  // The origin of the settings, for logs and error messages; never a secret.
  std::string source;
};

// Reads the context `context_name` (the current-context when empty) of the kubeconfig at `path`.
// Relative certificate and key paths are resolved against the file's directory, as kubectl does.
// Returns kBadRequest naming the file and the missing or invalid field.
Result<RestConfig> LoadKubeconfig(const std::filesystem::path& path, const std::string& context_name = "");

// Reads the in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, and the
// token, CA certificate and namespace under `account_dir`. Returns kNotFound when the process does
// not run in a pod.
Result<RestConfig> InClusterConfig(
    const std::filesystem::path& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace xblocks::client
