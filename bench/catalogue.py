# SPDX-License-Identifier: Apache-2.0
"""The benchmark catalogue: which images the source holds, and how they are pushed.

A Spec describes a catalogue. FULL is the one `make bench` measures, QUICK
the small one `make bench QUICK=1` uses. build_catalogue() pushes a Spec's
images to a registry and returns a Catalogue, the record of every
repository, tag and digest that the benchmark copies and later checks.

The images have the shapes found on Docker Hub: multi-arch OCI indexes with
one attestation manifest per platform, Docker manifest lists, and single
Docker schema 2 images. Base and runtime layers are shared across
repositories. One repository has many tags, and one image has a very large
layer. One more image, not part of the sync, has as its only layer the blob
of the throughput test.
Layer contents are pseudo-random, so they are incompressible, as compressed
layers are. Every layer is a real tar archive, gzip-compressed at level 0
(stored blocks), because deflate cannot shrink random data anyway.
"""

import concurrent.futures
import dataclasses
import gzip
import json
import random
import tarfile
import threading

from harness import client as registry_client
from harness import fixtures

MIB = 1024 * 1024
GIB = 1024 * MIB
FORMAT_VERSION = 1
NAMESPACE = "bench"
PUSH_WORKERS = 4
ARCHITECTURES = ("amd64", "arm64")

OCI_INDEX = registry_client.OCI_INDEX
OCI_MANIFEST = registry_client.OCI_MANIFEST
DOCKER_LIST = registry_client.DOCKER_MANIFEST_LIST
DOCKER_MANIFEST = registry_client.DOCKER_MANIFEST


@dataclasses.dataclass(frozen=True)
class Spec:
    """Parameters of one catalogue. Every size is in bytes.

    app_kinds gives the kind of each app repository: "oci-index" (OCI index
    with linux/amd64, linux/arm64 and their attestation manifests),
    "docker-list" (Docker manifest list with the same two platforms) or
    "schema2" (one linux/amd64 Docker schema 2 image). Each app repository
    has `versions` images, tagged 1.0, 1.1, ..., plus the aliases `1` and
    `latest` for the newest. app_layer_sizes is cycled through for the
    unique layer of each image and platform.
    """
    name: str
    app_kinds: tuple
    versions: int
    app_layer_sizes: tuple
    debian_base_size: int
    alpine_base_size: int
    runtime_size: int
    many_tags: int
    many_tags_per_image: int
    many_patch_layers: int
    many_patch_size: int
    big_layer_size: int
    blob_layer_size: int


_FULL_KINDS = (("oci-index",) * 7 + ("docker-list",) * 2 + ("schema2",)) * 2

FULL = Spec(
    name="full",
    app_kinds=_FULL_KINDS,
    versions=3,
    app_layer_sizes=tuple(size * MIB for size in (6, 10, 14, 18, 12, 8, 16)),
    debian_base_size=40 * MIB,
    alpine_base_size=4 * MIB,
    runtime_size=24 * MIB,
    many_tags=1500,
    many_tags_per_image=3,
    many_patch_layers=20,
    many_patch_size=256 * 1024,
    big_layer_size=2 * GIB,
    blob_layer_size=1 * GIB,
)

QUICK = Spec(
    name="quick",
    app_kinds=("oci-index", "docker-list", "schema2"),
    versions=2,
    app_layer_sizes=(512 * 1024, 768 * 1024),
    debian_base_size=1 * MIB,
    alpine_base_size=256 * 1024,
    runtime_size=512 * 1024,
    many_tags=100,
    many_tags_per_image=3,
    many_patch_layers=4,
    many_patch_size=64 * 1024,
    big_layer_size=24 * MIB,
    blob_layer_size=16 * MIB,
)


@dataclasses.dataclass
class Catalogue:
    """The record of the synced images at the source.

    repositories maps each synced repository to {tag: digest of the tag's
    top manifest}. blob_bytes and blob_count cover the distinct blobs of the
    synced repositories. blob_image is the image of the throughput test:
    {"repository", "tag", "digest", "layer_digest", "layer_size"}.
    """
    spec: dict
    repositories: dict
    blob_bytes: int
    blob_count: int
    manifest_count: int
    blob_image: dict

    @property
    def tag_count(self):
        return sum(len(tags) for tags in self.repositories.values())

    def to_json(self):
        return {"format": FORMAT_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, document):
        fields = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in document.items() if key in fields})


def spec_fingerprint(spec):
    """Return the dict a cached catalogue must match to be reused, as JSON would load it."""
    return json.loads(json.dumps({"format": FORMAT_VERSION, **dataclasses.asdict(spec)}))


def random_bytes(seed, size):
    """Return size pseudo-random bytes that depend only on seed."""
    return random.Random(seed).randbytes(size)


def random_layer(seed, size):
    """Return a fixtures.Layer: a tar with one random file, about size bytes gzipped."""
    payload = max(size - 3 * tarfile.BLOCKSIZE, 1)
    tar = fixtures.make_tar([("data", None), (f"data/{seed}.bin", random_bytes(seed, payload))])
    # Level 0 writes stored blocks: random data does not compress, and
    # stored blocks are about 60 times faster to write than level 1.
    return fixtures.Layer(gzip.compress(tar, compresslevel=0, mtime=0),
                          fixtures.sha256_digest(tar))


class _Recorder:
    """Thread-safe record of the distinct blobs and manifests pushed for the synced images."""

    def __init__(self):
        self._lock = threading.Lock()
        self.blobs = {}
        self.manifests = set()

    def blob(self, digest, size):
        with self._lock:
            self.blobs[digest] = size

    def manifest(self, digest):
        with self._lock:
            self.manifests.add(digest)


class _Pusher:
    """Push blobs and manifests with one RegistryClient per thread.

    RegistryClient caches tokens without a lock, so every worker thread
    gets its own client with the same host and credentials.
    """

    def __init__(self, make_client, recorder):
        self._make_client = make_client
        self._local = threading.local()
        self.recorder = recorder

    @property
    def client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make_client()
        return client

    def blob(self, repository, data):
        digest = self.client.push_blob(repository, data)
        self.recorder.blob(digest, len(data))
        return digest

    def manifest(self, repository, reference, body, media_type):
        digest = self.client.put_manifest(repository, reference, body, media_type)
        self.recorder.manifest(digest)
        return digest


def _platform(arch):
    return {"architecture": arch, "os": "linux"} if arch != "arm64" else {
        "architecture": "arm64", "os": "linux", "variant": "v8"}


def _image(pusher, repository, arch, layers, docker):
    """Push one image manifest by digest and return (digest, body)."""
    config = fixtures.image_config(arch, "linux", layers, "v8" if arch == "arm64" else None)
    pusher.blob(repository, config)
    for layer in layers:
        pusher.blob(repository, layer.data)
    if docker:
        media_type = DOCKER_MANIFEST
        body = fixtures.encode_json({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": fixtures.descriptor(fixtures.DOCKER_CONFIG, config, docker_order=True),
            "layers": [fixtures.descriptor(fixtures.DOCKER_LAYER, layer.data, docker_order=True)
                       for layer in layers],
        }, indent=3)
    else:
        media_type = OCI_MANIFEST
        body = fixtures.encode_json({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": fixtures.descriptor(fixtures.OCI_CONFIG, config),
            "layers": [fixtures.descriptor(fixtures.OCI_LAYER_GZIP, layer.data)
                       for layer in layers],
        })
    digest = pusher.manifest(repository, fixtures.sha256_digest(body), body, media_type)
    return digest, body


def _attestation(pusher, repository, label, image_digest):
    """Push a buildx-style attestation manifest (SBOM and provenance) and return its body."""
    statements = []
    for predicate_type, predicate in (
            (fixtures.SPDX_PREDICATE, {"spdxVersion": "SPDX-2.3", "name": label,
                                       "packages": [{"name": label, "versionInfo": "1"}]}),
            (fixtures.SLSA_PREDICATE, {"buildType": "https://mobyproject.org/buildkit@v1",
                                       "metadata": {"buildStartedOn": fixtures.CREATED}})):
        statements.append((fixtures.encode_json({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": predicate_type,
            "subject": [{"name": f"pkg:docker/{repository}",
                         "digest": {"sha256": image_digest.split(":", 1)[1]}}],
            "predicate": predicate,
        }), predicate_type))
    config = fixtures.encode_json({
        "architecture": "unknown", "os": "unknown", "config": {},
        "rootfs": {"type": "layers",
                   "diff_ids": [fixtures.sha256_digest(data) for data, _ in statements]},
    })
    pusher.blob(repository, config)
    for data, _ in statements:
        pusher.blob(repository, data)
    body = fixtures.encode_json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": fixtures.descriptor(fixtures.OCI_CONFIG, config),
        "layers": [fixtures.descriptor(fixtures.IN_TOTO, data,
                                       annotations={"in-toto.io/predicate-type": predicate})
                   for data, predicate in statements],
    })
    pusher.manifest(repository, fixtures.sha256_digest(body), body, OCI_MANIFEST)
    return body


