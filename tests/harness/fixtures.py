# SPDX-License-Identifier: Apache-2.0
"""Build realistic images deterministically and push them to a registry.

Layers are real tar archives with fixed mtimes and owners, gzip-compressed
with mtime 0 (or zstd-compressed by the zstd command), so every run produces
the same digests. The manifests are serialised in the styles real tools use: Docker's
three-space indent, compact buildkit JSON, Go's `\\u003c` escapes and raw
UTF-8. A copier that re-serialises manifests instead of pushing the bytes it
fetched therefore changes the digests and fails the byte-exact checks.

push_default_fixtures() pushes one image of each kind in DEFAULT_KINDS under
the `fixtures/` namespace; push_big_fixture() pushes one large layer on
demand. Both return FixtureImage descriptions.
"""

import dataclasses
import gzip
import io
import json
import random
import subprocess
import tarfile
import urllib.parse

from . import client as registry_client
from .client import sha256_digest

ZSTD = "/usr/bin/zstd"
NAMESPACE = "fixtures"
TAG = "1"
# 2024-01-01T00:00:00Z, used as every file's mtime and every created time.
EPOCH = 1704067200
CREATED = "2024-01-01T00:00:00Z"

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_EMPTY_DATA = b"{}"
OCI_EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"
SBOM_ARTIFACT_TYPE = "application/vnd.example.sbom.v1"
SBOM_LAYER = "application/vnd.example.sbom.v1+json"
FOREIGN_LAYER_URL = "https://example.invalid/layer.tar.gz"
SPDX_PREDICATE = "https://spdx.dev/Document"
SLSA_PREDICATE = "https://slsa.dev/provenance/v0.2"

DEFAULT_KINDS = ("multiarch", "dockerlist", "schema2", "oci", "artifact", "zstd", "foreign")
BIG_LAYER_DEFAULT_SIZE = 256 * 1024 * 1024
BIG_CHUNK_SIZE = 8 * 1024 * 1024


@dataclasses.dataclass
class ChildManifest:
    """A manifest referenced from an index or manifest list."""
    digest: str
    media_type: str
    platform: str
    manifest: bytes
    blobs: list


@dataclasses.dataclass
class FixtureImage:
    """What was pushed for one fixture.

    digest is the sha256 of the top manifest's bytes. blobs lists every
    distinct blob that a full copy transfers (configs and layers of the top
    manifest and its children) in first-seen order. foreign_blobs lists the
    foreign layers. They are in the source registry too, but a copy without
    --include-foreign-layers leaves them out.
    """
    kind: str
    repository: str
    tag: str
    digest: str
    media_type: str
    manifest: bytes
    children: list = dataclasses.field(default_factory=list)
    blobs: list = dataclasses.field(default_factory=list)
    foreign_blobs: list = dataclasses.field(default_factory=list)
    blob_sizes: dict = dataclasses.field(default_factory=dict)
    subject: str = None

    def reference(self, host):
        return f"{host}/{self.repository}:{self.tag}"

    def digest_reference(self, host):
        return f"{host}/{self.repository}@{self.digest}"

    @property
    def child_digests(self):
        return [child.digest for child in self.children]

    @property
    def manifest_count(self):
        return 1 + len(self.children)


