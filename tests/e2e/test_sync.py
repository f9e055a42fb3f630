# SPDX-License-Identifier: Apache-2.0
"""ecr-sync sync and plan, end to end: a Docker Hub-like source behind a
paginating, rate-limiting front, and the ECR emulator as the target.

Results are checked with skopeo through the emulator's data plane, with
Debian's AWS CLI against its control plane, and with the front's request
counters (Docker Hub counts manifest GETs as pulls, not HEADs).
"""

import hashlib
import itertools
import json
import re
import subprocess

import pytest

import harness
from harness import bigrepo, environment
from harness.client import RegistryClient

AWS = "/usr/bin/aws"
ANNOTATION_SOURCE_DIGEST = "dev.ecr-sync.source.digest"
MANY_TAGS = 1050
_prefixes = itertools.count(1)

LIFECYCLE_POLICY = {
    "rules": [
        {"rulePriority": 1, "description": "expire untagged images after 14 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": 14},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "keep the newest 50 images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                       "countNumber": 50},
         "action": {"type": "expire"}},
    ]
}


@pytest.fixture(scope="module")
def hub(servers, log_dir):
    with harness.HubFront(log_dir, servers.source) as started:
        yield started


@pytest.fixture
def hub_front(hub):
    hub.page_size = 100
    hub.set_rate_limit(None, window=21600)
    hub.set_retry_after(None)
    hub.reset()
    return hub


@pytest.fixture(scope="module")
def many_tags(servers):
    return bigrepo.push_many_tags(servers.source_client(), "fixtures/many", MANY_TAGS,
                                  make_tag=bigrepo.semver_tag)


@pytest.fixture
def prefix():
    return f"sync{next(_prefixes)}"


def yaml_list(items):
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def write_config(tmp_path, ecr_emulator, prefix, images, settings=True, registries=""):
    """Write a configuration for the emulator target and return its path."""
    lines = [
        "target:",
        "  ecr:",
        f"    region: {ecr_emulator.region}",
        f"    account: \"{ecr_emulator.account_id}\"",
        f"  repository_prefix: {prefix}",
    ]
    if settings:
        lines += [
            "  repository_settings:",
            "    image_tag_mutability: IMMUTABLE",
            "    scan_on_push: true",
            "    resource_tags: {team: platform}",
            f"    lifecycle_policy: {json.dumps(LIFECYCLE_POLICY)}",
        ]
    if registries:
        lines.append(registries.rstrip())
    lines.append("images:")
    lines.append(images.rstrip())
    path = tmp_path / "sync.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_sync(ecr_sync, aws_environment, config, *args, check=None, env=None):
    variables = aws_environment()
    variables.update(env or {})
    return ecr_sync("sync", "--config", str(config), *args, env=variables, check=check)


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def target_raw(ecr_emulator, skopeo_raw, repository, tag):
    return skopeo_raw(f"{ecr_emulator.registry_host}/{repository}:{tag}",
                      creds=ecr_emulator.registry_credentials())