def _app_version(pusher, spec, shared, index, version, layer_counter):
    """Push one version of app repository `index`.

    Returns (repository, digest, body, media type) of its top manifest.
    """
    kind = spec.app_kinds[index]
    repository = f"{NAMESPACE}/app{index + 1:02d}"
    architectures = ARCHITECTURES if kind != "schema2" else ARCHITECTURES[:1]
    children = []
    for arch in architectures:
        base = shared[f"debian-{arch}" if index % 2 == 0 else f"alpine-{arch}"]
        layers = [base]
        if index % 3 == 0:
            layers.append(shared[f"runtime-{arch}"])
        size = spec.app_layer_sizes[next(layer_counter) % len(spec.app_layer_sizes)]
        layers.append(random_layer(f"{repository}-{version}-{arch}", size))
        digest, body = _image(pusher, repository, arch, layers, docker=kind != "oci-index")
        children.append((arch, digest, body))
    if kind == "schema2":
        _, digest, body = children[0]
        return repository, digest, body, DOCKER_MANIFEST

    if kind == "docker-list":
        body = fixtures.encode_json({
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST,
            "manifests": [fixtures.descriptor(DOCKER_MANIFEST, child, docker_order=True,
                                              platform=_platform(arch))
                          for arch, _, child in children],
        }, indent=3)
        return repository, fixtures.sha256_digest(body), body, DOCKER_LIST

    entries = [fixtures.descriptor(OCI_MANIFEST, child, platform=_platform(arch))
               for arch, _, child in children]
    for arch, digest, _ in children:
        attestation = _attestation(pusher, repository, f"app{index + 1:02d}-{version}-{arch}",
                                   digest)
        entries.append(fixtures.descriptor(
            OCI_MANIFEST, attestation,
            annotations={"vnd.docker.reference.digest": digest,
                         "vnd.docker.reference.type": "attestation-manifest"},
            platform={"architecture": "unknown", "os": "unknown"}))
    body = fixtures.encode_json({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                 "manifests": entries}, indent=2) + b"\n"
    return repository, fixtures.sha256_digest(body), body, OCI_INDEX


def _push_apps(pusher, spec, shared, progress):
    """Push every app repository and return {repository: {tag: digest}}."""
    layer_counter = _Counter()
    jobs = [(index, version) for index in range(len(spec.app_kinds))
            for version in range(spec.versions)]
    repositories = {}

    def push(job):
        index, version = job
        repository, digest, body, media_type = _app_version(pusher, spec, shared, index,
                                                            version, layer_counter)
        tag = f"1.{version}"
        pusher.manifest(repository, tag, body, media_type)
        aliases = ["1", "latest"] if version == spec.versions - 1 else []
        for alias in aliases:
            pusher.manifest(repository, alias, body, media_type)
        return repository, {name: digest for name in [tag, *aliases]}

    with concurrent.futures.ThreadPoolExecutor(PUSH_WORKERS) as pool:
        for done, (repository, tags) in enumerate(pool.map(push, jobs), 1):
            repositories.setdefault(repository, {}).update(tags)
            if done % 10 == 0 or done == len(jobs):
                progress(f"app images pushed: {done}/{len(jobs)}")
    return repositories


class _Counter:
    """A thread-safe counter usable with next()."""

    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    def __next__(self):
        with self._lock:
            value = self._value
            self._value += 1
            return value


def many_tag_name(index):
    """Return 1.0.0 for index 0, then 1.0.1, ..., 1.9.9, 2.0.0, ...: distinct version tags."""
    return f"{index // 100 + 1}.{index // 10 % 10}.{index % 10}"