def encode_json(document, indent=None, go_escapes=True):
    """Serialise JSON the way Go and Docker tools do.

    indent=3 matches Docker's schema 2 output, None gives compact buildkit
    output. Go's encoder escapes <, > and & as \\u003c, \\u003e and \\u0026
    and keeps other non-ASCII characters as UTF-8.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(document, indent=indent, separators=separators, ensure_ascii=False)
    if go_escapes:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("utf-8")


def pseudo_random_bytes(seed, size):
    """Return size incompressible bytes that depend only on seed."""
    return random.Random(seed).randbytes(size)


def make_tar(entries):
    """Build a tar archive from (path, content) pairs; content None is a folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, content in entries:
            info = tarfile.TarInfo(path)
            info.mtime = EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                archive.addfile(info)
            else:
                info.mode = 0o755 if path.startswith("bin/") else 0o644
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def gzip_bytes(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def zstd_bytes(data):
    result = subprocess.run([ZSTD, "-q", "-c", "-3"], input=data, capture_output=True,
                            check=True)
    return result.stdout


@dataclasses.dataclass
class Layer:
    """A layer blob and the digest of its uncompressed tar (its diff ID)."""
    data: bytes
    diff_id: str

    @property
    def digest(self):
        return sha256_digest(self.data)


def base_layer_tar(arch):
    os_release = (
        'PRETTY_NAME="ecr-sync fixture base"\nNAME="fixture"\n'
        f'ID=fixture\nVERSION_ID=1\nARCH={arch}\n').encode()
    return make_tar([
        ("bin", None),
        ("bin/sh", pseudo_random_bytes(f"base-{arch}-sh", 48 * 1024)),
        ("etc", None),
        ("etc/group", b"root:x:0:\nnogroup:x:65534:\n"),
        ("etc/os-release", os_release),
        ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"),
        ("lib", None),
        ("lib/libc.so.6", pseudo_random_bytes(f"base-{arch}-libc", 96 * 1024)),
    ])


def shared_app_layer_tar():
    page = ("<!doctype html><title>fixture</title>\n" + "<p>hello</p>\n" * 400).encode()
    return make_tar([
        ("app", None),
        ("app/config.json", b'{"listen": ":8080", "log_level": "info"}\n'),
        ("app/static", None),
        ("app/static/index.html", page),
        ("app/data.bin", pseudo_random_bytes("app-data", 32 * 1024)),
    ])


def top_layer_tar(label):
    return make_tar([
        ("app", None),
        ("app/VERSION", f"{label}\n".encode()),
        ("app/run", pseudo_random_bytes(f"top-{label}", 8 * 1024)),
    ])


def gzip_layer(tar):
    return Layer(gzip_bytes(tar), sha256_digest(tar))


def zstd_layer(tar):
    return Layer(zstd_bytes(tar), sha256_digest(tar))


def descriptor(media_type, data, docker_order=False, **extra):
    """Build a descriptor dict; Docker tools write size before digest."""
    if docker_order:
        entry = {"mediaType": media_type, "size": len(data), "digest": sha256_digest(data)}
    else:
        entry = {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data)}
    entry.update(extra)
    return entry


def image_config(arch, os_name, layers, variant=None, os_version=None, command="/app/run"):
    config = {"architecture": arch}
    if variant:
        config["variant"] = variant
    config.update({
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": [command],
            "WorkingDir": "/app",
            "Labels": {"org.opencontainers.image.vendor": "ecr-sync fixtures"},
        },
        "created": CREATED,
        "history": [{"created": CREATED, "created_by": f"ADD layer {index} in /"}
                    for index in range(len(layers))],
        "os": os_name,
    })
    if os_version:
        config["os.version"] = os_version
    config["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]}
    return encode_json(config, indent=None)


class FixturePusher:
    """Push blobs and manifests for fixtures and record what a copy moves."""

    def __init__(self, registry):
        self.registry = registry

    def blob(self, repository, data, record):
        digest = self.registry.push_blob(repository, data)
        record.setdefault(digest, len(data))
        return digest

    def manifest(self, repository, reference, body, media_type):
        return self.registry.put_manifest(repository, reference, body, media_type)

    def oci_image(self, repository, arch, layers, variant=None, record=None,
                  layer_media_type=OCI_LAYER_GZIP, annotations=None):
        """Push an OCI image manifest by digest; returns (digest, body, blob digests)."""
        record = {} if record is None else record
        config = image_config(arch, "linux", layers, variant)
        blobs = [self.blob(repository, config, record)]
        for layer in layers:
            blobs.append(self.blob(repository, layer.data, record))
        manifest = {
            "schemaVersion": 2,
            "mediaType": registry_client.OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(layer_media_type, layer.data) for layer in layers],
        }
        if annotations:
            manifest["annotations"] = annotations
        body = encode_json(manifest, indent=None)
        digest = self.manifest(repository, sha256_digest(body), body,
                               registry_client.OCI_MANIFEST)
        return digest, body, blobs

    def docker_image(self, repository, arch, layers, variant=None, record=None,
                     os_name="linux", os_version=None, foreign=None):
        """Push a Docker schema 2 manifest by digest; returns (digest, body, blob digests).

        foreign, when given, is a Layer written first with the foreign media
        type and FOREIGN_LAYER_URL; its blob is pushed too but not recorded.
        """
        record = {} if record is None else record
        all_layers = ([foreign] if foreign else []) + list(layers)
        config = image_config(arch, os_name, all_layers, variant, os_version,
                              command="C:\\app\\run.exe" if os_name == "windows" else "/app/run")
        blobs = [self.blob(repository, config, record)]
        layer_descriptors = []
        if foreign:
            self.registry.push_blob(repository, foreign.data)
            layer_descriptors.append(descriptor(DOCKER_FOREIGN_LAYER, foreign.data,
                                                docker_order=True, urls=[FOREIGN_LAYER_URL]))
        for layer in layers:
            blobs.append(self.blob(repository, layer.data, record))
            layer_descriptors.append(descriptor(DOCKER_LAYER, layer.data, docker_order=True))
        manifest = {
            "schemaVersion": 2,
            "mediaType": registry_client.DOCKER_MANIFEST,
            "config": descriptor(DOCKER_CONFIG, config, docker_order=True),
            "layers": layer_descriptors,
        }
        body = encode_json(manifest, indent=3)
        digest = self.manifest(repository, sha256_digest(body), body,
                               registry_client.DOCKER_MANIFEST)
        return digest, body, blobs


def _statement(predicate_type, repository, platform, image_digest, predicate):
    subject_name = (f"pkg:docker/{repository}@{TAG}?platform="
                    + urllib.parse.quote(platform, safe=""))
    return encode_json({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": predicate_type,
        "subject": [{"name": subject_name,
                     "digest": {"sha256": image_digest.split(":", 1)[1]}}],
        "predicate": predicate,
    }, indent=None)


def _push_attestation(pusher, repository, platform, image_digest, record):
    """Push a buildx-style attestation manifest for one image; returns its child entry."""
    sbom = _statement(SPDX_PREDICATE, repository, platform, image_digest, {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{repository}:{TAG}",
        "creationInfo": {"created": CREATED, "creators": ["Tool: ecr-sync-fixtures"]},
        "packages": [{"name": "fixture-base", "versionInfo": "1", "SPDXID": "SPDXRef-base"}],
    })
    provenance = _statement(SLSA_PREDICATE, repository, platform, image_digest, {
        "builder": {"id": ""},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "metadata": {"buildStartedOn": CREATED, "buildFinishedOn": CREATED},
    })
    statements = [(sbom, SPDX_PREDICATE), (provenance, SLSA_PREDICATE)]
    config = encode_json({
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers",
                   "diff_ids": [sha256_digest(data) for data, _ in statements]},
    }, indent=None)
    blobs = [pusher.blob(repository, config, record)]
    blobs += [pusher.blob(repository, data, record) for data, _ in statements]
    manifest = encode_json({
        "schemaVersion": 2,
        "mediaType": registry_client.OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [descriptor(IN_TOTO, data,
                              annotations={"in-toto.io/predicate-type": predicate})
                   for data, predicate in statements],
    }, indent=None)
    digest = pusher.manifest(repository, sha256_digest(manifest), manifest,
                             registry_client.OCI_MANIFEST)
    return ChildManifest(digest, registry_client.OCI_MANIFEST, "unknown/unknown",
                         manifest, blobs)


def _finish(kind, repository, pusher, body, media_type, children, record, **extra):
    digest = pusher.manifest(repository, TAG, body, media_type)
    return FixtureImage(kind=kind, repository=repository, tag=TAG, digest=digest,
                        media_type=media_type, manifest=body, children=children,
                        blobs=list(record), blob_sizes=dict(record), **extra)


def push_multiarch(pusher, layers, namespace):
    """OCI index: linux/amd64, linux/arm64/v8 and one attestation per platform."""
    repository = f"{namespace}/multiarch"
    record = {}
    platforms = [("amd64", None, layers["base-amd64"]), ("arm64", "v8", layers["base-arm64"])]
    images = []
    for arch, variant, base in platforms:
        top = gzip_layer(top_layer_tar(f"multiarch {arch}"))
        digest, body, blobs = pusher.oci_image(
            repository, arch, [base, layers["app"], top], variant, record,
            annotations={"org.opencontainers.image.created": CREATED})
        platform = f"linux/{arch}" + (f"/{variant}" if variant else "")
        images.append(ChildManifest(digest, registry_client.OCI_MANIFEST, platform, body, blobs))
    attestations = [_push_attestation(pusher, repository, image.platform, image.digest, record)
                    for image in images]

    entries = []
    for image in images:
        arch_parts = image.platform.split("/")
        platform = {"architecture": arch_parts[1], "os": arch_parts[0]}
        if len(arch_parts) == 3:
            platform["variant"] = arch_parts[2]
        entries.append(descriptor(registry_client.OCI_MANIFEST, image.manifest,
                                  platform=platform))
    for image, attestation in zip(images, attestations):
        entries.append(descriptor(
            registry_client.OCI_MANIFEST, attestation.manifest,
            annotations={"vnd.docker.reference.digest": image.digest,
                         "vnd.docker.reference.type": "attestation-manifest"},
            platform={"architecture": "unknown", "os": "unknown"}))
    index = {
        "schemaVersion": 2,
        "mediaType": registry_client.OCI_INDEX,
        "manifests": entries,
        "annotations": {
            "org.opencontainers.image.authors": "Zoë Fixture <fixtures@example.invalid>",
            "org.opencontainers.image.description": "multi-arch fixture & attestations",
        },
    }
    body = encode_json(index, indent=2) + b"\n"
    return _finish("multiarch", repository, pusher, body, registry_client.OCI_INDEX,
                   images + attestations, record)


