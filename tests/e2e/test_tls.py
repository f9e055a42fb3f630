# SPDX-License-Identifier: Apache-2.0
"""ecr-sync and a loopback registry that serves TLS with a test CA.

The CA and the server certificate (SAN IP:127.0.0.1 and DNS:localhost) are
made here with `cryptography` (harness/tls.py). Debian's docker-registry
serves HTTPS with them, and ecr-sync reaches it through a TCP relay that
records how each connection starts. The registry does not log plain-HTTP
requests, because Go's server returns 400 for them without a log line, so
the relay is what shows that ecr-sync never fell back to plain HTTP.

What lands is checked over HTTPS verified with the CA, independently of
ecr-sync.
"""

import http.client
import itertools
import re
import shutil

import pytest

from harness.client import RegistryClient
from harness.tls import CertificateAuthority, ConnectionSniffer, TlsRegistry

CERTIFICATE_FAILURE = re.compile(r"(?i)certificate")
SANITIZER_REPORT = re.compile(
    r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")
VERIFICATION = re.compile(r"(?i)verif")

_repository_numbers = itertools.count(1)


class TlsEndpoint:
    """A TLS registry and the relay in front of it; `host` is the relay's address."""

    def __init__(self, registry, sniffer, ca_path):
        self.registry = registry
        self.sniffer = sniffer
        self.ca_path = ca_path

    @property
    def host(self):
        return self.sniffer.host

    @property
    def port(self):
        return self.sniffer.port


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    authority = CertificateAuthority()
    other_authority = CertificateAuthority("ecr-sync unrelated test CA")
    return {
        "directory": directory,
        "ca": authority.write_pem(directory / "ca.pem"),
        "other_ca": other_authority.write_pem(directory / "other-ca.pem"),
        "server": authority.issue(str(directory)),
        "wrong_name": authority.issue(str(directory), hosts=("registry.invalid",),
                                      name="wrong-name"),
    }


def start_endpoint(log_dir, name, certificate, ca_path):
    registry = TlsRegistry(log_dir, name, certificate, ca_path).start()
    sniffer = ConnectionSniffer(registry.port).start()
    return TlsEndpoint(registry, sniffer, ca_path)


def stop_endpoint(endpoint):
    endpoint.sniffer.stop()
    endpoint.registry.stop()


@pytest.fixture(scope="module")
def tls_module_endpoint(log_dir, tls_files):
    endpoint = start_endpoint(log_dir, "tls-target", tls_files["server"], tls_files["ca"])
    yield endpoint
    stop_endpoint(endpoint)


@pytest.fixture
def tls_target(tls_module_endpoint):
    tls_module_endpoint.sniffer.clear()
    return tls_module_endpoint


@pytest.fixture(scope="module")
def wrong_name_target(log_dir, tls_files):
    """A TLS registry whose certificate names registry.invalid only."""
    endpoint = start_endpoint(log_dir, "tls-wrong-name", tls_files["wrong_name"],
                              tls_files["ca"])
    yield endpoint
    stop_endpoint(endpoint)


@pytest.fixture
def repository():
    return f"e2e/tls-{next(_repository_numbers)}"


def assert_no_plain_http(endpoint):
    assert endpoint.sniffer.plain_http_connections() == 0, "ecr-sync sent plain HTTP"
    assert endpoint.sniffer.tls_connections() >= 1, "ecr-sync never opened a TLS connection"


def assert_landed(endpoint, repository, image, tag="1"):
    digest = endpoint.registry.get_manifest_digest(repository, tag)
    assert digest == image.digest, f"{endpoint.host}/{repository}:{tag} is {digest}"


def assert_certificate_rejected(result, endpoint, repository, mark):
    assert not SANITIZER_REPORT.search(result.stderr), "a sanitizer report is on stderr"
    assert result.returncode == 1
    assert CERTIFICATE_FAILURE.search(result.stderr), "stderr does not mention the certificate"
    assert VERIFICATION.search(result.stderr), "stderr does not mention verification"
    assert_no_plain_http(endpoint)
    assert endpoint.registry.requests(path_regex=rf"/v2/{re.escape(repository)}/.*",
                                      since=mark) == []


def write_sync_config(tmp_path, endpoint, source, image, prefix, registry_options):
    config = tmp_path / "tls.yaml"
    config.write_text(
        f"target:\n  registry: {endpoint.host}\n  repository_prefix: {prefix}\n"
        f"registries:\n  {endpoint.host}: {registry_options}\n"
        f"images:\n  - source: {source.host}/{image.repository}\n"
        f"    tags: {{include: ['^{image.tag}$']}}\n")
    return config


@pytest.fixture
def schema2(images):
    return images["schema2"]


def test_relay_detects_plain_http(tls_target):
    # The harness check behind assert_no_plain_http: a plain-HTTP request
    # through the relay is counted, and the registry returns 400 for it.
    connection = http.client.HTTPConnection("127.0.0.1", tls_target.port, timeout=10)
    try:
        connection.request("GET", "/v2/")
        status = connection.getresponse().status
    finally:
        connection.close()

    assert status == 400
    assert tls_target.sniffer.plain_http_connections() == 1
    assert tls_target.sniffer.tls_connections() == 0


def test_copy_with_ca_file(schema2, source, tls_target, tls_files, ecr_sync, repository):
    ecr_sync("--log-format", "json", "copy", "--ca-file", tls_files["ca"],
             schema2.reference(source.host),
             f"{tls_target.host}/{repository}:1", check=True)

    assert_landed(tls_target, repository, schema2)
    assert_no_plain_http(tls_target)


def test_copy_with_ssl_cert_file(schema2, source, tls_target, tls_files, ecr_sync,
                                 repository):
    ecr_sync("copy", schema2.reference(source.host),
             f"{tls_target.host}/{repository}:1", env={"SSL_CERT_FILE": tls_files["ca"]},
             check=True)

    assert_landed(tls_target, repository, schema2)
    assert_no_plain_http(tls_target)


def test_ca_file_wins_over_ssl_cert_file(schema2, source, tls_target, tls_files, ecr_sync,
                                         repository):
    ecr_sync("copy", "--ca-file", tls_files["ca"], schema2.reference(source.host),
             f"{tls_target.host}/{repository}:1", env={"SSL_CERT_FILE": tls_files["other_ca"]},
             check=True)

    assert_landed(tls_target, repository, schema2)


def test_copy_to_localhost_name(schema2, source, tls_target, tls_files, ecr_sync, repository):
    ecr_sync("copy", "--ca-file", tls_files["ca"], schema2.reference(source.host),
             f"localhost:{tls_target.port}/{repository}:1", check=True)

    assert_landed(tls_target, repository, schema2)
    assert_no_plain_http(tls_target)


def test_copy_from_tls_registry(images, source, target, tls_target, tls_files, ecr_sync,
                                repository):
    # A multi-arch image, so that several manifests and blobs come over TLS.
    image = images["multiarch"]
    ecr_sync("copy", "--ca-file", tls_files["ca"], image.reference(source.host),
             f"{tls_target.host}/{repository}:1", check=True)
    tls_target.sniffer.clear()

    ecr_sync("copy", "--ca-file", tls_files["ca"], f"{tls_target.host}/{repository}:1",
             f"{target.host}/{repository}:1", check=True)

    assert RegistryClient(target.host).get_manifest(repository, "1").digest == image.digest
    assert_no_plain_http(tls_target)


def test_sync_with_registry_ca_file(schema2, source, tls_target, tls_files, ecr_sync,
                                    repository, tmp_path):
    # ca_file is relative to the configuration file's folder.
    shutil.copyfile(tls_files["ca"], tmp_path / "ca.pem")
    config = write_sync_config(tmp_path, tls_target, source, schema2, repository,
                               "{ca_file: ca.pem}")

    result = ecr_sync("sync", "--config", config, check=0)

    assert_landed(tls_target, f"{repository}/{schema2.repository}", schema2)
    assert_no_plain_http(tls_target)
    assert "failed=0" in result.stdout


def test_copy_without_ca_fails(schema2, source, tls_target, ecr_sync, repository):
    mark = tls_target.registry.mark()

    result = ecr_sync("copy", schema2.reference(source.host),
                      f"{tls_target.host}/{repository}:1", check=1)

    assert_certificate_rejected(result, tls_target, repository, mark)
    assert "--ca-file" in result.stderr


def test_copy_with_unrelated_ca_fails(schema2, source, tls_target, tls_files, ecr_sync,
                                      repository):
    mark = tls_target.registry.mark()

    result = ecr_sync("copy", "--ca-file", tls_files["other_ca"],
                      schema2.reference(source.host),
                      f"{tls_target.host}/{repository}:1", check=1)

    assert_certificate_rejected(result, tls_target, repository, mark)


def test_sync_without_ca_fails(schema2, source, tls_target, ecr_sync, repository, tmp_path):
    config = write_sync_config(tmp_path, tls_target, source, schema2, repository, "{}")
    mark = tls_target.registry.mark()

    result = ecr_sync("sync", "--config", config, check=1)

    assert_certificate_rejected(result, tls_target, repository, mark)


def test_sync_certificate_hint_names_config_key(schema2, source, tls_target, ecr_sync,
                                                repository, tmp_path):
    config = write_sync_config(tmp_path, tls_target, source, schema2, repository, "{}")

    result = ecr_sync("sync", "--config", config, check=1)

    assert "ca_file" in result.stderr


def test_certificate_for_other_name_fails(schema2, source, wrong_name_target, tls_files,
                                          ecr_sync, repository):
    wrong_name_target.sniffer.clear()
    mark = wrong_name_target.registry.mark()

    result = ecr_sync("copy", "--ca-file", tls_files["ca"],
                      schema2.reference(source.host),
                      f"{wrong_name_target.host}/{repository}:1", check=1)

    assert_certificate_rejected(result, wrong_name_target, repository, mark)
    assert re.search(r"(?i)name|127\.0\.0\.1|subject", result.stderr), (
        "stderr does not say that the certificate names another host")


def test_insecure_registry_skips_verification(schema2, source, tls_target, ecr_sync,
                                              repository):
    ecr_sync("copy", "--insecure-registry", tls_target.host,
             schema2.reference(source.host),
             f"{tls_target.host}/{repository}:1", check=True)

    assert_landed(tls_target, repository, schema2)
    assert_no_plain_http(tls_target)


def test_insecure_other_registry_does_not_apply(schema2, source, tls_target, ecr_sync,
                                                repository):
    mark = tls_target.registry.mark()

    result = ecr_sync("copy", "--insecure-registry", f"127.0.0.1:{tls_target.port + 1}",
                      schema2.reference(source.host),
                      f"{tls_target.host}/{repository}:1", check=1)

    assert_certificate_rejected(result, tls_target, repository, mark)


def test_sync_insecure_skips_verification(schema2, source, tls_target, ecr_sync, repository,
                                          tmp_path):
    config = write_sync_config(tmp_path, tls_target, source, schema2, repository,
                               "{insecure: true}")

    ecr_sync("sync", "--config", config, check=0)

    assert_landed(tls_target, f"{repository}/{schema2.repository}", schema2)
    assert_no_plain_http(tls_target)


def test_plain_http_loopback_needs_no_flag(schema2, source, target, ecr_sync, repository):
    ecr_sync("copy", schema2.reference(source.host),
             f"{target.host}/{repository}:1", check=True)

    assert RegistryClient(target.host).get_manifest(repository, "1").digest == schema2.digest
