# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of `ecr-sync copy SOURCE DEST`.

Contract under test:
  ecr-sync copy [--jobs N] [--include-foreign-layers] [--insecure-registry HOST]...
                [--ca-file FILE] [--platform P] SOURCE DEST
Exit status 0 when the copy is done, 1 when it failed, 2 for invalid usage.
On success stdout contains one line
  copied SRC -> DST digest=sha256:... manifests_pushed=N manifests_skipped=N
  blobs_copied=N blobs_skipped=N blobs_foreign=N bytes=N seconds=F
and credentials come from $DOCKER_CONFIG/config.json.

Every result is checked with skopeo or the registry API, never from the
summary line alone.
"""

import hashlib
import json
import os
import re

import pytest

import harness
from harness import environment, fixtures
from harness.client import RegistryClient
from harness.dockerconfig import basic_auth_entry, write_docker_config

REQUIRED_SUMMARY_KEYS = ("digest", "manifests_pushed", "manifests_skipped", "blobs_copied",
                         "blobs_skipped", "blobs_foreign", "bytes", "seconds")
INTEGER_SUMMARY_KEYS = ("manifests_pushed", "manifests_skipped", "blobs_copied",
                        "blobs_skipped", "blobs_foreign", "bytes")
PEAK_RSS_LIMIT_KIB = 32 * 1024
AUTH_FAILURE = re.compile(r"401|authenticat|unauthori[sz]ed", re.IGNORECASE)


def parse_summary(stdout):
    """Parse the one `copied SRC -> DST key=value...` line of stdout into a dict."""
    lines = [line for line in stdout.splitlines() if line.startswith("copied ")]
    assert len(lines) == 1, f"expected one summary line starting with 'copied ', got:\n{stdout}"
    tokens = lines[0].split()
    assert len(tokens) >= 4, f"summary line too short: {lines[0]}"
    assert tokens[2] == "->", f"summary line lacks 'SRC -> DST': {lines[0]}"
    summary = {"source": tokens[1], "destination": tokens[3]}
    for token in tokens[4:]:
        key, separator, value = token.partition("=")
        if separator:
            summary[key] = value
    missing = [key for key in REQUIRED_SUMMARY_KEYS if key not in summary]
    assert not missing, f"summary line lacks {missing}: {lines[0]}"
    for key in INTEGER_SUMMARY_KEYS:
        summary[key] = int(summary[key])
    summary["seconds"] = float(summary["seconds"])
    return summary


def upload_paths(repository):
    return rf"/v2/{re.escape(repository)}/blobs/uploads/.*"


def completed_uploads(registry, repository, since):
    """Return the digests of blob uploads into repository completed since a log mark.

    An upload completes with a PUT (or a single POST) that carries `digest=`
    and gets status 201. Cross-repository mounts carry `mount=` instead and are not
    counted.
    """
    digests = []
    for entry in registry.requests(path_regex=upload_paths(repository), since=since):
        if entry.method in ("PUT", "POST") and entry.status == 201:
            digests.extend(entry.query_values("digest"))
    return digests


def assert_target_matches(skopeo_raw, host, repository, image, creds=None, tag="1"):
    """Check with skopeo that the target manifest and each child are byte-exact."""
    target_digest = harness.sha256_digest(skopeo_raw(f"{host}/{repository}:{tag}", creds))
    assert target_digest == image.digest, f"top manifest differs at {host}/{repository}:{tag}"
    for child in image.children:
        raw = skopeo_raw(f"{host}/{repository}@{child.digest}", creds)
        assert harness.sha256_digest(raw) == child.digest, (
            f"child {child.platform} differs at {host}/{repository}")


def assert_blobs_present(client, repository, digests):
    missing = [digest for digest in digests if not client.blob_exists(repository, digest)]
    assert not missing, f"blobs missing at {client.host}/{repository}: {missing}"


@pytest.mark.parametrize("kind", fixtures.DEFAULT_KINDS)
def test_copy_is_byte_exact(kind, images, source, target, ecr_sync, skopeo_raw,
                            unique_repository):
    image = images[kind]
    repository = unique_repository(kind)

    result = ecr_sync("copy", image.reference(source.host), f"{target.host}/{repository}:1",
                      check=True)

    summary = parse_summary(result.stdout)
    assert summary["digest"] == image.digest
    assert summary["manifests_pushed"] == image.manifest_count
    assert summary["blobs_copied"] == len(image.blobs)
    assert summary["blobs_foreign"] == len(image.foreign_blobs)
    assert summary["bytes"] >= sum(image.blob_sizes.values())
    assert_target_matches(skopeo_raw, target.host, repository, image)
    client = RegistryClient(target.host)
    assert client.get_manifest(repository, "1").media_type == image.media_type
    assert_blobs_present(client, repository, image.blobs)


@pytest.mark.parametrize("kind", fixtures.DEFAULT_KINDS)
def test_copy_again_uploads_nothing(kind, images, source, target, ecr_sync, skopeo_raw,
                                    unique_repository):
    image = images[kind]
    repository = unique_repository(kind)
    destination = f"{target.host}/{repository}:1"
    ecr_sync("copy", image.reference(source.host), destination, check=True)
    mark = target.mark()

    result = ecr_sync("copy", image.reference(source.host), destination, check=True)

    summary = parse_summary(result.stdout)
    assert summary["digest"] == image.digest
    assert summary["blobs_copied"] == 0
    assert target.count_requests("POST", upload_paths(repository), since=mark) == 0
    assert target.count_requests("PATCH", upload_paths(repository), since=mark) == 0
    assert_target_matches(skopeo_raw, target.host, repository, image)


def test_copy_again_pushes_no_manifest(images, source, target, ecr_sync, unique_repository):
    image = images["multiarch"]
    repository = unique_repository("again-manifests")
    destination = f"{target.host}/{repository}:1"
    ecr_sync("copy", image.reference(source.host), destination, check=True)
    mark = target.mark()

    result = ecr_sync("copy", image.reference(source.host), destination, check=True)

    summary = parse_summary(result.stdout)
    assert summary["manifests_pushed"] == 0
    assert summary["manifests_skipped"] >= 1
    manifest_path = rf"/v2/{re.escape(repository)}/manifests/.*"
    assert target.count_requests("PUT", manifest_path, since=mark) == 0


def test_copy_again_spends_no_source_pull(images, source, target, ecr_sync, unique_repository):
    # Docker Hub counts manifest GETs as pulls and not HEADs, so an
    # up-to-date copy must only HEAD the source manifest.
    image = images["multiarch"]
    destination = f"{target.host}/{unique_repository('again-pulls')}:1"
    ecr_sync("copy", image.reference(source.host), destination, check=True)
    mark = source.mark()

    ecr_sync("copy", image.reference(source.host), destination, check=True)

    manifest_path = rf"/v2/{re.escape(image.repository)}/manifests/.*"
    assert source.count_requests("GET", manifest_path, since=mark) == 0
    assert source.count_requests("GET", rf"/v2/{re.escape(image.repository)}/blobs/.*",
                                 since=mark) == 0


def test_copy_shared_layer_once(images, source, target, ecr_sync, unique_repository):
    image = images["multiarch"]
    amd64, arm64 = image.children[0], image.children[1]
    shared = set(amd64.blobs) & set(arm64.blobs)
    assert shared, "fixture error: multiarch platforms share no layer"
    repository = unique_repository("shared-layer")
    source_mark = source.mark()
    target_mark = target.mark()

    result = ecr_sync("copy", image.reference(source.host), f"{target.host}/{repository}:1",
                      check=True)

    uploads = completed_uploads(target, repository, target_mark)
    for digest in shared:
        assert uploads.count(digest) == 1, f"shared layer {digest} not uploaded exactly once"
        blob_path = rf"/v2/{re.escape(image.repository)}/blobs/{re.escape(digest)}"
        assert source.count_requests("GET", blob_path, since=source_mark) == 1
    assert sorted(uploads) == sorted(image.blobs)
    assert parse_summary(result.stdout)["blobs_copied"] == len(image.blobs)


def test_copy_with_jobs(images, source, target, ecr_sync, skopeo_raw, unique_repository):
    image = images["multiarch"]
    repository = unique_repository("jobs")

    ecr_sync("copy", "--jobs", "4", image.reference(source.host),
             f"{target.host}/{repository}:1", check=True)

    assert_target_matches(skopeo_raw, target.host, repository, image)
    assert_blobs_present(RegistryClient(target.host), repository, image.blobs)


def test_copy_by_digest(images, source, target, ecr_sync, skopeo_raw, unique_repository):
    image = images["multiarch"]
    repository = unique_repository("by-digest")

    result = ecr_sync("copy", image.digest_reference(source.host),
                      f"{target.host}/{repository}:1", check=True)

    assert parse_summary(result.stdout)["digest"] == image.digest
    assert_target_matches(skopeo_raw, target.host, repository, image)


def test_basic_target_with_credentials(images, source, basic_target, ecr_sync, skopeo_raw,
                                   unique_repository):
    image = images["multiarch"]
    repository = unique_repository("basic")

    result = ecr_sync("copy", image.reference(source.host),
                      f"{basic_target.host}/{repository}:1", check=True)

    creds = (environment.TARGET_USER, environment.TARGET_PASSWORD)
    assert_target_matches(skopeo_raw, basic_target.host, repository, image, creds)
    output = result.stdout + result.stderr
    assert environment.TARGET_PASSWORD not in output
    assert environment.SOURCE_PASSWORD not in output


def test_basic_target_without_credentials(images, source, basic_target, ecr_sync,
                                                       tmp_path, unique_repository):
    image = images["schema2"]
    repository = unique_repository("basic-anonymous")
    config = write_docker_config(tmp_path / "docker", {})

    result = ecr_sync("copy", image.reference(source.host),
                      f"{basic_target.host}/{repository}:1",
                      env={"DOCKER_CONFIG": config}, check=1)

    assert AUTH_FAILURE.search(result.stderr), "stderr does not mention 401 or authentication"
    assert not result.stdout.startswith("copied ")
    status, _ = RegistryClient(basic_target.host, environment.TARGET_USER,
                               environment.TARGET_PASSWORD).head_manifest(repository, "1")
    assert status == 404


def test_basic_target_wrong_password(images, source, basic_target, ecr_sync,
                                                  tmp_path, unique_repository):
    image = images["schema2"]
    repository = unique_repository("basic-wrong-password")
    wrong_password = "not-the-password-7c1e"
    config = write_docker_config(tmp_path / "docker", {
        basic_target.host: basic_auth_entry(environment.TARGET_USER, wrong_password)})

    result = ecr_sync("copy", image.reference(source.host),
                      f"{basic_target.host}/{repository}:1",
                      env={"DOCKER_CONFIG": config}, check=1)

    assert AUTH_FAILURE.search(result.stderr), "stderr does not mention 401 or authentication"
    assert wrong_password not in result.stdout + result.stderr


def test_copy_from_source_anonymously(images, source, target, token_server, ecr_sync, skopeo_raw,
                                      tmp_path, unique_repository):
    image = images["dockerlist"]
    repository = unique_repository("anonymous-source")
    config = write_docker_config(tmp_path / "docker", {})
    grants_before = len(token_server.grants)

    ecr_sync("copy", image.reference(source.host), f"{target.host}/{repository}:1",
             env={"DOCKER_CONFIG": config}, check=True)

    assert_target_matches(skopeo_raw, target.host, repository, image)
    new_grants = token_server.grants[grants_before:]
    assert new_grants, "ecr-sync fetched no token from the source's token server"
    assert all(grant["account"] == "" for grant in new_grants)


def test_copy_uses_source_credentials(images, source, target, token_server, ecr_sync,
                                      unique_repository):
    # The default DOCKER_CONFIG lists the source in the username/password
    # form, so the token server must see that account.
    image = images["schema2"]
    grants_before = len(token_server.grants)

    ecr_sync("copy", image.reference(source.host),
             f"{target.host}/{unique_repository('source-credentials')}:1", check=True)

    accounts = {grant["account"] for grant in token_server.grants[grants_before:]}
    assert accounts == {environment.SOURCE_USER}


def test_copy_missing_tag_fails(images, source, target, ecr_sync, unique_repository):
    repository = unique_repository("missing-tag")

    result = ecr_sync("copy", f"{source.host}/{images['schema2'].repository}:no-such-tag",
                      f"{target.host}/{repository}:1", check=1)

    assert re.search(r"no-such-tag|not found|unknown", result.stderr, re.IGNORECASE)
    status, _ = RegistryClient(target.host).head_manifest(repository, "1")
    assert status == 404


def test_foreign_layer_skipped_by_default(images, source, target, ecr_sync, skopeo_raw,
                                          unique_repository):
    image = images["foreign"]
    repository = unique_repository("foreign-default")

    result = ecr_sync("copy", image.reference(source.host), f"{target.host}/{repository}:1",
                      check=True)

    assert parse_summary(result.stdout)["blobs_foreign"] == 1
    assert_target_matches(skopeo_raw, target.host, repository, image)
    client = RegistryClient(target.host)
    for digest in image.foreign_blobs:
        assert not client.blob_exists(repository, digest)
    assert_blobs_present(client, repository, image.blobs)


def test_foreign_layer_copied_when_included(images, source, target, ecr_sync, skopeo_raw,
                                            unique_repository):
    image = images["foreign"]
    repository = unique_repository("foreign-included")

    result = ecr_sync("copy", "--include-foreign-layers", image.reference(source.host),
                      f"{target.host}/{repository}:1", check=True)

    assert parse_summary(result.stdout)["blobs_copied"] == len(image.blobs) + 1
    assert_target_matches(skopeo_raw, target.host, repository, image)
    client = RegistryClient(target.host)
    for digest in image.foreign_blobs:
        assert harness.sha256_digest(client.get_blob(repository, digest)) == digest


def test_schema1_source_rejected(stub, target, ecr_sync, unique_repository):
    repository = unique_repository("schema1")
    mark = target.mark()

    result = ecr_sync("copy", f"{stub.host}/legacy/app:1", f"{target.host}/{repository}:1",
                      check=1)

    assert re.search(r"schema ?1", result.stderr, re.IGNORECASE), (
        "stderr does not mention schema 1")
    manifest_requests = [(method, path) for method, path in stub.requests
                         if path == "/v2/legacy/app/manifests/1"]
    assert manifest_requests, "ecr-sync did not request the schema 1 manifest"
    assert target.count_requests("PUT", rf"/v2/{re.escape(repository)}/.*", since=mark) == 0
    assert target.count_requests("POST", rf"/v2/{re.escape(repository)}/.*", since=mark) == 0


# Each case builds (arguments, regex that stderr must match) from the source
# host, the target host and a fresh target repository.
INVALID_USAGE_CASES = {
    "uppercase-source-repository": lambda src, dst, repo: (
        ["copy", f"{src}/Fixtures/Schema2:1", f"{dst}/{repo}:1"], r"Fixtures/Schema2"),
    "uppercase-destination-repository": lambda src, dst, repo: (
        ["copy", f"{src}/fixtures/schema2:1", f"{dst}/{repo}/Upper:1"],
        re.escape(f"{repo}/Upper")),
    "bad-digest": lambda src, dst, repo: (
        ["copy", f"{src}/fixtures/schema2@sha256:1234", f"{dst}/{repo}:1"], r"sha256:1234"),
    "missing-destination": lambda src, dst, repo: (
        ["copy", f"{src}/fixtures/schema2:1"], r"(?i)dest"),
    "jobs-zero": lambda src, dst, repo: (
        ["copy", "--jobs", "0", f"{src}/fixtures/schema2:1", f"{dst}/{repo}:1"], r"--jobs"),
    "jobs-not-a-number": lambda src, dst, repo: (
        ["copy", "--jobs", "many", f"{src}/fixtures/schema2:1", f"{dst}/{repo}:1"], r"many"),
    "platform-invalid": lambda src, dst, repo: (
        ["copy", "--platform", "linux", f"{src}/fixtures/schema2:1", f"{dst}/{repo}:1"],
        r"\"linux\""),
    "insecure-registry-with-scheme": lambda src, dst, repo: (
        ["copy", "--insecure-registry", f"http://{dst}", f"{src}/fixtures/schema2:1",
         f"{dst}/{repo}:1"], re.escape(f"http://{dst}")),
    "insecure-registry-bad-port": lambda src, dst, repo: (
        ["copy", "--insecure-registry", "127.0.0.1:99999", f"{src}/fixtures/schema2:1",
         f"{dst}/{repo}:1"], r"127\.0\.0\.1:99999"),
    "ca-file-not-pem": lambda src, dst, repo: (
        ["copy", "--ca-file", "/etc/hostname", f"{src}/fixtures/schema2:1", f"{dst}/{repo}:1"],
        r"/etc/hostname.*PEM"),
    "reference-with-scheme": lambda src, dst, repo: (
        ["copy", f"http://{src}/fixtures/schema2:1", f"{dst}/{repo}:1"], r"drop the scheme"),
    "retries-zero": lambda src, dst, repo: (
        ["copy", "--retries", "0", f"{src}/fixtures/schema2:1", f"{dst}/{repo}:1"],
        r"--retries '0'"),
    "unknown-option": lambda src, dst, repo: (
        ["copy", "--no-such-option", f"{src}/fixtures/schema2:1", f"{dst}/{repo}:1"],
        r"--no-such-option"),
}


@pytest.mark.parametrize("case", INVALID_USAGE_CASES)
def test_invalid_usage_exits_2(case, images, source, target, ecr_sync, unique_repository):
    repository = unique_repository("invalid")
    arguments, expected = INVALID_USAGE_CASES[case](source.host, target.host, repository)
    mark = target.mark()

    result = ecr_sync(*arguments, check=2)

    assert re.search(expected, result.stderr), f"stderr does not match {expected!r}"
    assert not result.stdout.startswith("copied ")
    assert target.count_requests(None, rf"/v2/{re.escape(repository)}(/.*)?", since=mark) == 0


@pytest.fixture(scope="module")
def big_image(servers):
    return harness.push_big_fixture(servers.source_client())


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ECR_SYNC_SANITIZED") == "1",
                    reason="ASan and UBSan builds use more memory by design")
def test_copy_big_layer_in_bounded_memory(big_image, source, target, ecr_sync, skopeo_raw,
                                          unique_repository, measurement):
    repository = unique_repository("big")
    layer_digest = big_image.blobs[1]

    result = ecr_sync("copy", big_image.reference(source.host), f"{target.host}/{repository}:1",
                      check=True)

    layer_mib = big_image.blob_sizes[layer_digest] / (1024 * 1024)
    measurement(f"peak RSS copying a {layer_mib:.0f} MiB layer: "
                f"{result.peak_rss_kib / 1024:.1f} MiB (limit {PEAK_RSS_LIMIT_KIB // 1024} MiB)")
    assert_target_matches(skopeo_raw, target.host, repository, big_image)
    response = RegistryClient(target.host).request(
        "HEAD", f"/v2/{repository}/blobs/{layer_digest}", expected=(200,))
    assert int(response.headers["Content-Length"]) == big_image.blob_sizes[layer_digest]
    assert result.peak_rss_kib < PEAK_RSS_LIMIT_KIB


def test_retag_reads_manifest_from_target(images, source, target, ecr_sync, skopeo_raw,
                                          unique_repository):
    # The target repository already holds the image under another tag: the
    # new tag is pushed from the target's copy, with no GET at the source.
    image = images["multiarch"]
    repository = unique_repository("retag")
    ecr_sync("copy", image.reference(source.host), f"{target.host}/{repository}:1", check=True)
    source_mark = source.mark()
    target_mark = target.mark()

    result = ecr_sync("copy", image.reference(source.host), f"{target.host}/{repository}:2",
                      check=True)

    summary = parse_summary(result.stdout)
    assert summary["digest"] == image.digest
    assert summary["blobs_copied"] == 0
    assert summary["manifests_pushed"] == 1
    assert source.count_requests("GET", r"/v2/.+", since=source_mark) == 0
    assert target.count_requests("PUT", rf"/v2/{re.escape(repository)}/manifests/2",
                                 since=target_mark) == 1
    raw = skopeo_raw(f"{target.host}/{repository}:2")
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest


def test_credential_helper_asked_once(images, source, basic_target, ecr_sync, skopeo_raw,
                                      unique_repository, tmp_path):
    # credHelpers names docker-credential-NAME on PATH; the helper gets the
    # server on stdin and prints JSON. It must run once per registry and run.
    image = images["multiarch"]
    repository = unique_repository("helper")
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    calls = tmp_path / "calls.txt"
    helper = helper_dir / "docker-credential-e2e"
    helper.write_text(
        "#!/bin/sh\n"
        f"read server; echo \"$1 $server\" >> {calls}\n"
        f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{environment.TARGET_USER}\","
        f"\"Secret\":\"{environment.TARGET_PASSWORD}\"}}' \"$server\"\n")
    helper.chmod(0o755)
    config_dir = tmp_path / "docker-helpers"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps(
        {"credHelpers": {basic_target.host: "e2e"}}))
    path = f"{helper_dir}:{os.environ['PATH']}"

    result = ecr_sync("copy", image.reference(source.host),
                      f"{basic_target.host}/{repository}:1",
                      env={"DOCKER_CONFIG": str(config_dir), "PATH": path}, check=True)

    assert calls.read_text().splitlines() == [f"get {basic_target.host}"]
    assert environment.TARGET_PASSWORD not in result.stdout + result.stderr
    raw = skopeo_raw(f"{basic_target.host}/{repository}:1",
                     creds=f"{environment.TARGET_USER}:{environment.TARGET_PASSWORD}")
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest


def test_missing_credential_helper_named(images, source, basic_target, ecr_sync,
                                         unique_repository, tmp_path):
    config_dir = tmp_path / "docker-helpers"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps(
        {"credHelpers": {basic_target.host: "absent-e2e"}}))

    result = ecr_sync("copy", images["schema2"].reference(source.host),
                      f"{basic_target.host}/{unique_repository('no-helper')}:1",
                      env={"DOCKER_CONFIG": str(config_dir)}, check=1)

    assert "docker-credential-absent-e2e" in result.stderr


def test_refused_credentials_fetched_again(images, source, basic_target, ecr_sync, skopeo_raw,
                                           unique_repository, tmp_path):
    # Registry passwords expire (ECR's after 12 hours): on a 401 the provider
    # is asked again. The helper answers with a wrong password first.
    image = images["schema2"]
    repository = unique_repository("refresh")
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    calls = tmp_path / "calls.txt"
    helper = helper_dir / "docker-credential-e2e-expiring"
    helper.write_text(
        "#!/bin/sh\n"
        "read server\n"
        f"echo call >> {calls}\n"
        f"if [ $(wc -l < {calls}) -eq 1 ]; then password=expired; "
        f"else password='{environment.TARGET_PASSWORD}'; fi\n"
        f"printf '{{\"Username\":\"{environment.TARGET_USER}\",\"Secret\":\"%s\"}}' "
        "\"$password\"\n")
    helper.chmod(0o755)
    config_dir = tmp_path / "docker-helpers"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps(
        {"credHelpers": {basic_target.host: "e2e-expiring"}}))

    ecr_sync("copy", image.reference(source.host), f"{basic_target.host}/{repository}:1",
             env={"DOCKER_CONFIG": str(config_dir),
                  "PATH": f"{helper_dir}:{os.environ['PATH']}"},
             check=True)

    assert len(calls.read_text().splitlines()) == 2
    raw = skopeo_raw(f"{basic_target.host}/{repository}:1",
                     creds=f"{environment.TARGET_USER}:{environment.TARGET_PASSWORD}")
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest
