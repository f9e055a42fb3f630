# SPDX-License-Identifier: Apache-2.0
"""Read and change the backing docker-registry's filesystem storage.

The distribution API of docker-registry 2.8 cannot list untagged manifests,
report push times or delete a tag, all of which ListImages, DescribeImages
and BatchDeleteImage need. Its filesystem storage has them:

  ROOT/docker/registry/v2/repositories/NAME/_manifests/tags/TAG/current/link
      the digest a tag points to;
  ROOT/docker/registry/v2/repositories/NAME/_manifests/revisions/sha256/HEX/link
      one per manifest in the repository (removed when the manifest is deleted);
  ROOT/docker/registry/v2/blobs/sha256/HE/HEX/data
      the bytes of every blob and manifest.

The root folder comes from the configuration file that harness.registry
writes. The registry is configured without a cache, so removing a tag folder
takes effect on its next request.
"""

import dataclasses
import json
import os
import shutil

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
_REPOSITORY_PARTS = ("_manifests", "_layers", "_uploads")


@dataclasses.dataclass
class StoredImage:
    """One manifest in a repository, as ECR describes an image."""
    digest: str
    tags: list
    pushed_at: float
    media_type: str
    artifact_media_type: str
    size: int
    manifest: bytes


def _read_link(path):
    try:
        with open(path, encoding="ascii") as link_file:
            return link_file.read().strip()
    except FileNotFoundError:
        return None


def manifest_media_type(document):
    """Return a manifest's media type: its mediaType field, or one inferred from its members."""
    if document.get("mediaType"):
        return document["mediaType"]
    if document.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1
    if "manifests" in document:
        return OCI_INDEX
    return OCI_MANIFEST


class RegistryStorage:
    """The storage of one started harness.registry.Registry."""

    def __init__(self, registry):
        with open(registry.config_path, encoding="utf-8") as config_file:
            config = json.load(config_file)
        root = config["storage"]["filesystem"]["rootdirectory"]
        self._v2 = os.path.join(root, "docker", "registry", "v2")

    def _repository_dir(self, repository):
        return os.path.join(self._v2, "repositories", *repository.split("/"))

    def _blob_path(self, digest):
        algorithm, _, hex_digest = digest.partition(":")
        return os.path.join(self._v2, "blobs", algorithm, hex_digest[:2], hex_digest, "data")

    def tags(self, repository):
        """Return {tag: digest} for every tag of the repository."""
        tags_dir = os.path.join(self._repository_dir(repository), "_manifests", "tags")
        try:
            names = os.listdir(tags_dir)
        except FileNotFoundError:
            return {}
        tags = {}
        for name in names:
            digest = _read_link(os.path.join(tags_dir, name, "current", "link"))
            if digest:
                tags[name] = digest
        return tags

    def manifest_digests(self, repository):
        """Return {digest: push time in epoch seconds} for every manifest in the repository."""
        revisions = os.path.join(self._repository_dir(repository), "_manifests", "revisions")
        digests = {}
        try:
            algorithms = os.listdir(revisions)
        except FileNotFoundError:
            return digests
        for algorithm in algorithms:
            for hex_digest in os.listdir(os.path.join(revisions, algorithm)):
                link = os.path.join(revisions, algorithm, hex_digest, "link")
                try:
                    digests[f"{algorithm}:{hex_digest}"] = os.stat(link).st_mtime
                except FileNotFoundError:
                    continue  # a deleted manifest keeps its folder but loses its link
        return digests

    def read_blob(self, digest):
        with open(self._blob_path(digest), "rb") as blob_file:
            return blob_file.read()

    def images(self, repository):
        """Return every manifest of the repository as StoredImage, sorted by digest."""
        pushed = self.manifest_digests(repository)
        tags_by_digest = {}
        for tag, digest in self.tags(repository).items():
            tags_by_digest.setdefault(digest, []).append(tag)

        documents = {}
        for digest in pushed:
            body = self.read_blob(digest)
            documents[digest] = (body, json.loads(body))

        images = []
        for digest in sorted(pushed):
            body, document = documents[digest]
            media_type = manifest_media_type(document)
            config = document.get("config") or {}
            images.append(StoredImage(
                digest=digest,
                tags=sorted(tags_by_digest.get(digest, [])),
                pushed_at=pushed[digest],
                media_type=media_type,
                artifact_media_type=config.get("mediaType"),
                size=self._image_size(document, documents),
                manifest=body))
        return images

    @staticmethod
    def _image_size(document, documents):
        # The ECR model's ImageDetail documentation gives an index the largest
        # size of its manifests. An image's size is the sum of its layer
        # sizes here, because that documentation does not say whether ECR
        # also counts the config.
        if "manifests" in document:
            sizes = [RegistryStorage._image_size(documents[child["digest"]][1], documents)
                     for child in document["manifests"] if child.get("digest") in documents]
            return max(sizes, default=0)
        return sum(layer.get("size", 0) for layer in document.get("layers") or [])

    def delete_tag(self, repository, tag):
        """Remove a tag, leaving the manifest it pointed to in place."""
        shutil.rmtree(os.path.join(self._repository_dir(repository), "_manifests", "tags", tag),
                      ignore_errors=True)

    def delete_manifest(self, repository, digest):
        """Remove a manifest and every tag that points to it, as the registry's DELETE does."""
        for tag, target in self.tags(repository).items():
            if target == digest:
                self.delete_tag(repository, tag)
        algorithm, _, hex_digest = digest.partition(":")
        link = os.path.join(self._repository_dir(repository), "_manifests", "revisions",
                            algorithm, hex_digest, "link")
        try:
            os.remove(link)
        except FileNotFoundError:
            pass

    def delete_repository(self, repository):
        """Remove a repository's manifests, tags, blob links and uploads.

        Only the repository's own folders go: a repository named NAME/child
        is stored inside NAME's folder and is kept. The blobs stay in the
        shared blob store, like unreferenced blobs before garbage collection.
        """
        directory = self._repository_dir(repository)
        for part in _REPOSITORY_PARTS:
            shutil.rmtree(os.path.join(directory, part), ignore_errors=True)
