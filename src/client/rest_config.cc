#include "client/rest_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "api/json_fields.h"
#include "api/yaml.h"
#include "common/base64.h"

namespace xblocks::client {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kBadRequest, fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` without trailing line breaks, as token files usually end with one.
std::string TrimLineEnd(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The entry named `name` in the kubeconfig list `list` ("clusters", "users", "contexts").
const Json* FindNamed(const Json& config, const char* list, const std::string& name) {
  for (const Json& entry : api::ArrayAt(config, list)) {
    if (api::StringMemberOf(entry, "name") == name) return &entry;
  }
  return nullptr;
}

// Reads PEM data from `<field>-data` (base64) or from the file at `<field>`.
Result<std::string> ReadPem(const Json& section, const std::string& field, const fs::path& base_dir,
                            const std::string& where) {
  const std::string data = api::StringMemberOf(section, field + "-data");
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded) {
      return Status(StatusCode::kBadRequest, fmt::format("{}: {}-data is not valid base64", where, field));
    }
    return *decoded;
  }
  const std::string file = api::StringMemberOf(section, field);
  if (file.empty()) return std::string();
  fs::path path(file);
  if (path.is_relative()) path = base_dir / path;
  auto text = ReadText(path);
  if (!text.ok()) return Status(StatusCode::kBadRequest, fmt::format("{}: {}: {}", where, field, text.status().message()));
  return *text;
}

}  // namespace

Result<RestConfig> LoadKubeconfig(const fs::path& path, const std::string& context_name) {
  auto text = ReadText(path);
  if (!text.ok()) return text.status();
  auto parsed = api::ParseYamlOrJson(*text);
  if (!parsed.ok()) {
    return Status(StatusCode::kBadRequest, fmt::format("kubeconfig {}: {}", path.string(), parsed.status().message()));
  }
  const Json& config = *parsed;
  const std::string file = path.string();
  const std::string context = context_name.empty() ? api::StringMemberOf(config, "current-context") : context_name;
  if (context.empty()) {
    return Status(StatusCode::kBadRequest,
                  fmt::format("kubeconfig {}: no current-context; pass --context or set current-context", file));
  }
  const Json* context_entry = FindNamed(config, "contexts", context);
  if (context_entry == nullptr) {
    return Status(StatusCode::kBadRequest, fmt::format("kubeconfig {}: context \"{}\" not found", file, context));
  }
  const Json& context_body = api::MemberOf(*context_entry, "context");
  const std::string cluster_name = api::StringMemberOf(context_body, "cluster");
  const Json* cluster_entry = FindNamed(config, "clusters", cluster_name);
  if (cluster_entry == nullptr) {
    return Status(StatusCode::kBadRequest,
                  fmt::format("kubeconfig {}: cluster \"{}\" of context \"{}\" not found", file, cluster_name, context));
  }
  const Json& cluster = api::MemberOf(*cluster_entry, "cluster");
  const std::string user_name = api::StringMemberOf(context_body, "user");
  const Json* user_entry = FindNamed(config, "users", user_name);
  const Json& user = user_entry != nullptr ? api::MemberOf(*user_entry, "user") : Json::object();

  RestConfig rest;
  rest.source = fmt::format("kubeconfig {} context {}", file, context);
  rest.server = api::StringMemberOf(cluster, "server");
  if (rest.server.rfind("https://", 0) != 0) {
    return Status(StatusCode::kBadRequest,
                  fmt::format("kubeconfig {}: cluster \"{}\" has server \"{}\"; expected an https:// URL", file,
                              cluster_name, rest.server));
  }
  const fs::path base_dir = fs::absolute(path).parent_path();
  const std::string cluster_where = fmt::format("kubeconfig {} cluster {}", file, cluster_name);
  const std::string user_where = fmt::format("kubeconfig {} user {}", file, user_name);
  auto ca = ReadPem(cluster, "certificate-authority", base_dir, cluster_where);
  if (!ca.ok()) return ca.status();
  auto cert = ReadPem(user, "client-certificate", base_dir, user_where);
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(user, "client-key", base_dir, user_where);
  if (!key.ok()) return key.status();
  rest.ca_pem = std::move(*ca);
  rest.client_cert_pem = std::move(*cert);
  rest.client_key_pem = std::move(*key);
  if (rest.client_cert_pem.empty() != rest.client_key_pem.empty()) {
    return Status(StatusCode::kBadRequest,
                  fmt::format("{}: client-certificate and client-key must be set together", user_where));
  }
  rest.token = api::StringMemberOf(user, "token");
  const std::string token_file = api::StringMemberOf(user, "tokenFile");
  if (rest.token.empty() && !token_file.empty()) {
    fs::path token_path(token_file);
    if (token_path.is_relative()) token_path = base_dir / token_path;
    auto token = ReadText(token_path);
    if (!token.ok()) return Status(StatusCode::kBadRequest, fmt::format("{}: tokenFile: {}", user_where, token.status().message()));
    rest.token = TrimLineEnd(*token);
  }
  rest.insecure_skip_tls_verify = api::MemberOf(cluster, "insecure-skip-tls-verify") == Json(true);
  const std::string ns = api::StringMemberOf(context_body, "namespace");
  if (!ns.empty()) rest.default_namespace = ns;
  return rest;
}

Result<RestConfig> InClusterConfig(const fs::path& account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return Status(StatusCode::kNotFound,
                  "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset; pass "
                  "--kubeconfig");
  }
  RestConfig rest;
  rest.source = "in-cluster service account " + account_dir.string();
  const std::string host_text = std::string(host).find(':') != std::string::npos ? fmt::format("[{}]", host) : host;
  rest.server = fmt::format("https://{}:{}", host_text, port);
  auto token = ReadText(account_dir / "token");
  if (!token.ok()) return token.status();
  rest.token = TrimLineEnd(*token);
  auto ca = ReadText(account_dir / "ca.crt");
  if (!ca.ok()) return ca.status();
  rest.ca_pem = *ca;
  auto ns = ReadText(account_dir / "namespace");
  if (ns.ok() && !ns->empty()) rest.default_namespace = *ns;
  return rest;
}

}  // namespace xblocks::client