def aws_cli(ecr_emulator, aws_environment, *args):
    variables = aws_environment()
    variables.update({"PATH": "/usr/bin:/bin", "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1"})
    result = subprocess.run(
        [AWS, "--endpoint-url", ecr_emulator.api_url, "--region", ecr_emulator.region,
         "--output", "json", *args],
        env=variables, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def writes_at_target(ecr_emulator):
    return [request for request in ecr_emulator.registry_requests
            if request.method in ("POST", "PATCH", "PUT", "DELETE")]


def summary_of(stdout):
    line = next(line for line in stdout.splitlines() if line.startswith("synced "))
    return {key: value for key, value in (token.split("=", 1) for token in line.split()[1:])}


def test_first_sync_into_ecr(images, hub_front, many_tags, ecr_emulator, aws_environment,
                             ecr_sync, skopeo_raw, prefix, tmp_path):
    hub = hub_front
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/multiarch
  - source: {hub.host}/fixtures/dockerlist
    platforms: [linux/amd64]
  - source: {hub.host}/fixtures/many
    tags: {{semver: '>=11.4.0', latest: 3}}
  - source: {hub.host}/fixtures/schema2
    tags: {{include: ['^1$'], exclude: ['-rc']}}
""")
    report = tmp_path / "report.json"

    result = run_sync(ecr_sync, aws_environment, config, "--report", str(report), check=0)

    # Repositories created with their settings and lifecycle policy.
    for name in ("fixtures/multiarch", "fixtures/dockerlist", "fixtures/many",
                 "fixtures/schema2"):
        described = aws_cli(ecr_emulator, aws_environment, "ecr", "describe-repositories",
                            "--repository-names", f"{prefix}/{name}")["repositories"][0]
        assert described["imageTagMutability"] == "IMMUTABLE"
        assert described["imageScanningConfiguration"]["scanOnPush"] is True
        policy = aws_cli(ecr_emulator, aws_environment, "ecr", "get-lifecycle-policy",
                         "--repository-name", f"{prefix}/{name}")
        assert json.loads(policy["lifecyclePolicyText"]) == LIFECYCLE_POLICY

    # Digests byte-exact, children included.
    multiarch = images["multiarch"]
    assert digest_of(target_raw(ecr_emulator, skopeo_raw, f"{prefix}/fixtures/multiarch",
                                "1")) == multiarch.digest
    # The platform-filtered index records its upstream digest.
    filtered = json.loads(target_raw(ecr_emulator, skopeo_raw,
                                     f"{prefix}/fixtures/dockerlist", "1"))
    assert filtered["annotations"][ANNOTATION_SOURCE_DIGEST] == images["dockerlist"].digest
    # Semver and latest: the three newest of more than 1000 tags, read page by page.
    assert sorted(ecr_emulator.tags(f"{prefix}/fixtures/many")) == ["11.4.7", "11.4.8",
                                                                    "11.4.9"]
    pages = [request for request in hub.tags_requests
             if request.repository == "fixtures/many" and request.status == 200]
    assert len(pages) >= MANY_TAGS // 100
    assert all(request.n is None or int(request.n) <= 1000 for request in hub.tags_requests)

    data = json.loads(report.read_text())
    assert data["totals"]["failed"] == 0
    assert data["totals"]["excluded"] >= MANY_TAGS - 3
    many = next(image for image in data["images"] if image["source"].endswith("fixtures/many"))
    assert sorted(many["tags"]["copy"]) == ["11.4.7", "11.4.8", "11.4.9"]
    assert summary_of(result.stdout)["failed"] == "0"


def test_second_run_changes_nothing(images, hub_front, ecr_emulator, aws_environment, ecr_sync,
                                    prefix, tmp_path):
    hub = hub_front
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/multiarch
  - source: {hub.host}/fixtures/dockerlist
    platforms: [linux/arm/v7]
  - source: {hub.host}/fixtures/oci
""")
    run_sync(ecr_sync, aws_environment, config, check=0)
    hub.reset_counters()
    ecr_emulator.clear_calls()
    ecr_emulator.clear_registry_requests()
    report = tmp_path / "again.json"

    result = run_sync(ecr_sync, aws_environment, config, "--report", str(report), check=0)

    assert hub.counters().manifest_gets == 0
    assert hub.counters().blob_gets == 0
    assert writes_at_target(ecr_emulator) == []
    changing = [call for call in ecr_emulator.calls
                if call.operation.startswith(("Create", "Put", "BatchDelete", "Tag", "Untag"))]
    assert changing == []
    summary = summary_of(result.stdout)
    assert summary["copied"] == "0" and summary["updated"] == "0"
    assert summary["source_manifest_gets"] == "0"
    assert json.loads(report.read_text())["totals"]["source_manifest_gets"] == 0


