# SPDX-License-Identifier: Apache-2.0
"""A test certificate authority and a docker-registry that serves TLS.

CertificateAuthority makes a self-signed CA with `cryptography` and signs
server certificates whose subject alternative names the test chooses
(IP:127.0.0.1 and DNS:localhost by default). TlsRegistry is a harness
Registry whose configuration sets `http.tls.certificate` and `key`, so
Debian's docker-registry serves HTTPS only.

TlsRegistry checks readiness and syncs its access log over HTTPS, because
any plain-HTTP request would show up in the tests that look for one.
ConnectionSniffer is a TCP relay in front of a server that records the first
byte of every connection: 0x16 opens a TLS handshake, and a letter opens a
plain-HTTP request line.
"""

import dataclasses
import datetime
import http.client
import ipaddress
import os
import socket
import ssl
import tempfile
import threading
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import registry, runtime
from .client import ALL_MANIFEST_MEDIA_TYPES, sha256_digest

TLS_HANDSHAKE_RECORD = 0x16
CERTIFICATE_DAYS = 7


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ecr-sync tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _subject_alternative_names(hosts):
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


@dataclasses.dataclass(frozen=True)
class ServerCertificate:
    """PEM files of a server certificate (with its CA's certificate after it) and key."""
    certificate_path: str
    key_path: str


