# SPDX-License-Identifier: Apache-2.0
"""The ECR client (src/aws/ecr.c, secrets.c, json_rpc.c) against the ECR emulator.

The tests run ecr-api-tool, which sends one operation through the real
client with the credential chain and prints the result as JSON lines. What
the tool reports is checked independently: with Debian's AWS CLI against the
control plane, with the emulator's record of calls, or with its state.

After every run of the tool, no secret may appear in its stdout or stderr:
not the emulator's secret keys or session token, not a registry password it
issued, not a preloaded secret value.

Environment:
  ECR_API_TOOL  the tool (default: tests/unit/ecr-api-tool next to ECR_SYNC's
                build, else build/ or build-asan/ in the repository)
"""

import dataclasses
import hashlib
import json
import os
import subprocess
import time

import pytest

from harness.client import OCI_MANIFEST, sha256_digest
from harness.ecr import DEFAULT_CREDENTIALS, SESSION_CREDENTIALS

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL_RELATIVE_PATH = os.path.join("tests", "unit", "ecr-api-tool")
TOOL_TIMEOUT_SECONDS = 120
AWS = "/usr/bin/aws"
CLI_TIMEOUT_SECONDS = 60
# Exit statuses of ecr-api-tool.
EXIT_FAILED = 1
EXIT_USAGE = 2
# Attempts per call in the retry policy of src/aws/json_rpc.c.
MAX_ATTEMPTS = 5
# ECR's largest page, which the client asks for.
PAGE_SIZE = 1000
MANY_IMAGES = PAGE_SIZE + 5
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
# Variables passed through to the tool so sanitizer builds keep their settings.
SANITIZER_VARIABLES = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")

# Secret values that tests in this module preloaded. The tool must never print them.
_preloaded_secrets = set()


def tool_path():
    """Return the tool: ECR_API_TOOL, else next to ECR_SYNC, else in build/ or build-asan/."""
    explicit = os.environ.get("ECR_API_TOOL")
    if explicit:
        return explicit
    ecr_sync = os.environ.get("ECR_SYNC")
    if ecr_sync:
        return os.path.join(os.path.dirname(os.path.abspath(ecr_sync)), TOOL_RELATIVE_PATH)
    for build in ("build", "build-asan"):
        candidate = os.path.join(REPOSITORY_ROOT, build, TOOL_RELATIVE_PATH)
        if os.access(candidate, os.X_OK):
            return candidate
    return os.path.join(REPOSITORY_ROOT, "build", TOOL_RELATIVE_PATH)


@dataclasses.dataclass
class ToolResult:
    returncode: int
    stdout: str
    stderr: str
    command: list

    @property
    def lines(self):
        """The JSON lines on stdout, parsed."""
        return [json.loads(line) for line in self.stdout.splitlines() if line]

    @property
    def result(self):
        """The only JSON line on stdout."""
        lines = self.lines
        assert len(lines) == 1, self.describe()
        return lines[0]

    @property
    def code(self):
        """The service's error type from the "code: TYPE" line, or None."""
        for line in self.stderr.splitlines():
            if line.startswith("code: "):
                return line[len("code: "):]
        return None

    def describe(self):
        return (f"$ {' '.join(self.command)}\nexit status: {self.returncode}\n"
                f"--- stdout ---\n{self.stdout[:4000]}--- stderr ---\n{self.stderr[:4000]}")


def issued_passwords(emulator):
    """Return every registry password the emulator has issued.

    NOTE: the emulator has no public accessor for these, so this reads
    EmulatorState._passwords under its lock.
    """
    with emulator.state.lock:
        return set(emulator.state._passwords)


def known_secrets(emulator):
    secrets = {DEFAULT_CREDENTIALS.secret_access_key, SESSION_CREDENTIALS.secret_access_key,
               SESSION_CREDENTIALS.session_token}
    for entry in emulator.credential_store.values():
        secrets.add(entry.secret_access_key)
        if entry.session_token:
            secrets.add(entry.session_token)
    secrets.update(issued_passwords(emulator))
    secrets.update(_preloaded_secrets)
    return secrets