def test_changed_settings_are_put_back(images, hub_front, ecr_emulator, aws_environment,
                                       ecr_sync, prefix, tmp_path):
    hub = hub_front
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/oci
""")
    run_sync(ecr_sync, aws_environment, config, check=0)
    name = f"{prefix}/fixtures/oci"
    arn = aws_cli(ecr_emulator, aws_environment, "ecr", "describe-repositories",
                  "--repository-names", name)["repositories"][0]["repositoryArn"]
    # Someone changes every setting by hand, and adds a tag of their own.
    aws_cli(ecr_emulator, aws_environment, "ecr", "put-image-tag-mutability",
            "--repository-name", name, "--image-tag-mutability", "MUTABLE")
    aws_cli(ecr_emulator, aws_environment, "ecr", "put-image-scanning-configuration",
            "--repository-name", name, "--image-scanning-configuration", "scanOnPush=false")
    aws_cli(ecr_emulator, aws_environment, "ecr", "delete-lifecycle-policy",
            "--repository-name", name)
    aws_cli(ecr_emulator, aws_environment, "ecr", "tag-resource", "--resource-arn", arn,
            "--tags", "Key=team,Value=someone-else", "Key=cost-center,Value=42")

    result = run_sync(ecr_sync, aws_environment, config, check=0)

    assert f"updated 4 settings of ECR repository '{name}'" in result.stderr
    described = aws_cli(ecr_emulator, aws_environment, "ecr", "describe-repositories",
                        "--repository-names", name)["repositories"][0]
    assert described["imageTagMutability"] == "IMMUTABLE"
    assert described["imageScanningConfiguration"]["scanOnPush"] is True
    policy = aws_cli(ecr_emulator, aws_environment, "ecr", "get-lifecycle-policy",
                     "--repository-name", name)
    assert json.loads(policy["lifecyclePolicyText"]) == LIFECYCLE_POLICY
    tags = aws_cli(ecr_emulator, aws_environment, "ecr", "list-tags-for-resource",
                   "--resource-arn", arn)["tags"]
    # The configured tag is put back; a tag the configuration does not name stays.
    assert {tag["Key"]: tag["Value"] for tag in tags} == {"team": "platform",
                                                          "cost-center": "42"}

    ecr_emulator.clear_calls()
    again = run_sync(ecr_sync, aws_environment, config, check=0)
    assert "updated" not in again.stderr
    assert not [call for call in ecr_emulator.calls
                if call.operation.startswith(("Put", "Tag", "Untag"))]


def test_moved_tag_is_updated(hub_front, servers, ecr_emulator, aws_environment, ecr_sync,
                              skopeo_raw, prefix, tmp_path):
    hub = hub_front
    repository = f"moving/{prefix}"
    client = servers.source_client()
    first, first_digest = bigrepo.push_small_image(client, repository, label="first")
    client.put_manifest(repository, "stable", first, "application/vnd.oci.image.manifest.v1+json")
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/{repository}
""", settings=False)
    run_sync(ecr_sync, aws_environment, config, check=0)
    second, second_digest = bigrepo.push_small_image(client, repository, label="second")
    client.put_manifest(repository, "stable", second,
                        "application/vnd.oci.image.manifest.v1+json")

    result = ecr_sync("plan", "--config", str(config), "--format", "json",
                      env=aws_environment(), check=0)
    item = json.loads(result.stdout)["items"][0]
    assert item["action"] == "update"
    assert item["source_digest"] == second_digest
    assert item["target_digest"] == first_digest

    run_sync(ecr_sync, aws_environment, config, check=0)

    assert digest_of(target_raw(ecr_emulator, skopeo_raw, f"{prefix}/{repository}",
                                "stable")) == second_digest


def test_rate_limit_reserve_defers(images, hub_front, ecr_emulator, aws_environment, ecr_sync,
                                   prefix, tmp_path):
    hub = hub_front
    hub.set_rate_limit(100, window=21600, remaining=5)
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/schema2
  - source: {hub.host}/fixtures/oci
""", settings=False, registries=f"""registries:
  {hub.host}:
    rate_limit: {{reserve: 5}}""")
    report = tmp_path / "report.json"

    result = run_sync(ecr_sync, aws_environment, config, "--report", str(report), check=3)

    data = json.loads(report.read_text())
    deferred = [item for item in data["items"] if item["action"] == "deferred"]
    assert len(deferred) == 2
    assert all("reserve" in item["reason"] for item in deferred)
    assert hub.counters().pulls == 0
    assert "deferred=2" in result.stdout


def test_failing_image_does_not_stop_others(images, hub_front, ecr_emulator, aws_environment,
                                            ecr_sync, skopeo_raw, prefix, tmp_path):
    hub = hub_front
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/does-not-exist
  - source: {hub.host}/fixtures/oci
""", settings=False)

    result = run_sync(ecr_sync, aws_environment, config, check=1)

    assert f"image 'fixtures/does-not-exist' -> '{prefix}/fixtures/does-not-exist'" in \
        result.stderr
    assert digest_of(target_raw(ecr_emulator, skopeo_raw, f"{prefix}/fixtures/oci",
                                "1")) == images["oci"].digest


