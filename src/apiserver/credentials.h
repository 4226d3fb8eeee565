// The server's TLS and client credentials, generated into the data dir on first start:
//   ca.crt, ca.key          a self-signed ECDSA P-256 certificate authority
//   server.crt, server.key  the serving certificate, signed by the CA, for localhost and the
//                           listen address (SANs)
//   token                   a random bearer token for the admin user
// Private keys and the token are written with mode 0600. Later starts reuse the files; a serving
// certificate that does not cover the listen address is reissued from the same CA.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace xblocks::apiserver {

struct Credentials {
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert;
  std::filesystem::path server_key;
  std::string token;  // never logged
};

// Loads or creates the credentials in `data_dir` for a server reachable at `host` (an IP address
// or name). Returns kInternal naming the file and the OpenSSL or I/O error on failure.
Result<Credentials> EnsureCredentials(const std::filesystem::path& data_dir, const std::string& host);

// Writes `data_dir`/kubeconfig for https://<host>:<port> with the CA and token, mode 0600,
// atomically (write to a temp file, then rename), with namespace `default`.
Status WriteKubeconfig(const std::filesystem::path& data_dir, const Credentials& credentials,
                       const std::string& host, int port);

// Writes `content` to `path` atomically with the given permission bits.
Status WriteFileAtomic(const std::filesystem::path& path, const std::string& content, unsigned mode);

}  // namespace xblocks::apiserver
