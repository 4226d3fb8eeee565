"""Certificates and keys for the test control plane, made with the openssl command-line tool.

Every key is ECDSA P-256 (fast to generate, and accepted by every Kubernetes component). The
certificates are valid for CERT_DAYS days and are thrown away with the work dir.
"""

import os
import subprocess

CERT_DAYS = 30
OPENSSL_TIMEOUT_SECONDS = 60
EC_KEY_OPTIONS = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")

# Client identities: file stem -> certificate subject. Kubernetes takes the user name from CN
# and the groups from O. The controller manager and the scheduler use the user names that the
# default RBAC roles of kube-apiserver are bound to. Admin and kwok are in system:masters, the
# group of cluster administrators.
CLIENTS = {
    "admin": "/O=system:masters/CN=kubernetes-admin",
    "kube-controller-manager": "/CN=system:kube-controller-manager",
    "kube-scheduler": "/CN=system:kube-scheduler",
    "kwok": "/O=system:masters/CN=kwok-controller",
}


class Pki:
    """The paths of the CA, the serving and client certificates and the service-account keys
    under one directory."""

    # Components that serve HTTPS on 127.0.0.1 with a certificate signed by the CA.
    SERVERS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")

    def __init__(self, directory):
        self.directory = str(directory)
        self.ca_cert = self.path("ca.crt")
        self.ca_key = self.path("ca.key")
        self.service_account_key = self.path("service-account.key")
        self.service_account_public_key = self.path("service-account.pub")

    def path(self, name):
        return os.path.join(self.directory, name)

    def server_cert(self, server):
        return self.path(f"{server}-serving.crt")

    def server_key(self, server):
        return self.path(f"{server}-serving.key")

    def client_cert(self, client):
        return self.path(f"{client}.crt")

    def client_key(self, client):
        return self.path(f"{client}.key")

    def generate(self):
        """Write a new CA, one serving certificate for 127.0.0.1 per entry of SERVERS, one client
        certificate per entry of CLIENTS and a service-account key pair."""
        os.makedirs(self.directory, exist_ok=True)
        _openssl("req", "-x509", "-new", *EC_KEY_OPTIONS, "-days", str(CERT_DAYS),
                 "-keyout", self.ca_key, "-out", self.ca_cert, "-subj", "/CN=xblocks-test-ca",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        for server in self.SERVERS:
            self._sign(self.server_cert(server), self.server_key(server), f"/CN={server}",
                       "serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost")
        for client, subject in CLIENTS.items():
            self._sign(self.client_cert(client), self.client_key(client), subject, "clientAuth")
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", self.service_account_key)
        _openssl("pkey", "-in", self.service_account_key, "-pubout",
                 "-out", self.service_account_public_key)
        return self

    def _sign(self, cert, key, subject, usage, *extensions):
        """Write a new key and a certificate for it signed by the CA."""
        added = []
        for extension in ("basicConstraints=critical,CA:FALSE",
                          "keyUsage=critical,digitalSignature",
                          f"extendedKeyUsage={usage}", *extensions):
            added += ["-addext", extension]
        _openssl("req", "-x509", "-new", *EC_KEY_OPTIONS, "-days", str(CERT_DAYS),
                 "-CA", self.ca_cert, "-CAkey", self.ca_key,
                 "-keyout", key, "-out", cert, "-subj", subject, *added)


def _openssl(*args):
    command = ["openssl", *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=OPENSSL_TIMEOUT_SECONDS)
    except FileNotFoundError as error:
        raise RuntimeError("the openssl command is missing; install the Debian package openssl "
                           "(scripts/install-deps.sh does)") from error
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {result.returncode}:\n"
                           f"{result.stderr}")