def test_dry_run_changes_nothing(images, hub_front, ecr_emulator, aws_environment, ecr_sync,
                                 prefix, tmp_path):
    hub = hub_front
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/multiarch
""")
    ecr_emulator.clear_calls()
    ecr_emulator.clear_registry_requests()

    result = run_sync(ecr_sync, aws_environment, config, "--dry-run", "--format", "json",
                      check=0)

    plan = json.loads(result.stdout)
    assert plan["version"] == 1
    assert [item["action"] for item in plan["items"]] == ["copy"]
    assert plan["items"][0]["target_digest"] is None
    assert plan["items"][0]["source_digest"] == images["multiarch"].digest
    assert writes_at_target(ecr_emulator) == []
    assert not [call for call in ecr_emulator.calls if call.operation.startswith("Create")]
    assert hub.counters().manifest_gets == 0


@pytest.mark.parametrize("form", ["env", "file", "secret"])
def test_source_credentials(form, servers, ecr_emulator, aws_environment, ecr_sync, skopeo_raw,
                            prefix, tmp_path):
    # The Basic-auth registry needs credentials to pull: they come from the
    # configuration, not from Docker's config.json.
    source_host = servers.basic_target.host
    repository = f"private/{prefix}-{form}"
    _, digest = bigrepo.push_small_image(servers.basic_target_client(), repository)
    servers.basic_target_client().put_manifest(
        repository, "1", bigrepo.push_small_image(servers.basic_target_client(), repository)[0],
        "application/vnd.oci.image.manifest.v1+json")
    env = {"DOCKER_CONFIG": str(tmp_path / "empty-docker")}
    (tmp_path / "empty-docker").mkdir()
    if form == "env":
        credentials = "{username_env: SRC_USER, password_env: SRC_PASSWORD}"
        env.update({"SRC_USER": environment.TARGET_USER,
                    "SRC_PASSWORD": environment.TARGET_PASSWORD})
    elif form == "file":
        (tmp_path / "user").write_text(environment.TARGET_USER + "\n")
        (tmp_path / "password").write_text(environment.TARGET_PASSWORD + "\n")
        credentials = "{username_file: user, password_file: password}"
    else:
        secret = f"registry/{prefix}"
        ecr_emulator.preload_secret(secret, json.dumps(
            {"username": environment.TARGET_USER, "password": environment.TARGET_PASSWORD}))
        credentials = f"{{aws_secret: {secret}}}"
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {source_host}/{repository}
""", settings=False, registries=f"""registries:
  {source_host}:
    credentials: {credentials}""")

    result = run_sync(ecr_sync, aws_environment, config, "-v", check=0, env=env)

    assert digest_of(target_raw(ecr_emulator, skopeo_raw, f"{prefix}/{repository}", "1")) == (
        digest_of(RegistryClient(source_host, environment.TARGET_USER,
                                 environment.TARGET_PASSWORD).get_manifest(repository,
                                                                           "1").body))
    assert environment.TARGET_PASSWORD not in result.stdout + result.stderr


