# SPDX-License-Identifier: Apache-2.0
"""Check with the harness client what a tool left at the target.

A benchmark only counts a first sync whose result is complete: every tag
with the source digest, every child manifest of every index, and every
blob of every image manifest present at the target.
"""

import json

from harness.client import INDEX_MEDIA_TYPES, RegistryError

MAX_PROBLEMS = 20


def verify_target(client, repositories):
    """Return a list of problems (empty when the target matches repositories).

    repositories maps each repository to {tag: expected top digest}.
    """
    problems = []
    for repository, tags in repositories.items():
        for tag, expected in sorted(tags.items()):
            status, headers = client.head_manifest(repository, tag)
            digest = headers.get("Docker-Content-Digest") if status == 200 else None
            if digest != expected:
                problems.append(f"{repository}:{tag}: expected {expected}, found "
                                f"{digest or f'HTTP {status}'}")
        for digest in sorted(set(tags.values())):
            problems += _verify_graph(client, repository, digest)
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems[:MAX_PROBLEMS]


def _verify_graph(client, repository, digest):
    try:
        manifest = client.get_manifest(repository, digest)
    except RegistryError as error:
        return [f"{repository}@{digest}: {error}"]
    document = json.loads(manifest.body)
    problems = []
    if manifest.media_type in INDEX_MEDIA_TYPES:
        for child in document.get("manifests", []):
            problems += _verify_graph(client, repository, child["digest"])
        return problems
    for descriptor in [document.get("config", {}), *document.get("layers", [])]:
        if descriptor.get("urls"):
            continue
        if not client.blob_exists(repository, descriptor["digest"]):
            problems.append(f"{repository}@{digest}: blob {descriptor['digest']} is missing")
    return problems


def verify_blob(client, repository, digest, size):
    """Return a list of problems with one blob at the target: missing or of another size."""
    response = client.request("HEAD", f"/v2/{repository}/blobs/{digest}", expected=(200, 404))
    if response.status != 200:
        return [f"{repository}: blob {digest} is missing"]
    length = int(response.headers.get("Content-Length") or -1)
    if length != size:
        return [f"{repository}: blob {digest} has {length} bytes, expected {size}"]
    return []
