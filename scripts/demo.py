#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Show ecr-sync copying a multi-arch image between two local registries.

Usage: /usr/bin/python3 scripts/demo.py PATH_TO_ECR_SYNC   (or: make demo)

Starts a Docker Hub-like source (docker-registry with a token server:
anonymous pull, authenticated push) and a plain target registry on free
ports of 127.0.0.1, and pushes the test fixtures to the source. Then it runs
`ecr-sync copy` on the multi-arch image and checks with skopeo that the
target contains the same bytes. Every server is stopped at the end, also after
Ctrl-C; their logs stay in tests/e2e/.logs/demo-*/.
"""

import json
import os
import subprocess
import sys
import tempfile

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPOSITORY_ROOT, "tests"))

import harness  # noqa: E402  (needs the sys.path entry above)
from harness.dockerconfig import write_docker_config  # noqa: E402

LOG_ROOT = os.path.join(REPOSITORY_ROOT, "tests", "e2e", ".logs")
COPY_TIMEOUT_SECONDS = 300
INDENT = "    "


def step(number, total, title):
    print(f"\n[{number}/{total}] {title}", flush=True)


def detail(text=""):
    print(f"{INDENT}{text}", flush=True)


def platform_name(entry):
    platform = entry.get("platform", {})
    parts = [platform.get("os", "?"), platform.get("architecture", "?")]
    if platform.get("variant"):
        parts.append(platform["variant"])
    return "/".join(parts)


FIXTURE_DESCRIPTIONS = {
    "multiarch": "OCI index: linux/amd64, linux/arm64/v8 and their attestations",
    "dockerlist": "Docker manifest list: linux/amd64, linux/arm/v7",
    "schema2": "Docker schema 2 image",
    "oci": "OCI image",
    "artifact": "OCI artifact (an SBOM) whose subject is the OCI image",
    "zstd": "OCI image with zstd-compressed layers",
    "foreign": "Docker schema 2 image with a foreign (Windows-style) layer",
}


def run_copy(binary, source_reference, target_reference, docker_config):
    """Run ecr-sync copy, echoing its output indented; returns the exit status."""
    environment = dict(os.environ, DOCKER_CONFIG=docker_config, AWS_EC2_METADATA_DISABLED="true")
    command = [binary, "copy", source_reference, target_reference]
    detail("$ ecr-sync copy " + " ".join(command[2:]))
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=environment, text=True,
                               errors="replace")
    try:
        for line in process.stdout:
            detail("| " + line.rstrip("\n"))
        return process.wait(timeout=COPY_TIMEOUT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def short(digest):
    return digest[:19] + "..."


def child_label(entry, platforms_by_digest):
    annotations = entry.get("annotations", {})
    if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
        described = annotations.get("vnd.docker.reference.digest", "")
        return f"attestation of {platforms_by_digest.get(described, short(described))}"
    return platform_name(entry)


def show_result(image, source_host, target_host, target_repository):
    """Compare source and target with skopeo, side by side; returns True when all match."""
    source_repository = f"{source_host}/{image.repository}"
    target_repository = f"{target_host}/{target_repository}"
    source_raw = harness.skopeo_raw(f"{source_repository}:{image.tag}")
    target_raw = harness.skopeo_raw(f"{target_repository}:{image.tag}")
    rows = [("index", harness.sha256_digest(source_raw), harness.sha256_digest(target_raw))]

    entries = json.loads(source_raw).get("manifests", [])
    platforms_by_digest = {entry["digest"]: platform_name(entry) for entry in entries}
    for entry in entries:
        source_child = harness.skopeo_raw(f"{source_repository}@{entry['digest']}")
        target_child = harness.skopeo_raw(f"{target_repository}@{entry['digest']}")
        rows.append((child_label(entry, platforms_by_digest),
                     harness.sha256_digest(source_child), harness.sha256_digest(target_child)))

    detail(f"source  {source_repository}:{image.tag}")
    detail(f"target  {target_repository}:{image.tag}")
    detail(f"digest  {rows[0][1]}")
    detail()
    label_width = max(len(row[0]) for row in rows)
    detail(f"{'manifest':<{label_width}}  {'at the source':<22}  {'at the target':<22}")
    for label, source_digest, target_digest in rows:
        verdict = "same" if source_digest == target_digest else "DIFFERENT"
        detail(f"{label:<{label_width}}  {short(source_digest):<22}  "
               f"{short(target_digest):<22}  {verdict}")
    return all(source_digest == target_digest for _, source_digest, target_digest in rows)


def main(arguments):
    if len(arguments) != 1 or arguments[0] in ("-h", "--help"):
        print("usage: demo.py PATH_TO_ECR_SYNC", file=sys.stderr)
        return 2
    binary = os.path.abspath(arguments[0])
    if not os.access(binary, os.X_OK):
        print(f"demo.py: ecr-sync binary not found or not executable: {binary}; "
              "build it with `make`", file=sys.stderr)
        return 2

    total = 4
    print("ecr-sync demo: copy a multi-arch image from a Docker Hub-like registry "
          "to another registry, byte for byte")
    log_dir = harness.new_log_dir(LOG_ROOT, prefix="demo-")
    servers = harness.Servers(log_dir, basic_target=False)
    try:
        step(1, total, "starting local servers (127.0.0.1 only)")
        servers.start()
        detail(f"token server     {servers.token_server.realm}")
        detail(f"source registry  {servers.source.host}   "
               "token auth: anonymous pull, push needs a password")
        detail(f"target registry  {servers.target.host}   no auth")

        step(2, total, "pushing fixture images to the source")
        images = harness.push_default_fixtures(servers.source_client())
        width = max(len(f"{image.repository}:{image.tag}") for image in images.values())
        for kind, image in images.items():
            detail(f"{image.repository + ':' + image.tag:<{width}}  {FIXTURE_DESCRIPTIONS[kind]}")

        step(3, total, "copying the multi-arch image with ecr-sync (anonymous pull)")
        image = images["multiarch"]
        target_repository = "demo/multiarch"
        with tempfile.TemporaryDirectory(prefix="ecr-sync-demo-") as config_dir:
            docker_config = write_docker_config(config_dir, {})
            status = run_copy(binary, image.reference(servers.source.host),
                              f"{servers.target.host}/{target_repository}:{image.tag}",
                              docker_config)
        if status != 0:
            detail(f"ecr-sync exited with status {status}; server logs are in {log_dir}")
            return 1

        step(4, total, "comparing source and target with skopeo, independently of ecr-sync")
        identical = show_result(image, servers.source.host, servers.target.host,
                                target_repository)
        detail()
        detail(f"byte-exact: {'yes' if identical else 'no'}")
        return 0 if identical else 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        servers.stop()
        print(f"\nservers stopped; their logs are in {os.path.relpath(log_dir)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