INVALID_CONFIGS = {
    "yaml-syntax": ("target: [unclosed\n", r"sync\.yaml:\d+:\d+"),
    "unknown-key": ("target:\n  registry: 127.0.0.1:5000\n  repository_prefx: x\n"
                    "images:\n  - source: nginx\n", r"sync\.yaml:3:\d+.*repository_prefix"),
    "bad-regex": ("target:\n  registry: 127.0.0.1:5000\nimages:\n  - source: nginx\n"
                  "    tags: {include: ['(']}\n", r"sync\.yaml:5:\d+"),
    "bad-semver": ("target:\n  registry: 127.0.0.1:5000\nimages:\n  - source: nginx\n"
                   "    tags: {semver: '>=1.2 <<2'}\n", r"sync\.yaml:5:\d+"),
    "bad-platform": ("target:\n  registry: 127.0.0.1:5000\nimages:\n  - source: nginx\n"
                     "    platforms: [linux]\n", r"sync\.yaml:5:\d+"),
    "bad-reference": ("target:\n  registry: 127.0.0.1:5000\nimages:\n  - source: Nginx\n",
                      r"sync\.yaml:4:\d+"),
    "bad-lifecycle": ("target:\n  ecr: {region: eu-west-1}\n  repository_settings:\n"
                      "    lifecycle_policy: {rules: [{rulePriority: 1, selection: "
                      "{tagStatus: any, countType: imageCountMoreThan, countNumber: 0}, "
                      "action: {type: expire}}]}\nimages:\n  - source: nginx\n",
                      r"sync\.yaml:4:\d+"),
    "bad-retries": ("target:\n  registry: 127.0.0.1:5000\nretries: {attempts: 0}\n"
                    "images:\n  - source: nginx\n", r"sync\.yaml:3:\d+: retries\.attempts"),
    "same-target": ("target:\n  registry: 127.0.0.1:5000\nimages:\n  - source: nginx\n"
                    "  - source: docker.io/library/nginx\n", r"sync\.yaml:5:\d+"),
}


@pytest.mark.parametrize("case", INVALID_CONFIGS)
def test_invalid_configuration_exits_2(case, aws_environment, ecr_sync, tmp_path):
    text, expected = INVALID_CONFIGS[case]
    config = tmp_path / "sync.yaml"
    config.write_text(text)

    result = ecr_sync("sync", "--config", str(config), env=aws_environment(), check=2)

    assert re.search(expected, result.stderr), result.stderr
    assert result.stdout == ""


INVALID_ARGUMENTS = {
    "config-without-value": (["sync", "--config"], r"option '--config' requires a value"),
    "jobs-without-value": (["sync", "--config", "CONFIG", "--jobs"],
                           r"option '--jobs' requires a value"),
    "log-format-without-value": (["plan", "--config", "CONFIG", "--log-format"],
                                 r"option '--log-format' requires a value"),
    "report-in-missing-directory": (
        ["sync", "--config", "CONFIG", "--report", "/nonexistent-directory/report.json"],
        r"cannot write the report to '/nonexistent-directory/report\.json'.*--report"),
    "plan-with-report": (["plan", "--config", "CONFIG", "--report", "r.json"],
                         r"'--report' is an option of 'sync', not of 'plan'"),
}


@pytest.mark.parametrize("case", INVALID_ARGUMENTS)
def test_invalid_arguments_exit_2(case, aws_environment, ecr_sync, tmp_path):
    arguments, expected = INVALID_ARGUMENTS[case]
    config = tmp_path / "sync.yaml"
    # Port 9 on loopback: any request the run made would fail, not reach a registry.
    config.write_text("target:\n  registry: 127.0.0.1:9\nimages:\n  - source: 127.0.0.1:9/a\n")
    arguments = [str(config) if argument == "CONFIG" else argument for argument in arguments]

    result = ecr_sync(*arguments, env=aws_environment(), check=2)

    assert re.search(expected, result.stderr), result.stderr
    assert "\x00" not in result.stderr
    assert "\x02" not in result.stderr
    assert result.stdout == ""


def test_report_through_symlink(aws_environment, ecr_sync, tmp_path):
    # A report path that is a symbolic link, as /dev/stdout is, is written
    # through the link and never replaced.
    config = tmp_path / "sync.yaml"
    config.write_text("target:\n  registry: 127.0.0.1:9\nimages:\n  - source: 127.0.0.1:9/a\n")
    real = tmp_path / "real.json"
    real.write_text("")
    link = tmp_path / "report.json"
    link.symlink_to(real)

    ecr_sync("sync", "--config", str(config), "--dry-run", "--report", str(link),
             env=aws_environment(), check=1)

    assert link.is_symlink()
    report = json.loads(real.read_text())
    assert report["version"] == 1
    assert report["images"][0]["error"]