def _push_many(pusher, spec, shared, progress):
    """Push the repository with spec.many_tags tags and return (name, {tag: digest}).

    Every spec.many_tags_per_image consecutive tags share one image, and
    each image has its own config on the shared alpine base and one of the
    small patch layers.
    """
    repository = f"{NAMESPACE}/many"
    patches = [random_layer(f"many-patch-{number}", spec.many_patch_size)
               for number in range(spec.many_patch_layers)]
    image_count = -(-spec.many_tags // spec.many_tags_per_image)

    def push_image(number):
        layers = [shared["alpine-amd64"], patches[number % len(patches)]]
        config = fixtures.image_config("amd64", "linux", layers,
                                       command=f"/app/run --build {number}")
        pusher.blob(repository, config)
        for layer in layers:
            pusher.blob(repository, layer.data)
        body = fixtures.encode_json({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": fixtures.descriptor(fixtures.OCI_CONFIG, config),
            "layers": [fixtures.descriptor(fixtures.OCI_LAYER_GZIP, layer.data)
                       for layer in layers],
        })
        return pusher.manifest(repository, fixtures.sha256_digest(body), body, OCI_MANIFEST), body

    with concurrent.futures.ThreadPoolExecutor(PUSH_WORKERS) as pool:
        images = list(pool.map(push_image, range(image_count)))
    progress(f"{repository}: {image_count} images pushed, tagging {spec.many_tags} tags")

    def tag(index):
        digest, body = images[index // spec.many_tags_per_image]
        name = many_tag_name(index)
        pusher.manifest(repository, name, body, OCI_MANIFEST)
        return name, digest

    with concurrent.futures.ThreadPoolExecutor(PUSH_WORKERS * 2) as pool:
        tags = dict(pool.map(tag, range(spec.many_tags)))
    return repository, tags


def _shared_layers(spec):
    layers = {}
    for arch in ARCHITECTURES:
        layers[f"debian-{arch}"] = random_layer(f"debian-{arch}", spec.debian_base_size)
        layers[f"alpine-{arch}"] = random_layer(f"alpine-{arch}", spec.alpine_base_size)
        layers[f"runtime-{arch}"] = random_layer(f"runtime-{arch}", spec.runtime_size)
    return layers


def _push_big(client, recorder, repository, size, seed):
    """Push an image with one uncompressed layer of size random bytes, streamed."""
    image = fixtures.push_big_fixture(client, repository=repository, tag="1", size=size,
                                      seed=seed)
    if recorder is not None:
        for digest, blob_size in image.blob_sizes.items():
            recorder.blob(digest, blob_size)
        recorder.manifest(image.digest)
    return image


def build_catalogue(spec, make_client, progress):
    """Push the images of spec with clients from make_client() and return a Catalogue.

    make_client returns a new RegistryClient with push rights on the source.
    progress is called with one line of text now and then.
    """
    recorder = _Recorder()
    pusher = _Pusher(make_client, recorder)
    progress("generating shared base and runtime layers")
    shared = _shared_layers(spec)
    repositories = _push_apps(pusher, spec, shared, progress)
    many_repository, many_tags = _push_many(pusher, spec, shared, progress)
    repositories[many_repository] = many_tags

    progress(f"pushing the image with a {spec.big_layer_size // MIB} MiB layer")
    big = _push_big(make_client(), recorder, f"{NAMESPACE}/big", spec.big_layer_size,
                    "bench-big-layer")
    repositories[big.repository] = {big.tag: big.digest}

    progress(f"pushing the throughput test image with a {spec.blob_layer_size // MIB} MiB layer")
    blob = _push_big(make_client(), None, f"{NAMESPACE}/blob", spec.blob_layer_size,
                     "bench-throughput-blob")
    layer_digest = blob.blobs[-1]
    return Catalogue(
        spec=spec_fingerprint(spec),
        repositories=dict(sorted(repositories.items())),
        blob_bytes=sum(recorder.blobs.values()),
        blob_count=len(recorder.blobs),
        manifest_count=len(recorder.manifests),
        blob_image={"repository": blob.repository, "tag": blob.tag, "digest": blob.digest,
                    "layer_digest": layer_digest, "layer_size": blob.blob_sizes[layer_digest]},
    )


def save(catalogue, path):
    with open(path, "w", encoding="utf-8") as output:
        json.dump(catalogue.to_json(), output, indent=1, sort_keys=True)


def load(path, spec):
    """Return the Catalogue saved at path when it was built from spec, else None."""
    try:
        with open(path, encoding="utf-8") as source:
            document = json.load(source)
    except (OSError, ValueError):
        return None
    if document.get("format") != FORMAT_VERSION or document.get("spec") != spec_fingerprint(spec):
        return None
    return Catalogue.from_json(document)

