# SPDX-License-Identifier: Apache-2.0
"""Push a repository with many tags quickly, for pagination tests.

push_many_tags() pushes one small OCI image once and then PUTs the same
manifest bytes under each tag, from a pool of threads with one
RegistryClient each. Tags are made by a function of the index (0, 1, ...):
numbered_tag gives t-0001, t-0002, ... and semver_tag gives 1.0.0, 1.0.1,
..., whose lexical order differs from their version order past 9.x.x.
"""

import concurrent.futures
import dataclasses
import threading
import time

from . import client as registry_client
from . import fixtures

DEFAULT_WORKERS = 8


def numbered_tag(index):
    """Return t-0001 for index 0, t-0002 for index 1, and so on."""
    return f"t-{index + 1:04d}"


def semver_tag(index):
    """Return a distinct MAJOR.MINOR.PATCH tag: 1.0.0 for index 0, 1.0.9, 1.1.0, ..., 11.4.9."""
    return f"{index // 100 + 1}.{index // 10 % 10}.{index % 10}"


@dataclasses.dataclass
class ManyTags:
    """What push_many_tags pushed and how long the tag PUTs took."""
    repository: str
    tags: list
    digest: str
    manifest: bytes
    media_type: str
    seconds: float


def push_small_image(client, repository, label="many-tags"):
    """Push a one-layer OCI image by digest and return (manifest bytes, digest)."""
    layer = fixtures.gzip_layer(fixtures.top_layer_tar(label))
    config = fixtures.image_config("amd64", "linux", [layer])
    client.push_blob(repository, config)
    client.push_blob(repository, layer.data)
    manifest = fixtures.encode_json({
        "schemaVersion": 2,
        "mediaType": registry_client.OCI_MANIFEST,
        "config": fixtures.descriptor(fixtures.OCI_CONFIG, config),
        "layers": [fixtures.descriptor(fixtures.OCI_LAYER_GZIP, layer.data)],
    })
    digest = client.put_manifest(repository, registry_client.sha256_digest(manifest), manifest,
                                 registry_client.OCI_MANIFEST)
    return manifest, digest


def push_many_tags(client, repository, count, make_tag=numbered_tag, workers=DEFAULT_WORKERS):
    """Push one small image, tag it count times and return a ManyTags.

    client is a RegistryClient with push rights. Each worker thread gets its
    own client with the same host and credentials, because RegistryClient
    caches tokens without a lock. seconds covers the tag PUTs only.
    """
    manifest, digest = push_small_image(client, repository)
    tags = [make_tag(index) for index in range(count)]
    if len(set(tags)) != len(tags):
        raise ValueError(f"make_tag returned duplicate tags for {count} indexes")

    local = threading.local()

    def put_tag(tag):
        worker_client = getattr(local, "client", None)
        if worker_client is None:
            worker_client = registry_client.RegistryClient(client.host, client.username,
                                                           client.password, client.timeout)
            local.client = worker_client
        worker_client.put_manifest(repository, tag, manifest, registry_client.OCI_MANIFEST)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                               thread_name_prefix="push-tags") as pool:
        for _ in pool.map(put_tag, tags):
            pass
    seconds = time.monotonic() - started
    return ManyTags(repository, tags, digest, manifest, registry_client.OCI_MANIFEST, seconds)