def push_dockerlist(pusher, layers, namespace):
    """Docker manifest list: linux/amd64 and linux/arm/v7 schema 2 images."""
    repository = f"{namespace}/dockerlist"
    record = {}
    children = []
    entries = []
    for arch, variant, base in [("amd64", None, layers["base-amd64"]),
                                ("arm", "v7", layers["base-armv7"])]:
        top = gzip_layer(top_layer_tar(f"dockerlist {arch}"))
        digest, body, blobs = pusher.docker_image(repository, arch, [base, top], variant, record)
        platform = {"architecture": arch, "os": "linux"}
        if variant:
            platform["variant"] = variant
        entries.append(descriptor(registry_client.DOCKER_MANIFEST, body, docker_order=True,
                                  platform=platform))
        name = f"linux/{arch}" + (f"/{variant}" if variant else "")
        children.append(ChildManifest(digest, registry_client.DOCKER_MANIFEST, name, body, blobs))
    manifest_list = {
        "schemaVersion": 2,
        "mediaType": registry_client.DOCKER_MANIFEST_LIST,
        "manifests": entries,
    }
    body = encode_json(manifest_list, indent=3)
    return _finish("dockerlist", repository, pusher, body, registry_client.DOCKER_MANIFEST_LIST,
                   children, record)


def push_schema2(pusher, layers, namespace):
    """Single Docker schema 2 image sharing the amd64 base layer."""
    repository = f"{namespace}/schema2"
    record = {}
    top = gzip_layer(top_layer_tar("schema2"))
    body = pusher.docker_image(repository, "amd64", [layers["base-amd64"], top],
                               record=record)[1]
    return _finish("schema2", repository, pusher, body, registry_client.DOCKER_MANIFEST,
                   [], record)


def push_oci(pusher, layers, namespace):
    """Single OCI image sharing the amd64 base layer."""
    repository = f"{namespace}/oci"
    record = {}
    top = gzip_layer(top_layer_tar("oci"))
    annotations = {"org.opencontainers.image.created": CREATED,
                   "org.opencontainers.image.title": "oci <fixture>"}
    body = pusher.oci_image(repository, "amd64", [layers["base-amd64"], top], record=record,
                            annotations=annotations)[1]
    return _finish("oci", repository, pusher, body, registry_client.OCI_MANIFEST, [], record)


def push_artifact(pusher, layers, namespace):
    """OCI artifact (an SBOM) whose subject is the oci image in the same repository."""
    repository = f"{namespace}/artifact"
    subject_record = {}
    top = gzip_layer(top_layer_tar("oci"))
    subject_digest, subject_body, _ = pusher.oci_image(
        repository, "amd64", [layers["base-amd64"], top], record=subject_record,
        annotations={"org.opencontainers.image.created": CREATED,
                     "org.opencontainers.image.title": "oci <fixture>"})

    record = {}
    sbom = encode_json({"spdxVersion": "SPDX-2.3", "name": "fixtures/oci",
                        "packages": [{"name": "fixture-base", "versionInfo": "1"}]},
                       indent=2)
    pusher.blob(repository, OCI_EMPTY_DATA, record)
    pusher.blob(repository, sbom, record)
    manifest = {
        "schemaVersion": 2,
        "mediaType": registry_client.OCI_MANIFEST,
        "artifactType": SBOM_ARTIFACT_TYPE,
        "config": descriptor(OCI_EMPTY, OCI_EMPTY_DATA),
        "layers": [descriptor(SBOM_LAYER, sbom,
                              annotations={"org.opencontainers.image.title": "sbom.spdx.json"})],
        "subject": descriptor(registry_client.OCI_MANIFEST, subject_body),
        "annotations": {"org.opencontainers.image.created": CREATED},
    }
    body = encode_json(manifest, indent=None)
    return _finish("artifact", repository, pusher, body, registry_client.OCI_MANIFEST, [],
                   record, subject=subject_digest)


