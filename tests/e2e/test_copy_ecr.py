# SPDX-License-Identifier: Apache-2.0
"""ecr-sync copy with an ECR target, against the ECR emulator.

The target is named by an ECR host name (ACCOUNT.dkr.ecr.REGION.amazonaws.com);
AWS_ENDPOINT_URL_ECR sends the API calls to the emulator, and the
proxyEndpoint from GetAuthorizationToken sends registry traffic to its data
plane. Results are checked with skopeo through the data plane and with
Debian's AWS CLI against the control plane.
"""

import hashlib
import json
import subprocess

import pytest

from harness.ecr import SESSION_CREDENTIALS

AWS = "/usr/bin/aws"


def parse_summary(stdout):
    line = next(line for line in stdout.splitlines() if line.startswith("copied "))
    return dict(token.split("=", 1) for token in line.split() if "=" in token)


def target_digest(ecr_emulator, skopeo_raw, repository, tag):
    raw = skopeo_raw(f"{ecr_emulator.registry_host}/{repository}:{tag}",
                     creds=ecr_emulator.registry_credentials())
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def describe_repository(ecr_emulator, aws_environment, repository):
    environment = aws_environment()
    environment.update({"PATH": "/usr/bin:/bin", "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1"})
    result = subprocess.run(
        [AWS, "--endpoint-url", ecr_emulator.api_url, "--region", ecr_emulator.region,
         "--output", "json", "ecr", "describe-repositories", "--repository-names", repository],
        env=environment, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["repositories"][0]


@pytest.fixture
def ecr_name(unique_repository):
    def make(label):
        return unique_repository(label).replace("e2e/", "ecr-e2e/")
    return make


def test_copy_to_ecr_creates_repository(images, source, ecr_emulator, aws_environment, ecr_sync,
                                        skopeo_raw, ecr_name):
    image = images["multiarch"]
    repository = ecr_name("create")
    destination = f"{ecr_emulator.registry_hostname()}/{repository}:1"
    ecr_emulator.clear_calls()

    result = ecr_sync("copy", image.reference(source.host), destination,
                      env=aws_environment(), check=True)

    assert parse_summary(result.stdout)["digest"] == image.digest
    assert target_digest(ecr_emulator, skopeo_raw, repository, "1") == image.digest
    for child in image.children:
        raw = skopeo_raw(f"{ecr_emulator.registry_host}/{repository}@{child.digest}",
                         creds=ecr_emulator.registry_credentials())
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == child.digest
    described = describe_repository(ecr_emulator, aws_environment, repository)
    assert described["repositoryName"] == repository
    assert len(ecr_emulator.calls_to("CreateRepository")) == 1
    assert f"created ECR repository '{repository}'" in result.stderr


def test_copy_to_ecr_again_changes_nothing(images, source, ecr_emulator, aws_environment,
                                           ecr_sync, ecr_name):
    image = images["schema2"]
    repository = ecr_name("again")
    destination = f"{ecr_emulator.registry_hostname()}/{repository}:1"
    ecr_sync("copy", image.reference(source.host), destination, env=aws_environment(),
             check=True)
    ecr_emulator.clear_calls()
    ecr_emulator.clear_registry_requests()

    result = ecr_sync("copy", image.reference(source.host), destination, env=aws_environment(),
                      check=True)

    summary = parse_summary(result.stdout)
    assert summary["blobs_copied"] == "0"
    assert summary["manifests_pushed"] == "0"
    assert ecr_emulator.calls_to("CreateRepository") == []
    writes = [request for request in ecr_emulator.registry_requests
              if request.method in ("POST", "PATCH", "PUT")]
    assert writes == []


def test_copy_to_existing_repository(images, source, ecr_emulator, aws_environment, ecr_sync,
                                     skopeo_raw, ecr_name):
    image = images["oci"]
    repository = ecr_name("existing")
    ecr_emulator.create_repository(repository)
    ecr_emulator.clear_calls()

    ecr_sync("copy", "--no-create-repository", image.reference(source.host),
             f"{ecr_emulator.registry_hostname()}/{repository}:1", env=aws_environment(),
             check=True)

    assert ecr_emulator.calls_to("CreateRepository") == []
    assert target_digest(ecr_emulator, skopeo_raw, repository, "1") == image.digest


@pytest.mark.parametrize("prefix", [None, "com.amazonaws.ecr#"])
def test_no_create_repository_refuses(prefix, images, source, ecr_emulator, aws_environment,
                                      ecr_sync, ecr_name):
    repository = ecr_name("refuse")
    ecr_emulator.error_type_prefix = prefix
    ecr_emulator.clear_calls()
    try:
        result = ecr_sync("copy", "--no-create-repository",
                          images["schema2"].reference(source.host),
                          f"{ecr_emulator.registry_hostname()}/{repository}:1",
                          env=aws_environment(), check=1)
    finally:
        ecr_emulator.error_type_prefix = None

    assert f"ECR repository '{repository}' does not exist" in result.stderr
    assert "--no-create-repository" in result.stderr
    assert ecr_emulator.calls_to("CreateRepository") == []
    assert ecr_emulator.repository(repository) is None


def test_access_denied_names_iam_action(images, source, ecr_emulator, aws_environment, ecr_sync,
                                        ecr_name):
    ecr_emulator.inject("GetAuthorizationToken", "AccessDeniedException", count=1)
    try:
        result = ecr_sync("copy", images["schema2"].reference(source.host),
                          f"{ecr_emulator.registry_hostname()}/{ecr_name('denied')}:1",
                          env=aws_environment(), check=1)
    finally:
        ecr_emulator.clear_faults()

    assert "ecr:GetAuthorizationToken" in result.stderr


def test_throttling_is_retried(images, source, ecr_emulator, aws_environment, ecr_sync,
                               skopeo_raw, ecr_name):
    repository = ecr_name("throttled")
    ecr_emulator.inject("DescribeRepositories", "ThrottlingException", count=2)
    ecr_emulator.clear_calls()
    try:
        ecr_sync("copy", images["schema2"].reference(source.host),
                 f"{ecr_emulator.registry_hostname()}/{repository}:1", env=aws_environment(),
                 check=True)
    finally:
        ecr_emulator.clear_faults()

    assert len(ecr_emulator.calls_to("DescribeRepositories")) == 3
    assert target_digest(ecr_emulator, skopeo_raw, repository, "1") == images["schema2"].digest


def test_session_credentials_and_no_secret_in_output(images, source, ecr_emulator,
                                                     aws_environment, ecr_sync, ecr_name):
    repository = ecr_name("session")
    result = ecr_sync("-v", "--log-format", "json", "copy",
                      images["schema2"].reference(source.host),
                      f"{ecr_emulator.registry_hostname()}/{repository}:1",
                      env=aws_environment(SESSION_CREDENTIALS), check=True)

    calls = ecr_emulator.calls_to("GetAuthorizationToken")
    assert calls and calls[-1].access_key_id == SESSION_CREDENTIALS.access_key_id
    output = result.stdout + result.stderr
    assert SESSION_CREDENTIALS.secret_access_key not in output
    assert SESSION_CREDENTIALS.session_token not in output
    for line in result.stderr.splitlines():
        assert json.loads(line)["msg"], line
    assert "Authorization" not in output


def test_missing_aws_credentials_reported(images, source, ecr_emulator, aws_environment,
                                          ecr_sync, ecr_name):
    environment = aws_environment(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                                  AWS_SESSION_TOKEN=None)
    environment = {name: value for name, value in environment.items() if value is not None}
    environment.update({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})

    result = ecr_sync("copy", images["schema2"].reference(source.host),
                      f"{ecr_emulator.registry_hostname()}/{ecr_name('no-keys')}:1",
                      env=environment, check=1)

    assert "AWS credentials" in result.stderr