def test_plan_is_the_same_with_any_jobs(images, hub_front, many_tags, ecr_emulator,
                                        aws_environment, ecr_sync, prefix, tmp_path):
    hub = hub_front
    first = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/oci
  - source: {hub.host}/fixtures/many
    tags: {{semver: '>=11.4.5'}}
""", settings=False)
    run_sync(ecr_sync, aws_environment, first, check=0)
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/oci
  - source: {hub.host}/fixtures/many
    tags: {{semver: '>=11.3.0', latest: 8}}
  - source: {hub.host}/fixtures/multiarch
  - source: {hub.host}/fixtures/dockerlist
    platforms: [linux/amd64]
  - source: {hub.host}/fixtures/does-not-exist
""", settings=False)

    # Exit status 1: the image that does not exist fails, the others are planned.
    plans = [ecr_sync("plan", "--config", str(config), "--format", "json", "--jobs", jobs,
                      env=aws_environment(), check=1).stdout
             for jobs in ("1", "16", "64")]

    assert plans[0] == plans[1] == plans[2]
    plan = json.loads(plans[0])
    actions = {}
    for item in plan["items"]:
        actions.setdefault(item["action"], []).append(item["tag"])
    assert sorted(actions["skip"]) == ["1", "11.4.5", "11.4.6", "11.4.7", "11.4.8", "11.4.9"]
    assert sorted(actions["copy"]) == ["1", "1", "11.4.2", "11.4.3", "11.4.4"]
    failed = [image for image in plan["images"] if image["error"]]
    assert [image["source"].rsplit("/", 1)[1] for image in failed] == ["does-not-exist"]


def test_shared_blobs_cross_repository_once(images, hub_front, ecr_emulator, aws_environment,
                                            ecr_sync, prefix, tmp_path):
    # schema2 and oci share a base layer: one sync uploads it once and mounts
    # it into the other repository of the same registry.
    hub = hub_front
    shared = set(images["schema2"].blobs) & set(images["oci"].blobs)
    assert shared, "fixture error: schema2 and oci share no blob"
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/fixtures/schema2
  - source: {hub.host}/fixtures/oci
""", settings=False)
    ecr_emulator.clear_registry_requests()

    result = run_sync(ecr_sync, aws_environment, config, "--jobs", "1", check=0)

    patches = [request for request in ecr_emulator.registry_requests
               if request.method == "PATCH"]
    distinct = set(images["schema2"].blobs) | set(images["oci"].blobs)
    assert len(patches) == len(distinct)
    assert re.search(r"\b1 mounted\b", result.stderr), result.stderr
    assert hub.counters().blob_gets == len(distinct)


def test_alias_tags_pull_once(hub_front, servers, ecr_emulator, aws_environment, ecr_sync,
                              skopeo_raw, prefix, tmp_path):
    # 1, 1.27 and latest name one image: it is pulled once, and the other
    # tags are pushed from the target's own copy.
    hub = hub_front
    repository = f"aliases/{prefix}"
    client = servers.source_client()
    manifest, digest = bigrepo.push_small_image(client, repository, label=prefix)
    for tag in ("1", "1.27", "latest"):
        client.put_manifest(repository, tag, manifest,
                            "application/vnd.oci.image.manifest.v1+json")
    config = write_config(tmp_path, ecr_emulator, prefix, f"""
  - source: {hub.host}/{repository}
""", settings=False)
    hub.reset_counters()

    result = run_sync(ecr_sync, aws_environment, config, check=0)

    counters = hub.counters(repository)
    assert counters.manifest_gets == 1
    assert counters.blob_gets == 2
    # One tag copies the image, and the log reports that the other two only pushed their tag.
    assert len(re.findall(r"blobs copied", result.stderr)) == 1
    assert len(re.findall(r"image already at the target, tag pushed", result.stderr)) == 2
    for tag in ("1", "1.27", "latest"):
        assert digest_of(target_raw(ecr_emulator, skopeo_raw, f"{prefix}/{repository}",
                                    tag)) == digest
