# SPDX-License-Identifier: Apache-2.0
"""ecr-sync copy --platform: a new index with the selected platforms only.

The target index lists the matching children and their attestation
manifests, records the upstream index digest in an annotation, and a later
copy compares that annotation instead of copying again.
"""

import hashlib
import json
import re

from harness.client import RegistryClient

SOURCE_DIGEST_ANNOTATION = "dev.ecr-sync.source.digest"


def parse_summary(stdout):
    line = next(line for line in stdout.splitlines() if line.startswith("copied "))
    return dict(token.split("=", 1) for token in line.split() if "=" in token)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_platform_copy_lists_selected_children(images, source, target, ecr_sync, skopeo_raw,
                                               unique_repository):
    image = images["multiarch"]
    repository = unique_repository("platform")
    amd64 = next(child for child in image.children if child.platform == "linux/amd64")

    result = ecr_sync("copy", "--platform", "linux/amd64", image.reference(source.host),
                      f"{target.host}/{repository}:1", check=True)

    raw = skopeo_raw(f"{target.host}/{repository}:1")
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert index["annotations"][SOURCE_DIGEST_ANNOTATION] == image.digest
    listed = [entry["digest"] for entry in index["manifests"]]
    assert listed[0] == amd64.digest
    attestations = [entry for entry in index["manifests"]
                    if entry.get("annotations", {}).get("vnd.docker.reference.type")
                    == "attestation-manifest"]
    assert len(attestations) == 1
    assert attestations[0]["annotations"]["vnd.docker.reference.digest"] == amd64.digest
    assert len(listed) == 2
    assert sha256(raw) != image.digest
    assert parse_summary(result.stdout)["digest"] == sha256(raw)
    child_raw = skopeo_raw(f"{target.host}/{repository}@{amd64.digest}")
    assert sha256(child_raw) == amd64.digest
    client = RegistryClient(target.host)
    for blob in amd64.blobs:
        assert client.blob_exists(repository, blob)


def test_platform_copy_again_changes_nothing(images, source, target, ecr_sync,
                                             unique_repository):
    image = images["multiarch"]
    destination = f"{target.host}/{unique_repository('platform-again')}:1"
    ecr_sync("copy", "--platform", "linux/arm64", image.reference(source.host), destination,
             check=True)
    source_mark = source.mark()
    target_mark = target.mark()

    result = ecr_sync("copy", "--platform", "linux/arm64", image.reference(source.host),
                      destination, check=True)

    summary = parse_summary(result.stdout)
    assert summary["manifests_pushed"] == "0"
    assert summary["blobs_copied"] == "0"
    path = rf"/v2/{re.escape(image.repository)}/manifests/.*"
    assert source.count_requests("GET", path, since=source_mark) == 0
    assert target.count_requests("PUT", r"/v2/.*", since=target_mark) == 0


def test_platform_not_in_index_fails(images, source, target, ecr_sync, unique_repository):
    image = images["multiarch"]

    result = ecr_sync("copy", "--platform", "linux/s390x", image.reference(source.host),
                      f"{target.host}/{unique_repository('platform-missing')}:1", check=1)

    assert "linux/s390x" in result.stderr
    assert "linux/amd64" in result.stderr


def test_platform_of_single_image(images, source, target, ecr_sync, skopeo_raw,
                                  unique_repository):
    image = images["schema2"]
    repository = unique_repository("platform-single")

    ecr_sync("copy", "--platform", "linux/amd64", image.reference(source.host),
             f"{target.host}/{repository}:1", check=True)
    result = ecr_sync("copy", "--platform", "linux/arm64", image.reference(source.host),
                      f"{target.host}/{repository}:2", check=1)

    assert sha256(skopeo_raw(f"{target.host}/{repository}:1")) == image.digest
    assert "linux/arm64" in result.stderr
