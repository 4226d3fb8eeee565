#include "apiserver/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include "common/log.h"

namespace xblocks::apiserver {
namespace {

namespace fs = std::filesystem;

struct KeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct CertFree { void operator()(X509* p) const { X509_free(p); } };
struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr long kValiditySeconds = 10L * 365 * 24 * 3600;

Status OpenSslError(std::string_view what) {
  unsigned long code = ERR_get_error();
  char buffer[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buffer, sizeof(buffer));
  return Internal(fmt::format("{} failed: {}", what, buffer));
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal(fmt::format("cannot read {}", path.string()));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Result<KeyPtr> GenerateKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating an ECDSA P-256 key");
  return key;
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return OpenSslError("encoding a private key");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return OpenSslError("encoding a certificate");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

Result<KeyPtr> KeyFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpenSslError("parsing a private key");
  return key;
}

Result<CertPtr> CertFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError("parsing a certificate");
  return cert;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpenSslError("building a certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

struct CertSpec {
  std::string common_name;
  bool is_ca = false;
  std::string subject_alt_names;  // e.g. "DNS:localhost,IP:127.0.0.1"
};

// Issues a certificate for `key`, signed by `issuer_key` (self-signed when issuer is null).
Result<CertPtr> IssueCertificate(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));

  if (spec.is_ca) {
    XB_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE"));
    XB_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign"));
    XB_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, NID_subject_key_identifier, "hash"));
  } else {
    XB_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE"));
    XB_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
    XB_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth"));
    XB_RETURN_IF_ERROR(AddExtension(cert.get(), issuer_cert, NID_subject_alt_name, spec.subject_alt_names));
  }
  if (!X509_sign(cert.get(), issuer_key, EVP_sha256())) return OpenSslError("signing a certificate");
  return cert;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string SubjectAltNames(const std::string& host) {
  std::string sans = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (host.empty() || host == "localhost" || host == "127.0.0.1" || host == "::1") return sans;
  return sans + (IsIpAddress(host) ? ",IP:" : ",DNS:") + host;
}

// True when the certificate in `pem` names `host` among its SANs.
bool CertificateCovers(const std::string& pem, const std::string& host) {
  auto cert = CertFromPem(pem);
  if (!cert.ok()) return false;
  if (IsIpAddress(host)) return X509_check_ip_asc(cert->get(), host.c_str(), 0) == 1;
  return X509_check_host(cert->get(), host.c_str(), host.size(), 0, nullptr) == 1;
}

Result<std::string> RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslError("generating the bearer token");
  std::string token;
  for (unsigned char b : bytes) token += fmt::format("{:02x}", b);
  return token;
}

struct Authority {
  KeyPtr key;
  CertPtr cert;
};

// Writes a private key (mode 0600) and its certificate (mode 0644) as PEM files.
Status WriteKeyPair(const fs::path& key_path, EVP_PKEY* key, const fs::path& cert_path, X509* cert) {
  auto key_pem = KeyToPem(key);
  if (!key_pem.ok()) return key_pem.status();
  auto cert_pem = CertToPem(cert);
  if (!cert_pem.ok()) return cert_pem.status();
  XB_RETURN_IF_ERROR(WriteFileAtomic(key_path, *key_pem, 0600));
  return WriteFileAtomic(cert_path, *cert_pem, 0644);
}

Result<Authority> EnsureAuthority(const fs::path& dir) {
  const fs::path cert_path = dir / "ca.crt";
  const fs::path key_path = dir / "ca.key";
  if (fs::exists(cert_path) && fs::exists(key_path)) {
    auto cert_pem = ReadFile(cert_path);
    auto key_pem = ReadFile(key_path);
    if (!cert_pem.ok()) return cert_pem.status();
    if (!key_pem.ok()) return key_pem.status();
    auto cert = CertFromPem(*cert_pem);
    auto key = KeyFromPem(*key_pem);
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    return Authority{std::move(*key), std::move(*cert)};
  }

  auto key = GenerateKey();
  if (!key.ok()) return key.status();
  auto cert = IssueCertificate({"xblocks-ca", true, ""}, key->get(), nullptr, key->get());
  if (!cert.ok()) return cert.status();
  XB_RETURN_IF_ERROR(WriteKeyPair(key_path, key->get(), cert_path, cert->get()));
  XB_LOG_INFO("certificate authority created", {{"path", cert_path.string()}});
  return Authority{std::move(*key), std::move(*cert)};
}

Status EnsureServingCertificate(const fs::path& dir, const std::string& host, Authority& ca) {
  const fs::path cert_path = dir / "server.crt";
  const fs::path key_path = dir / "server.key";
  if (fs::exists(cert_path) && fs::exists(key_path)) {
    auto pem = ReadFile(cert_path);
    if (pem.ok() && CertificateCovers(*pem, host)) return Status::Ok();
  }

  auto key = GenerateKey();
  if (!key.ok()) return key.status();
  auto cert = IssueCertificate({"xblocks", false, SubjectAltNames(host)}, key->get(), ca.cert.get(), ca.key.get());
  if (!cert.ok()) return cert.status();
  XB_RETURN_IF_ERROR(WriteKeyPair(key_path, key->get(), cert_path, cert->get()));
  XB_LOG_INFO("serving certificate issued", {{"path", cert_path.string()}, {"host", host}});
  return Status::Ok();
}

Result<std::string> EnsureToken(const fs::path& dir) {
  const fs::path path = dir / "token";
  if (fs::exists(path)) {
    auto token = ReadFile(path);
    if (!token.ok()) return token.status();
    std::string value = *token;
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.size() >= 32) return value;
    XB_LOG_WARN("bearer token file is too short, generating a new one", {{"path", path.string()}});
  }
  auto token = RandomToken();
  if (!token.ok()) return token.status();
  XB_RETURN_IF_ERROR(WriteFileAtomic(path, *token + "\n", 0600));
  return token;
}

}  // namespace

Status WriteFileAtomic(const fs::path& path, const std::string& content, unsigned mode) {
  const std::string tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Internal(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  ::fchmod(fd, mode);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Internal(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
    }
    written += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Internal(fmt::format("cannot rename {} to {}: {}", tmp, path.string(), std::strerror(errno)));
  }
  return Status::Ok();
}

Result<Credentials> EnsureCredentials(const fs::path& data_dir, const std::string& host) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Internal(fmt::format("cannot create data dir {}: {}", data_dir.string(), ec.message()));
  auto ca = EnsureAuthority(data_dir);
  if (!ca.ok()) return ca.status();
  XB_RETURN_IF_ERROR(EnsureServingCertificate(data_dir, host, *ca));
  auto token = EnsureToken(data_dir);
  if (!token.ok()) return token.status();
  return Credentials{data_dir / "ca.crt", data_dir / "server.crt", data_dir / "server.key", *token};
}

Status WriteKubeconfig(const fs::path& data_dir, const Credentials& credentials, const std::string& host,
                       int port) {
  const std::string server_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string content = fmt::format(
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: xblocks\n"
      "  cluster:\n"
      "    server: https://{}:{}\n"
      "    certificate-authority: {}\n"
      "users:\n"
      "- name: admin\n"
      "  user:\n"
      "    token: {}\n"
      "contexts:\n"
      "- name: xblocks\n"
      "  context:\n"
      "    cluster: xblocks\n"
      "    user: admin\n"
      "    namespace: default\n"
      "current-context: xblocks\n",
      server_host, port, fs::absolute(credentials.ca_cert).string(), credentials.token);
  return WriteFileAtomic(data_dir / "kubeconfig", content, 0600);
}

}  // namespace xblocks::apiserver