def push_zstd(pusher, layers, namespace):
    """OCI image whose layers are zstd-compressed tars."""
    repository = f"{namespace}/zstd"
    record = {}
    base = zstd_layer(base_layer_tar("amd64"))
    top = zstd_layer(top_layer_tar("zstd"))
    body = pusher.oci_image(repository, "amd64", [base, top], record=record,
                            layer_media_type=OCI_LAYER_ZSTD)[1]
    return _finish("zstd", repository, pusher, body, registry_client.OCI_MANIFEST, [], record)


def push_foreign(pusher, layers, namespace):
    """Windows-style schema 2 image whose first layer is foreign (has `urls`)."""
    repository = f"{namespace}/foreign"
    record = {}
    foreign = gzip_layer(make_tar([
        ("Files", None),
        ("Files/Windows", None),
        ("Files/Windows/System32", None),
        ("Files/Windows/System32/placeholder.dll", pseudo_random_bytes("foreign", 64 * 1024)),
    ]))
    top = gzip_layer(top_layer_tar("foreign"))
    body = pusher.docker_image(repository, "amd64", [top], record=record, os_name="windows",
                               os_version="10.0.20348.2227", foreign=foreign)[1]
    return _finish("foreign", repository, pusher, body, registry_client.DOCKER_MANIFEST, [],
                   record, foreign_blobs=[foreign.digest])


_PUSHERS = {
    "multiarch": push_multiarch,
    "dockerlist": push_dockerlist,
    "schema2": push_schema2,
    "oci": push_oci,
    "artifact": push_artifact,
    "zstd": push_zstd,
    "foreign": push_foreign,
}


def shared_layers():
    """Build the layers that several fixtures share (same bytes, same digest)."""
    return {
        "base-amd64": gzip_layer(base_layer_tar("amd64")),
        "base-arm64": gzip_layer(base_layer_tar("arm64")),
        "base-armv7": gzip_layer(base_layer_tar("armv7")),
        "app": gzip_layer(shared_app_layer_tar()),
    }


def push_default_fixtures(registry, namespace=NAMESPACE, kinds=DEFAULT_KINDS):
    """Push one image per kind; returns {kind: FixtureImage}.

    registry is a RegistryClient with push rights. Pushing again is cheap:
    blobs already present are skipped, and manifests are identical.
    """
    pusher = FixturePusher(registry)
    layers = shared_layers()
    return {kind: _PUSHERS[kind](pusher, layers, namespace) for kind in kinds}


def _big_layer_chunks(size, seed):
    """Yield an uncompressed tar holding one file of size random bytes."""
    info = tarfile.TarInfo("data/random.bin")
    info.size = size
    info.mtime = EPOCH
    info.mode = 0o644
    info.uname = info.gname = "root"
    yield info.tobuf(format=tarfile.USTAR_FORMAT)

    generator = random.Random(seed)
    remaining = size
    while remaining > 0:
        count = min(BIG_CHUNK_SIZE, remaining)
        yield generator.randbytes(count)
        remaining -= count

    padding = (-size) % tarfile.BLOCKSIZE
    yield b"\0" * (padding + 2 * tarfile.BLOCKSIZE)


def push_big_fixture(registry, repository=f"{NAMESPACE}/big", tag=TAG,
                     size=BIG_LAYER_DEFAULT_SIZE, seed="big-layer"):
    """Push an OCI image with one uncompressed layer holding size random bytes.

    The layer is streamed in chunks of BIG_CHUNK_SIZE and never held in
    memory whole. Returns a FixtureImage.
    """
    layer_digest, layer_size = registry.push_blob_chunks(repository,
                                                         _big_layer_chunks(size, seed))
    config = encode_json({
        "architecture": "amd64",
        "config": {"Cmd": ["/bin/sh"]},
        "created": CREATED,
        "history": [{"created": CREATED, "created_by": "ADD data/random.bin /data/"}],
        "os": "linux",
        # An uncompressed layer's diff ID is its own digest.
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }, indent=None)
    config_digest = registry.push_blob(repository, config)
    manifest = encode_json({
        "schemaVersion": 2,
        "mediaType": registry_client.OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer_digest, "size": layer_size}],
    }, indent=None)
    digest = registry.put_manifest(repository, tag, manifest, registry_client.OCI_MANIFEST)
    return FixtureImage(kind="big", repository=repository, tag=tag, digest=digest,
                        media_type=registry_client.OCI_MANIFEST, manifest=manifest,
                        blobs=[config_digest, layer_digest],
                        blob_sizes={config_digest: len(config), layer_digest: layer_size})
