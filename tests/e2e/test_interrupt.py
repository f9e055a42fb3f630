# SPDX-License-Identifier: Apache-2.0
"""Interrupted and concurrent syncs.

A sync killed with SIGKILL at any point must leave a target where every tag
points at a complete image, and the next run must converge to the source
byte for byte. SIGINT and SIGTERM stop cleanly with the report written, and
two syncs of one configuration never interfere.
"""

import hashlib
import json
import os
import random
import signal
import subprocess
import time

import pytest

from harness.client import RegistryClient

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
KINDS = ["multiarch", "dockerlist", "schema2", "oci", "zstd", "artifact"]
KILL_SEEDS = range(20)


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_config(tmp_path, source, target, prefix, kinds=KINDS):
    lines = ["target:", f"  registry: {target.host}", f"  repository_prefix: {prefix}",
             "images:"]
    lines += [f"  - source: {source.host}/fixtures/{kind}" for kind in kinds]
    path = tmp_path / f"{prefix}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start_sync(binary, config, environment, *extra):
    return subprocess.Popen([binary, "sync", "--config", str(config), *extra],
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)


def list_tags(client, repository):
    """Tags of repository; none when it does not exist (yet)."""
    response = client.request("GET", f"/v2/{repository}/tags/list", expected=(200, 404))
    if response.status == 404:
        return []
    return json.loads(response.body).get("tags") or []


def assert_tags_complete(client, repository):
    """Every tag's manifest, children and blobs are present: no dangling tag."""
    for tag in list_tags(client, repository):
        # docker-registry lists a tag's folder before its link is written: a
        # tag that does not resolve yet points at nothing, which is allowed.
        response = client.request("GET", f"/v2/{repository}/manifests/{tag}",
                                  headers={"Accept": ACCEPT}, expected=(200, 404))
        if response.status == 404:
            continue
        pending = [json.loads(response.body)]
        while pending:
            document = pending.pop()
            for child in document.get("manifests", []):
                pending.append(json.loads(client.get_manifest(repository,
                                                              child["digest"]).body))
            blobs = [document["config"]] if "config" in document else []
            blobs += [layer for layer in document.get("layers", [])
                      if not layer.get("urls")]
            for blob in blobs:
                assert client.blob_exists(repository, blob["digest"]), (
                    f"{repository}:{tag} points at missing blob {blob['digest']}")


def assert_target_equals_source(images, target, prefix):
    client = RegistryClient(target.host)
    for kind in KINDS:
        manifest = client.get_manifest(f"{prefix}/fixtures/{kind}", "1")
        assert digest_of(manifest.body) == images[kind].digest, kind


@pytest.fixture
def sync_environment(ecr_sync_environment):
    return ecr_sync_environment()


@pytest.fixture
def binary(ecr_sync):
    from conftest import ecr_sync_binary
    return ecr_sync_binary()


@pytest.fixture(scope="module")
def full_run_seconds(images, source, target, tmp_path_factory):
    """How long one full sync takes here, to spread the kills over it."""
    from conftest import ecr_sync_binary
    tmp_path = tmp_path_factory.mktemp("timing")
    config = write_config(tmp_path, source, target, "kill-timing")
    environment = dict(os.environ, AWS_EC2_METADATA_DISABLED="true",
                       AWS_ENDPOINT_URL="http://127.0.0.1:9")
    started = time.monotonic()
    result = subprocess.run([ecr_sync_binary(), "sync", "--config", str(config)],
                            env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return time.monotonic() - started


@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_sigkill_then_rerun_converges(seed, images, source, target, binary, sync_environment,
                                      full_run_seconds, tmp_path):
    prefix = f"kill{seed}"
    config = write_config(tmp_path, source, target, prefix)
    delay = random.Random(seed).uniform(0.0, full_run_seconds)
    process = start_sync(binary, config, sync_environment)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)

    client = RegistryClient(target.host)
    for kind in KINDS:
        assert_tags_complete(client, f"{prefix}/fixtures/{kind}")

    rerun = subprocess.run([binary, "sync", "--config", str(config)], env=sync_environment,
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert_target_equals_source(images, target, prefix)
    for kind in KINDS:
        assert_tags_complete(client, f"{prefix}/fixtures/{kind}")


def test_concurrent_syncs_do_not_interfere(images, source, target, binary, sync_environment,
                                           tmp_path):
    config = write_config(tmp_path, source, target, "concurrent")
    first = start_sync(binary, config, sync_environment)
    second = start_sync(binary, config, sync_environment)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    statuses = sorted([first.returncode, second.returncode])

    assert statuses in ([0, 0], [0, 3]), outputs
    if statuses == [0, 3]:
        loser = outputs[[first.returncode, second.returncode].index(3)]
        assert b"another sync" in loser[1]
    assert_target_equals_source(images, target, "concurrent")


@pytest.mark.parametrize("signal_number, status", [(signal.SIGINT, 130),
                                                    (signal.SIGTERM, 143)])
def test_signal_stops_cleanly(signal_number, status, images, source, target, binary,
                              sync_environment, tmp_path):
    prefix = f"signal{signal_number}"
    config = write_config(tmp_path, source, target, prefix)
    report = tmp_path / "report.json"
    process = start_sync(binary, config, sync_environment, "--report", str(report), "--jobs",
                         "1")
    time.sleep(0.3)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)

    if process.returncode == 0:
        pytest.skip("the sync finished before the signal arrived")
    assert process.returncode == status, stderr
    data = json.loads(report.read_text())
    assert data["version"] == 1
    client = RegistryClient(target.host)
    for kind in KINDS:
        assert_tags_complete(client, f"{prefix}/fixtures/{kind}")

    rerun = subprocess.run([binary, "sync", "--config", str(config)], env=sync_environment,
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert_target_equals_source(images, target, prefix)