class CertificateAuthority:
    """A self-signed CA (ECDSA P-256) valid for CERTIFICATE_DAYS days from yesterday."""

    def __init__(self, common_name="ecr-sync test CA"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def pem(self):
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write_pem(self, path):
        """Write the CA certificate as PEM to path and return path as a string."""
        with open(path, "wb") as pem_file:
            pem_file.write(self.pem())
        return str(path)

    def issue(self, directory, hosts=(runtime.LOOPBACK, "localhost"), name="server"):
        """Sign a server certificate for hosts; write NAME.crt and NAME.key into directory."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(hosts[0]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(_subject_alternative_names(hosts), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        certificate_path = os.path.join(directory, f"{name}.crt")
        key_path = os.path.join(directory, f"{name}.key")
        with open(certificate_path, "wb") as certificate_file:
            certificate_file.write(certificate.public_bytes(serialization.Encoding.PEM))
            certificate_file.write(self.pem())
        with open(key_path, "wb") as key_file:
            key_file.write(_key_pem(key))
        os.chmod(key_path, 0o600)
        return ServerCertificate(certificate_path, key_path)


def wait_for_https(port, ca_path, path, timeout, is_alive=None):
    """Poll GET https://127.0.0.1:PORT/PATH, verified with ca_path, until a response arrives.

    Any HTTP status counts as ready. The chain is verified but not the host
    name, so that a registry with a certificate for another name can start.
    Raises TimeoutError, or RuntimeError when is_alive() returns False.
    """
    context = ssl.create_default_context(cafile=ca_path)
    context.check_hostname = False
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if is_alive is not None and not is_alive():
            raise RuntimeError(f"server on port {port} exited before it was ready")
        connection = http.client.HTTPSConnection(runtime.LOOPBACK, port, timeout=2,
                                                 context=context)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status
        except OSError as error:
            last_error = error
        finally:
            connection.close()
        time.sleep(0.05)
    raise TimeoutError(f"https://{runtime.LOOPBACK}:{port}{path} not ready after {timeout} s: "
                       f"{last_error}")


class TlsRegistry(registry.Registry):
    """A docker-registry on 127.0.0.1 that serves HTTPS with a given certificate.

    ca_path is the PEM file of the CA that signed the certificate; the
    harness uses it for its own requests. `url` is https://127.0.0.1:PORT.
    """

    def __init__(self, log_dir, name, certificate, ca_path, auth=None):
        super().__init__(log_dir, name, auth)
        self.certificate = certificate
        self.ca_path = ca_path

    @property
    def url(self):
        return f"https://{self.host}"

    def _config(self):
        config = super()._config()
        config["http"]["tls"] = {"certificate": self.certificate.certificate_path,
                                 "key": self.certificate.key_path}
        return config

    def start(self):
        # Registry.start() waits with plain HTTP, which a TLS registry refuses.
        self._temp_dir = tempfile.mkdtemp(prefix=f"ecr-sync-{self.name}-")
        runtime.register_log(self.log_path)
        runtime.register_log(self.access_log_path)
        last_error = None
        for _ in range(registry.START_ATTEMPTS):
            self.port = runtime.free_port()
            self._write_config()
            self._spawn()
            try:
                wait_for_https(self.port, self.ca_path, "/v2/", registry.READY_TIMEOUT_SECONDS,
                               self._is_alive)
                return self
            except (RuntimeError, TimeoutError) as error:
                last_error = error
                self._terminate()
        self._remove_temp_dir()
        raise RuntimeError(f"TLS docker-registry '{self.name}' did not start: {last_error}; "
                           f"see {self.log_path}")

    def sync_log(self):
        """Wait until every request handled so far is in the access log (over HTTPS)."""
        marker = uuid.uuid4().hex
        wait_for_https(self.port, self.ca_path, f"/v2/?{registry._LOG_SYNC_PARAMETER}={marker}",
                       registry.READY_TIMEOUT_SECONDS)
        deadline = time.monotonic() + registry.LOG_SYNC_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if any(marker in entry.query for entry in self._read_access_log()):
                return
            time.sleep(0.02)
        raise TimeoutError(f"access log of '{self.name}' did not show marker {marker}")

    def get_manifest_digest(self, repository, reference):
        """Return the sha256 digest of the manifest, fetched over verified HTTPS, or None on 404."""
        context = ssl.create_default_context(cafile=self.ca_path)
        connection = http.client.HTTPSConnection(runtime.LOOPBACK, self.port, timeout=30,
                                                 context=context)
        try:
            connection.request("GET", f"/v2/{repository}/manifests/{reference}", headers={
                "Accept": ", ".join(ALL_MANIFEST_MEDIA_TYPES)})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            return None
        return sha256_digest(body)


class ConnectionSniffer:
    """A TCP relay on 127.0.0.1 that records how each connection starts.

    Every accepted connection is relayed to backend_port unchanged.
    `first_bytes` lists the first byte of each connection, or None when the
    client sent nothing. plain_http_connections() counts the connections
    that began with a letter, as an HTTP request line does, and
    tls_connections() those that began with a TLS handshake record.
    """

    def __init__(self, backend_port):
        self.backend_port = backend_port
        self.first_bytes = []
        self._lock = threading.Lock()
        self._listener = None
        self._thread = None
        self._stopping = False
        self.port = None

    @property
    def host(self):
        return f"{runtime.LOOPBACK}:{self.port}"

    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((runtime.LOOPBACK, 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="tls-sniffer",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping = True
        if self._listener is not None:
            # close() alone does not wake a thread blocked in accept() on Linux.
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def clear(self):
        with self._lock:
            self.first_bytes.clear()

    def plain_http_connections(self):
        with self._lock:
            return sum(1 for first in self.first_bytes
                       if first is not None and chr(first).isalpha())

    def tls_connections(self):
        with self._lock:
            return sum(1 for first in self.first_bytes if first == TLS_HANDSHAKE_RECORD)

    def _accept_loop(self):
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        try:
            backend = socket.create_connection((runtime.LOOPBACK, self.backend_port), timeout=10)
        except OSError:
            client.close()
            return
        first = client.recv(1, socket.MSG_PEEK)
        with self._lock:
            self.first_bytes.append(first[0] if first else None)
        pumps = [threading.Thread(target=_pump, args=(client, backend), daemon=True),
                 threading.Thread(target=_pump, args=(backend, client), daemon=True)]
        for pump in pumps:
            pump.start()
        for pump in pumps:
            pump.join()
        client.close()
        backend.close()


def _pump(source, destination):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        pass
    finally:
        try:
            destination.shutdown(socket.SHUT_WR)
        except OSError:
            pass