@pytest.fixture
def tool(ecr_emulator, aws_environment):
    """Run ecr-api-tool: tool(*args, check=True, credentials=None, env=None) -> ToolResult.

    check is True for exit status 0, an int for that status, or None for no
    check. Every run is also checked for leaked secrets.
    """
    binary = tool_path()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"ecr-api-tool not found or not executable: {binary}; build it with "
                    "`make` or set ECR_API_TOOL")

    def run(*args, check=True, credentials=None, env=None):
        environment = aws_environment(credentials)
        environment.update({
            "PATH": "/usr/bin:/bin",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": ecr_emulator.api_url,
        })
        for name in SANITIZER_VARIABLES:
            if name in os.environ:
                environment[name] = os.environ[name]
        environment.update(env or {})
        command = [binary, *[str(argument) for argument in args]]
        completed = subprocess.run(command, env=environment, capture_output=True, text=True,
                                   errors="replace", stdin=subprocess.DEVNULL,
                                   timeout=TOOL_TIMEOUT_SECONDS)
        result = ToolResult(completed.returncode, completed.stdout, completed.stderr, command)

        output = result.stdout + result.stderr
        for secret in known_secrets(ecr_emulator):
            redacted = result.describe().replace(secret, "<SECRET>")
            assert secret not in output, f"a secret leaked into the output\n{redacted}"
        if check is not None:
            expected = 0 if check is True else check
            assert result.returncode == expected, (
                f"expected exit status {expected}\n{result.describe()}")
        return result

    return run


@pytest.fixture
def aws(ecr_emulator, aws_environment):
    """Run Debian's AWS CLI against the control plane and return the parsed JSON output.

    With check=False it returns the CompletedProcess instead.
    """
    def run(*args, check=True):
        environment = aws_environment()
        environment.update({"PATH": "/usr/bin:/bin", "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1",
                            "LANG": "C.UTF-8"})
        command = [AWS, "--endpoint-url", ecr_emulator.api_url, "--region",
                   ecr_emulator.region, "--output", "json", *[str(arg) for arg in args]]
        completed = subprocess.run(command, env=environment, capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=CLI_TIMEOUT_SECONDS)
        if not check:
            return completed
        assert completed.returncode == 0, f"$ {' '.join(command)}\n{completed.stderr}"
        return json.loads(completed.stdout) if completed.stdout.strip() else {}

    return run


@pytest.fixture
def repository_name(unique_repository):
    def make(label):
        return unique_repository(label).replace("e2e/", "ecr-api/")
    return make


def describe_with_cli(aws, name):
    return aws("ecr", "describe-repositories", "--repository-names", name)["repositories"][0]


def calls_for(emulator, operation, name):
    """Return the recorded calls of operation on repository name."""
    return [call for call in emulator.calls_to(operation)
            if (call.params or {}).get("repositoryName") == name]


def push_blobs(client, repository):
    """Push a small config and layer, and return the manifest's descriptors."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = b"ecr-api-tool test layer\n" * 32
    return {
        "config": {"mediaType": OCI_CONFIG, "digest": client.push_blob(repository, config),
                   "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": client.push_blob(repository, layer),
                    "size": len(layer)}],
    }


def image_manifest(descriptors, label):
    """Return the bytes of an OCI manifest made distinct by an annotation."""
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, **descriptors,
                       "annotations": {"org.example.label": label}}).encode()


def push_images(emulator, repository, labels):
    """Push one small image per label, tagged with the label, and return {tag: digest}."""
    client = emulator.registry_client()
    descriptors = push_blobs(client, repository)
    pushed = {}
    for label in labels:
        pushed[label] = client.put_manifest(repository, label,
                                            image_manifest(descriptors, label), OCI_MANIFEST)
    return pushed


def write_policy(tmp_path, document):
    path = tmp_path / "policy.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def rule(priority, tag_status, **selection):
    """Return one lifecycle rule whose selection defaults to 'more than 10 images'."""
    selection = {"tagStatus": tag_status, "countType": "imageCountMoreThan",
                 "countNumber": 10, **selection}
    return {"rulePriority": priority, "description": f"rule with priority {priority}",
            "selection": selection, "action": {"type": "expire"}}


VALID_POLICY = {"rules": [
    rule(1, "untagged", countType="sinceImagePushed", countUnit="days", countNumber=14),
    rule(2, "tagged", tagPrefixList=["release-"], countNumber=20),
    rule(3, "any", countNumber=100),
]}


# GetAuthorizationToken.

def test_get_token_reports_proxy_endpoint(tool, ecr_emulator):
    before = issued_passwords(ecr_emulator)
    ecr_emulator.clear_calls()

    token = tool("get-token").result

    new_passwords = issued_passwords(ecr_emulator) - before
    assert len(new_passwords) == 1
    password = new_passwords.pop()
    assert token["proxy_endpoint"] == ecr_emulator.proxy_url
    assert token["username"] == "AWS"
    assert token["password_length"] > 0
    assert token["password_length"] == len(password)
    assert ecr_emulator.state.password_status(password) == "valid"
    expected_expiry = time.time() + ecr_emulator.token_lifetime_seconds
    assert abs(token["expires_at"] - expected_expiry) < 60
    assert [call.params for call in ecr_emulator.calls_to("GetAuthorizationToken")] == [{}]


def test_get_token_with_registry_id(tool, ecr_emulator):
    ecr_emulator.clear_calls()

    token = tool("get-token", "--registry-id", ecr_emulator.account_id).result

    assert token["proxy_endpoint"] == ecr_emulator.proxy_url
    assert token["password_length"] > 0
    calls = ecr_emulator.calls_to("GetAuthorizationToken")
    assert [call.params for call in calls] == [{"registryIds": [ecr_emulator.account_id]}]


# CreateRepository and DescribeRepositories.

def test_create_repository_every_setting(tool, aws, ecr_emulator, repository_name):
    name = repository_name("settings")
    key = f"arn:aws:kms:{ecr_emulator.region}:{ecr_emulator.account_id}:key/ecr-api-test"

    created = tool("create-repository", name, "--mutability", "IMMUTABLE",
                   "--scan-on-push", "true", "--kms", key, "--tag", "team=platform",
                   "--tag", "cost-center=42").result

    assert created == {"name": name, "existed": False}
    described = describe_with_cli(aws, name)
    assert described["imageTagMutability"] == "IMMUTABLE"
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}
    assert described["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}
    tags = aws("ecr", "list-tags-for-resource", "--resource-arn",
               described["repositoryArn"])["tags"]
    assert tags == [{"Key": "team", "Value": "platform"}, {"Key": "cost-center", "Value": "42"}]

    reported = tool("describe-repository", name).result
    assert reported == {
        "found": True, "name": name, "arn": described["repositoryArn"],
        "uri": described["repositoryUri"], "image_tag_mutability": "IMMUTABLE",
        "scan_on_push": True, "encryption_type": "KMS", "kms_key": key,
    }


def test_create_repository_aes256(tool, aws, ecr_emulator, repository_name):
    name = repository_name("aes256")
    ecr_emulator.clear_calls()

    tool("create-repository", name, "--aes256", "--scan-on-push", "false")

    described = describe_with_cli(aws, name)
    assert described["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert described["imageScanningConfiguration"] == {"scanOnPush": False}
    params = calls_for(ecr_emulator, "CreateRepository", name)[0].params
    assert params["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert params["imageScanningConfiguration"] == {"scanOnPush": False}


def test_create_repository_defaults(tool, aws, ecr_emulator, repository_name):
    name = repository_name("defaults")
    ecr_emulator.clear_calls()

    tool("create-repository", name)

    assert [call.params for call in calls_for(ecr_emulator, "CreateRepository", name)] == [
        {"repositoryName": name}]
    described = describe_with_cli(aws, name)
    assert described["imageTagMutability"] == "MUTABLE"
    assert described["imageScanningConfiguration"] == {"scanOnPush": False}
    assert described["encryptionConfiguration"] == {"encryptionType": "AES256"}


@pytest.mark.parametrize("prefix", [None, "com.amazonaws.ecr#"])
def test_create_repository_again_reports_existing(prefix, tool, aws, ecr_emulator,
                                                  repository_name):
    name = repository_name("again")
    tool("create-repository", name, "--mutability", "MUTABLE")
    ecr_emulator.error_type_prefix = prefix
    try:
        again = tool("create-repository", name, "--mutability", "IMMUTABLE")
    finally:
        ecr_emulator.error_type_prefix = None

    assert again.result == {"name": name, "existed": True}
    calls = calls_for(ecr_emulator, "CreateRepository", name)
    assert [call.error for call in calls] == [None, "RepositoryAlreadyExistsException"]
    # The existing repository keeps its settings.
    assert describe_with_cli(aws, name)["imageTagMutability"] == "MUTABLE"


def test_describe_repository_missing(tool, ecr_emulator, repository_name):
    name = repository_name("missing")

    result = tool("describe-repository", name)

    assert result.result == {"found": False}
    calls = [call for call in ecr_emulator.calls_to("DescribeRepositories")
             if call.params.get("repositoryNames") == [name]]
    assert [call.error for call in calls] == ["RepositoryNotFoundException"]


def test_describe_repository_non_utf8_name(tool, repository_name):
    tool("create-repository", repository_name("listed-first"))
    name = "ecr-api/\udcff-not-utf-8"

    # subprocess encodes the lone surrogate back to the byte 0xff.
    result = tool("describe-repository", name, check=None)

    found = result.returncode == 0 and result.result["found"]
    assert not found, result.describe()


# Lifecycle policies.

def test_put_lifecycle_policy_stored(tool, aws, ecr_emulator, repository_name, tmp_path):
    name = repository_name("lifecycle")
    ecr_emulator.create_repository(name)
    text = json.dumps(VALID_POLICY)

    stored = tool("put-lifecycle-policy", name, write_policy(tmp_path, text)).result

    assert stored == {"name": name, "policy_length": len(text)}
    fetched = aws("ecr", "get-lifecycle-policy", "--repository-name", name)
    assert fetched["lifecyclePolicyText"] == text
    assert tool("get-lifecycle-policy", name).result == {"name": name, "policy": text}


def _too_short():
    return '{"rules": []}'


def _duplicate_priority():
    return {"rules": [rule(1, "untagged"), rule(1, "tagged", tagPrefixList=["v"])]}


def _any_rule_not_last():
    return {"rules": [rule(1, "any"), rule(2, "untagged")]}


def _count_unit_missing():
    return {"rules": [rule(1, "untagged", countType="sinceImagePushed", countNumber=30),
                      rule(2, "tagged", tagPrefixList=["release-"])]}


@pytest.mark.parametrize("policy, expected", [
    (_too_short(), ["the policy text has 13 characters", "ECR accepts 100 to 30720"]),
    (_duplicate_priority(), ["rules[1]: rulePriority: 1 is also the priority of rules[0]"]),
    (_any_rule_not_last(), ['rules[0]: a rule with tagStatus "any" must have the highest '
                            "rulePriority (2), not 1"]),
    (_count_unit_missing(), ['rules[0]: selection.countUnit: expected "days"']),
], ids=["too-short", "duplicate-priority", "any-rule-not-last", "count-unit-missing"])
def test_invalid_lifecycle_policy_rejected_locally(policy, expected, tool, aws, ecr_emulator,
                                                   repository_name, tmp_path):
    name = repository_name("bad-policy")
    ecr_emulator.create_repository(name)

    result = tool("put-lifecycle-policy", name, write_policy(tmp_path, policy),
                  check=EXIT_FAILED)

    assert f"lifecycle policy for '{name}'" in result.stderr
    for fragment in expected:
        assert fragment in result.stderr
    assert result.code is None
    assert result.stdout == ""
    assert calls_for(ecr_emulator, "PutLifecyclePolicy", name) == []
    assert ecr_emulator.repository(name).lifecycle_policy is None


def test_put_lifecycle_policy_file_missing(tool, ecr_emulator, repository_name, tmp_path):
    name = repository_name("no-file")
    ecr_emulator.create_repository(name)

    result = tool("put-lifecycle-policy", name, tmp_path / "absent.json", check=EXIT_FAILED)

    assert "absent.json" in result.stderr
    assert calls_for(ecr_emulator, "PutLifecyclePolicy", name) == []


@pytest.mark.parametrize("prefix", [None, "com.amazonaws.ecr#"])
def test_get_lifecycle_policy_none_set(prefix, tool, ecr_emulator, repository_name):
    name = repository_name("no-policy")
    ecr_emulator.create_repository(name)
    ecr_emulator.error_type_prefix = prefix
    try:
        result = tool("get-lifecycle-policy", name)
    finally:
        ecr_emulator.error_type_prefix = None

    assert result.result == {"name": name, "policy": None}
    assert [call.error for call in calls_for(ecr_emulator, "GetLifecyclePolicy", name)] == [
        "LifecyclePolicyNotFoundException"]


def test_get_lifecycle_policy_repository_missing(tool, repository_name):
    result = tool("get-lifecycle-policy", repository_name("absent"), check=EXIT_FAILED)

    assert result.code == "RepositoryNotFoundException"
    assert result.stdout == ""


# Repository settings.

def test_put_tag_mutability(tool, aws, ecr_emulator, repository_name):
    name = repository_name("mutability")
    ecr_emulator.create_repository(name)

    assert tool("put-tag-mutability", name, "IMMUTABLE").result == {
        "name": name, "image_tag_mutability": "IMMUTABLE"}
    assert describe_with_cli(aws, name)["imageTagMutability"] == "IMMUTABLE"

    tool("put-tag-mutability", name, "MUTABLE")
    assert describe_with_cli(aws, name)["imageTagMutability"] == "MUTABLE"


def test_put_tag_mutability_invalid_value(tool, aws, ecr_emulator, repository_name):
    name = repository_name("bad-mutability")
    ecr_emulator.create_repository(name)

    result = tool("put-tag-mutability", name, "SOMETIMES", check=EXIT_FAILED)

    assert result.code == "InvalidParameterException"
    assert "PutImageTagMutability" in result.stderr
    assert describe_with_cli(aws, name)["imageTagMutability"] == "MUTABLE"


def test_put_scanning(tool, aws, ecr_emulator, repository_name):
    name = repository_name("scanning")
    ecr_emulator.create_repository(name)

    assert tool("put-scanning", name, "true").result == {"name": name, "scan_on_push": True}
    assert describe_with_cli(aws, name)["imageScanningConfiguration"] == {"scanOnPush": True}

    tool("put-scanning", name, "false")
    assert describe_with_cli(aws, name)["imageScanningConfiguration"] == {"scanOnPush": False}


def test_put_scanning_missing_repository(tool, repository_name):
    result = tool("put-scanning", repository_name("absent"), "true", check=EXIT_FAILED)

    assert result.code == "RepositoryNotFoundException"


# ListImages, DescribeImages and BatchDeleteImage.

@pytest.fixture(scope="module")
def many_images(ecr_emulator):
    """A repository with MANY_IMAGES images, each under its own tag: (name, {tag: digest}).

    The images share one config and one layer and differ in an annotation,
    so each costs one manifest PUT. Distinct images, not one image under
    many tags, make DescribeImages (one entry per image) need two pages too.
    """
    name = "ecr-api/many-images"
    ecr_emulator.create_repository(name)
    return name, push_images(ecr_emulator, name,
                             [f"tag-{index:04d}" for index in range(MANY_IMAGES)])


def assert_two_pages(calls):
    assert len(calls) == 2
    assert [call.params.get("maxResults") for call in calls] == [PAGE_SIZE, PAGE_SIZE]
    assert "nextToken" not in calls[0].params
    assert calls[1].params.get("nextToken")
    assert [call.error for call in calls] == [None, None]


def test_list_images_every_page(tool, ecr_emulator, many_images):
    name, pushed = many_images
    ecr_emulator.clear_calls()

    listed = tool("list-images", name).lines

    assert len(listed) == MANY_IMAGES
    assert {entry["tag"]: entry["digest"] for entry in listed} == pushed
    assert ecr_emulator.tags(name) == pushed
    assert_two_pages(calls_for(ecr_emulator, "ListImages", name))


def test_describe_images_every_page(tool, ecr_emulator, many_images):
    name, pushed = many_images
    ecr_emulator.clear_calls()

    described = tool("describe-images", name).lines

    assert len(described) == MANY_IMAGES
    assert {entry["digest"]: entry["tags"] for entry in described} == {
        digest: [tag] for tag, digest in pushed.items()}
    assert {entry["media_type"] for entry in described} == {OCI_MANIFEST}
    assert_two_pages(calls_for(ecr_emulator, "DescribeImages", name))


def test_describe_images_reports_every_tag(tool, ecr_emulator, repository_name):
    name = repository_name("tags")
    ecr_emulator.create_repository(name)
    digest = push_images(ecr_emulator, name, ["first"])["first"]
    client = ecr_emulator.registry_client()
    manifest = client.get_manifest(name, "first")
    client.put_manifest(name, "second", manifest.body, manifest.media_type)

    described = tool("describe-images", name).result
    listed = tool("list-images", name).lines

    assert described["digest"] == digest
    assert sorted(described["tags"]) == ["first", "second"]
    assert sorted(entry["tag"] for entry in listed) == ["first", "second"]


def test_list_images_missing_repository(tool, repository_name):
    result = tool("list-images", repository_name("absent"), check=EXIT_FAILED)

    assert result.code == "RepositoryNotFoundException"
    assert result.stdout == ""


def test_batch_delete_image(tool, aws, ecr_emulator, repository_name):
    name = repository_name("delete")
    ecr_emulator.create_repository(name)
    pushed = push_images(ecr_emulator, name, ["drop", "keep"])

    deleted = tool("batch-delete", name, pushed["drop"]).result

    assert deleted == {"name": name, "deleted": 1}
    details = aws("ecr", "describe-images", "--repository-name", name)["imageDetails"]
    assert [detail["imageDigest"] for detail in details] == [pushed["keep"]]
    assert ecr_emulator.tags(name) == {"keep": pushed["keep"]}


def test_batch_delete_missing_digest(tool, ecr_emulator, repository_name):
    name = repository_name("delete-missing")
    ecr_emulator.create_repository(name)
    pushed = push_images(ecr_emulator, name, ["keep"])
    missing = sha256_digest(b"never pushed")

    result = tool("batch-delete", name, missing, check=EXIT_FAILED)

    assert "ImageNotFound" in result.stderr
    assert f"BatchDeleteImage in '{name}'" in result.stderr
    assert len(calls_for(ecr_emulator, "BatchDeleteImage", name)) == 1
    assert ecr_emulator.tags(name) == pushed


# Secrets Manager.

@pytest.mark.parametrize("value", ['{"username":"robot","password":"s3cr3t-Pa55"}',
                                   "pässwörd with ünïcode ✓"], ids=["json", "utf-8"])
def test_get_secret(value, tool, ecr_emulator, repository_name):
    secret_id = repository_name("secret")
    _preloaded_secrets.add(value)
    arn = ecr_emulator.preload_secret(secret_id, value)
    ecr_emulator.clear_calls()

    by_name = tool("get-secret", secret_id).result
    by_arn = tool("get-secret", arn).result

    encoded = value.encode("utf-8")
    assert by_name == {"secret_id": secret_id, "length": len(encoded),
                       "sha256": hashlib.sha256(encoded).hexdigest()}
    assert by_arn["sha256"] == by_name["sha256"]
    calls = ecr_emulator.calls_to("GetSecretValue")
    assert [(call.service, call.params) for call in calls] == [
        ("secretsmanager", {"SecretId": secret_id}), ("secretsmanager", {"SecretId": arn})]


def test_get_secret_missing(tool, repository_name):
    result = tool("get-secret", repository_name("no-secret"), check=EXIT_FAILED)

    assert result.code == "ResourceNotFoundException"
    assert "can't find the specified secret" in result.stderr
    assert result.stdout == ""


def test_get_secret_binary_rejected(tool, ecr_emulator, repository_name):
    secret_id = repository_name("binary")
    ecr_emulator.preload_secret(secret_id, b"\x00\x01binary")

    result = tool("get-secret", secret_id, check=EXIT_FAILED)

    assert "has no SecretString" in result.stderr
    assert result.stdout == ""


# Errors and retries.

@pytest.mark.parametrize("error", ["ThrottlingException", "InternalServerError"])
def test_error_retried_then_succeeds(error, tool, ecr_emulator, repository_name):
    name = repository_name("retried")
    ecr_emulator.create_repository(name)
    ecr_emulator.clear_calls()
    ecr_emulator.inject("DescribeRepositories", error, count=2)
    try:
        described = tool("describe-repository", name).result
    finally:
        ecr_emulator.clear_faults()

    assert described["found"] is True
    calls = ecr_emulator.calls_to("DescribeRepositories")
    assert [call.error for call in calls] == [error, error, None]


def test_throttling_gives_up_after_max_attempts(tool, ecr_emulator, repository_name):
    name = repository_name("throttled")
    ecr_emulator.create_repository(name)
    ecr_emulator.clear_calls()
    ecr_emulator.inject("DescribeRepositories", "ThrottlingException", count=MAX_ATTEMPTS + 1)
    try:
        result = tool("describe-repository", name, check=EXIT_FAILED)
    finally:
        ecr_emulator.clear_faults()

    assert result.code == "ThrottlingException"
    assert len(ecr_emulator.calls_to("DescribeRepositories")) == MAX_ATTEMPTS


@pytest.mark.parametrize("prefix", [None, "com.amazonaws.ecr#"])
def test_access_denied_names_iam_action(prefix, tool, ecr_emulator, repository_name):
    name = repository_name("denied")
    ecr_emulator.create_repository(name)
    ecr_emulator.clear_calls()
    ecr_emulator.inject("DescribeRepositories", "AccessDeniedException", count=1)
    ecr_emulator.error_type_prefix = prefix
    try:
        result = tool("describe-repository", name, check=EXIT_FAILED)
    finally:
        ecr_emulator.error_type_prefix = None
        ecr_emulator.clear_faults()

    assert "ecr:DescribeRepositories" in result.stderr
    assert result.code == "AccessDeniedException"
    assert len(ecr_emulator.calls_to("DescribeRepositories")) == 1


def test_error_type_prefix_stripped(tool, ecr_emulator, repository_name):
    ecr_emulator.error_type_prefix = "com.amazonaws.ecr#"
    try:
        result = tool("put-tag-mutability", repository_name("absent"), "IMMUTABLE",
                      check=EXIT_FAILED)
    finally:
        ecr_emulator.error_type_prefix = None

    assert result.code == "RepositoryNotFoundException"
    assert "com.amazonaws.ecr#" not in result.stderr


@pytest.mark.parametrize("command", [["get-token"], ["describe-repository", "ecr-api/any"],
                                     ["get-secret", "ecr-api/any"]],
                         ids=["get-token", "describe-repository", "get-secret"])
def test_invalid_region_rejected_before_any_call(command, tool, ecr_emulator):
    ecr_emulator.clear_calls()

    result = tool("--region", "eu west", *command, check=EXIT_FAILED)

    assert "invalid AWS region 'eu west'" in result.stderr
    assert ecr_emulator.calls == []


@pytest.mark.parametrize("arguments", [
    ["no-such-command"],
    ["describe-repository"],
    ["describe-repository", "ecr-api/a", "--mutability", "IMMUTABLE"],
    ["create-repository", "ecr-api/a", "--kms", "alias/a", "--aes256"],
    ["create-repository", "ecr-api/a", "--tag", "no-equals-sign"],
    ["put-scanning", "ecr-api/a", "yes"],
], ids=["unknown-command", "missing-name", "setting-on-describe", "two-encryptions",
        "tag-without-value", "scanning-not-boolean"])
def test_bad_usage_rejected(arguments, tool, ecr_emulator):
    ecr_emulator.clear_calls()

    result = tool(*arguments, check=EXIT_USAGE)

    assert "usage: ecr-api-tool" in result.stderr
    assert ecr_emulator.calls == []


# Secrets in the output.

def test_verbose_output_has_no_secret(tool, ecr_emulator, repository_name):
    name = repository_name("verbose")
    ecr_emulator.create_repository(name)
    push_images(ecr_emulator, name, ["v1"])
    secret_id = repository_name("verbose-secret")
    secret_value = "verbose-secret-value-" + "z" * 24
    _preloaded_secrets.add(secret_value)
    ecr_emulator.preload_secret(secret_id, secret_value)
    ecr_emulator.inject("ListImages", "ThrottlingException", count=1)
    before = issued_passwords(ecr_emulator)
    try:
        runs = [
            tool("--verbose", "get-token", credentials=SESSION_CREDENTIALS),
            tool("--verbose", "describe-repository", name, credentials=SESSION_CREDENTIALS),
            tool("--verbose", "list-images", name, credentials=SESSION_CREDENTIALS),
            tool("--verbose", "get-secret", secret_id, credentials=SESSION_CREDENTIALS),
        ]
    finally:
        ecr_emulator.clear_faults()

    # The tool fixture checks every known secret after each run. These
    # asserts name the secrets this test used, so they fail even if that
    # check changes.
    new_passwords = issued_passwords(ecr_emulator) - before
    assert len(new_passwords) == 1
    output = "".join(run.stdout + run.stderr for run in runs)
    assert "debug: http: POST" in output
    assert "retrying in" in output
    for secret in (SESSION_CREDENTIALS.secret_access_key, SESSION_CREDENTIALS.session_token,
                   secret_value, *new_passwords):
        assert secret not in output
    assert "Signature=" not in output
    assert "Authorization" not in output
    calls = ecr_emulator.calls_to("ListImages")
    assert calls[-1].access_key_id == SESSION_CREDENTIALS.access_key_id
