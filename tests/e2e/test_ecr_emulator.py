# SPDX-License-Identifier: Apache-2.0
"""Checks of the ECR emulator (harness.ecr) with Debian's AWS CLI, skopeo and raw HTTP.

These run without ecr-sync: a failure here points at the emulator. The AWS
CLI runs with a clean environment, fake keys, empty config files and
AWS_EC2_METADATA_DISABLED=true, and is pointed at the emulator with
--endpoint-url, because Debian's awscli 2.9 ignores AWS_ENDPOINT_URL*.
"""

import base64
import dataclasses
import datetime
import hashlib
import http.client
import itertools
import json
import subprocess
import time
import urllib.parse

import pytest

from harness.client import OCI_MANIFEST, RegistryClient, sha256_digest
from harness import fixtures
from harness.ecr import (DEFAULT_CREDENTIALS, MIN_PART_SIZE, SESSION_CREDENTIALS, Emulator,
                         TestCredentials, sign_headers)

AWS = "/usr/bin/aws"
SKOPEO = "/usr/bin/skopeo"
REGION = "eu-west-1"
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
CLI_TIMEOUT_SECONDS = 60
# Exit statuses of AWS CLI v2: 252 for a parameter rejected before sending,
# 254 for an error response from the service.
CLI_PARAMETER_ERROR = 252
CLI_SERVICE_ERROR = 254

VALID_POLICY = json.dumps({"rules": [
    {"rulePriority": 1, "description": "expire untagged images after 14 days",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                   "countUnit": "days", "countNumber": 14},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "keep the 5 latest release images",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"],
                   "countType": "imageCountMoreThan", "countNumber": 5},
     "action": {"type": "expire"}},
]})

_names = itertools.count(1)


def new_repository_name(label):
    return f"emu/{label}-{next(_names)}"


@pytest.fixture(scope="module")
def ecr(log_dir):
    with Emulator(log_dir, name="ecr-emulator") as started:
        yield started


@dataclasses.dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    command: list

    def json(self):
        return json.loads(self.stdout)

    def describe(self):
        return (f"$ {' '.join(self.command)}\nexit status: {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}")


@pytest.fixture(scope="module")
def aws_home(tmp_path_factory):
    """A HOME with empty AWS config and credentials files."""
    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    return home


@pytest.fixture
def aws(ecr, aws_home, tmp_path):
    """Run the AWS CLI against the emulator: aws(*args, check=True, ...) -> CliResult.

    check=True expects exit status 0, an int expects that status, None
    checks nothing. credentials are TestCredentials (default: the
    emulator's), env overrides variables, config is the text of the AWS
    config file.
    """
    def run(*args, check=True, credentials=None, env=None, config=None):
        environment = {"PATH": "/usr/bin:/bin", "HOME": str(aws_home), "LANG": "C.UTF-8",
                       "AWS_CONFIG_FILE": str(aws_home / "config"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(aws_home / "credentials"),
                       "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1"}
        environment.update(ecr.aws_environment(credentials))
        if config is not None:
            config_path = tmp_path / "aws-config"
            config_path.write_text(config)
            environment["AWS_CONFIG_FILE"] = str(config_path)
        environment.update(env or {})
        command = [AWS, "--endpoint-url", ecr.api_url, "--region", REGION, "--output", "json",
                   "--cli-read-timeout", "10", "--cli-connect-timeout", "5",
                   *[str(argument) for argument in args]]
        completed = subprocess.run(command, env=environment, capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=CLI_TIMEOUT_SECONDS)
        result = CliResult(completed.returncode, completed.stdout, completed.stderr, command)
        if check is not None:
            expected = 0 if check is True else check
            assert result.returncode == expected, result.describe()
        return result
    return run


def api_call(ecr, operation, params, credentials=DEFAULT_CREDENTIALS, target_prefix=ECR_TARGET,
             service="ecr", timestamp=None, content_type=JSON_CONTENT_TYPE, sign=True,
             tamper=None):
    """Send one signed JSON 1.1 request; returns (status, parsed body).

    tamper, when given, changes the body after signing.
    """
    body = json.dumps(params).encode("utf-8")
    headers = {"Content-Type": content_type, "X-Amz-Target": f"{target_prefix}.{operation}"}
    if sign:
        headers = sign_headers("POST", ecr.api_url + "/", body, headers, credentials, REGION,
                               service, timestamp)
    if tamper is not None:
        body = tamper(body)
    connection = http.client.HTTPConnection("127.0.0.1", ecr.api.port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def secrets_call(ecr, params):
    return api_call(ecr, "GetSecretValue", params, target_prefix="secretsmanager",
                    service="secretsmanager")


def create_repository(ecr, name, **params):
    status, body = api_call(ecr, "CreateRepository", {"repositoryName": name, **params})
    assert status == 200, body
    return body["repository"]


def registry_request(ecr, method, path, headers=None, body=None, password=None):
    """Send one request to the data plane; returns (status, headers, body)."""
    request_headers = dict(headers or {})
    if password is not None:
        encoded = base64.b64encode(f"AWS:{password}".encode()).decode()
        request_headers["Authorization"] = f"Basic {encoded}"
    connection = http.client.HTTPConnection("127.0.0.1", ecr.proxy.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=request_headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def push_small_image(client, repository, tag, label):
    """Push a one-layer OCI image built from label; returns the manifest digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "label": label,
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = f"layer of {label}\n".encode() * 64
    manifest = small_manifest(client.push_blob(repository, config), len(config),
                              client.push_blob(repository, layer), len(layer))
    return client.put_manifest(repository, tag, manifest, OCI_MANIFEST)


def small_manifest(config_digest, config_size, layer_digest, layer_size):
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer_digest, "size": layer_size}],
    }).encode()


def start_upload(client, repository):
    response = client.request("POST", f"/v2/{repository}/blobs/uploads/",
                              headers={"Content-Length": "0"}, body=b"", expected=(202,))
    return response.headers["Location"]


def patch_part(client, location, data, offset):
    return client.request("PATCH", location,
                          headers={"Content-Type": "application/octet-stream",
                                   "Content-Length": str(len(data)),
                                   "Content-Range": f"{offset}-{offset + len(data) - 1}"},
                          body=data)


def finish_upload(client, location, digest, data=b""):
    separator = "&" if "?" in location else "?"
    return client.request("PUT", f"{location}{separator}digest={urllib.parse.quote(digest)}",
                          headers={"Content-Length": str(len(data)),
                                   "Content-Type": "application/octet-stream"},
                          body=data)


def error_codes(body):
    return [error["code"] for error in json.loads(body)["errors"]]


# Control plane through the AWS CLI.

def test_create_repository_settings(ecr, aws):
    name = new_repository_name("create")
    created = aws("ecr", "create-repository", "--repository-name", name,
                  "--tags", "Key=team,Value=platform", "Key=cost-center,Value=42",
                  "--image-scanning-configuration", "scanOnPush=true",
                  "--encryption-configuration", "encryptionType=KMS,kmsKey=alias/ecr").json()
    repository = created["repository"]

    assert repository["repositoryName"] == name
    assert repository["registryId"] == "123456789012"
    assert repository["repositoryArn"] == f"arn:aws:ecr:{REGION}:123456789012:repository/{name}"
    assert repository["repositoryUri"] == f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{name}"
    assert repository["imageTagMutability"] == "MUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfiguration"] == {"encryptionType": "KMS",
                                                     "kmsKey": "alias/ecr"}

    described = aws("ecr", "describe-repositories", "--repository-names", name).json()
    assert described["repositories"] == [repository]
    tags = aws("ecr", "list-tags-for-resource", "--resource-arn",
               repository["repositoryArn"]).json()["tags"]
    assert tags == [{"Key": "team", "Value": "platform"}, {"Key": "cost-center", "Value": "42"}]

    call = ecr.calls_to("CreateRepository")[-1]
    assert call.params["encryptionConfiguration"] == {"encryptionType": "KMS",
                                                      "kmsKey": "alias/ecr"}
    assert call.access_key_id == DEFAULT_CREDENTIALS.access_key_id
    assert call.region == REGION


def test_create_repository_duplicate_rejected(aws):
    name = new_repository_name("duplicate")
    aws("ecr", "create-repository", "--repository-name", name)
    result = aws("ecr", "create-repository", "--repository-name", name, check=CLI_SERVICE_ERROR)
    assert "(RepositoryAlreadyExistsException)" in result.stderr
    assert f"'{name}' already exists" in result.stderr


def test_create_repository_invalid_name_rejected(aws):
    # The CLI does not check patterns, so the emulator must.
    result = aws("ecr", "create-repository", "--repository-name", "Upper/Case",
                 check=CLI_SERVICE_ERROR)
    assert "(InvalidParameterException)" in result.stderr
    assert "repositoryName" in result.stderr


def test_create_repository_aes256_with_kms_key_rejected(aws):
    result = aws("ecr", "create-repository", "--repository-name", new_repository_name("aes"),
                 "--encryption-configuration", "encryptionType=AES256,kmsKey=alias/ecr",
                 check=CLI_SERVICE_ERROR)
    assert "(InvalidParameterException)" in result.stderr


def test_describe_repositories_missing(aws):
    result = aws("ecr", "describe-repositories", "--repository-names", "emu/never-created",
                 check=CLI_SERVICE_ERROR)
    assert "(RepositoryNotFoundException)" in result.stderr
    assert "'emu/never-created' does not exist" in result.stderr


def test_describe_repositories_paginates(ecr, aws):
    for _ in range(3):
        create_repository(ecr, new_repository_name("page"))
    expected = sorted(repository.name for repository in ecr.state.repositories())
    ecr.clear_calls()

    described = aws("ecr", "describe-repositories", "--page-size", "2").json()

    assert sorted(entry["repositoryName"] for entry in described["repositories"]) == expected
    calls = ecr.calls_to("DescribeRepositories")
    assert len(calls) == (len(expected) + 1) // 2
    assert all(call.params["maxResults"] == 2 for call in calls)
    assert "nextToken" not in calls[0].params
    assert all("nextToken" in call.params for call in calls[1:])


def test_max_results_above_1000_rejected(ecr, aws):
    name = create_repository(ecr, new_repository_name("max"))["repositoryName"]
    for command in (["describe-repositories"], ["list-images", "--repository-name", name]):
        result = aws("ecr", *command, "--no-paginate", "--max-results", "1001",
                     check=CLI_SERVICE_ERROR)
        assert "(InvalidParameterException)" in result.stderr, command
        assert "less than or equal to 1000" in result.stderr, command

    status, body = api_call(ecr, "DescribeImages", {"repositoryName": name, "maxResults": 1001})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    status, body = api_call(ecr, "DescribeImages", {"repositoryName": name, "maxResults": 1000})
    assert status == 200, body
    assert body == {"imageDetails": []}


def test_lifecycle_policy_roundtrip(ecr, aws):
    name = create_repository(ecr, new_repository_name("lifecycle"))["repositoryName"]
    missing = aws("ecr", "get-lifecycle-policy", "--repository-name", name,
                  check=CLI_SERVICE_ERROR)
    assert "(LifecyclePolicyNotFoundException)" in missing.stderr

    stored = aws("ecr", "put-lifecycle-policy", "--repository-name", name,
                 "--lifecycle-policy-text", VALID_POLICY).json()
    assert stored["lifecyclePolicyText"] == VALID_POLICY
    fetched = aws("ecr", "get-lifecycle-policy", "--repository-name", name).json()
    assert fetched["lifecyclePolicyText"] == VALID_POLICY
    assert fetched["repositoryName"] == name
    assert "lastEvaluatedAt" in fetched


def test_lifecycle_policy_too_short_rejected(ecr, aws):
    name = create_repository(ecr, new_repository_name("short"))["repositoryName"]
    short_policy = '{"rules":[]}'

    # botocore in the CLI checks the model's minimum before sending.
    client_side = aws("ecr", "put-lifecycle-policy", "--repository-name", name,
                      "--lifecycle-policy-text", short_policy, check=CLI_PARAMETER_ERROR)
    assert "valid min length: 100" in client_side.stderr

    ecr.clear_calls()
    server_side = aws("ecr", "put-lifecycle-policy", "--repository-name", name,
                      "--lifecycle-policy-text", short_policy, check=CLI_SERVICE_ERROR,
                      config="[default]\nparameter_validation = false\n")
    assert "(InvalidParameterException)" in server_side.stderr
    assert "valid min length: 100" in server_side.stderr
    assert [call.error for call in ecr.calls_to("PutLifecyclePolicy")] == [
        "InvalidParameterException"]


def test_lifecycle_policy_too_long_rejected(ecr, aws):
    name = create_repository(ecr, new_repository_name("long"))["repositoryName"]
    rule = json.loads(VALID_POLICY)["rules"][0]
    rule["description"] = "x" * 30720
    result = aws("ecr", "put-lifecycle-policy", "--repository-name", name,
                 "--lifecycle-policy-text", json.dumps({"rules": [rule]}),
                 check=CLI_SERVICE_ERROR)
    assert "(InvalidParameterException)" in result.stderr
    assert "less than or equal to 30720" in result.stderr


@pytest.mark.parametrize("selection, message", [
    ({"tagStatus": "any", "countType": "sinceImagePushed", "countNumber": 7},
     "countUnit must be 'days'"),
    ({"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 3},
     "needs tagPrefixList or tagPatternList"),
    ({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 0},
     "countNumber must be an integer of at least 1"),
    ({"tagStatus": "everything", "countType": "imageCountMoreThan", "countNumber": 3},
     "tagStatus must be one of"),
])
def test_lifecycle_policy_invalid_rule_rejected(ecr, selection, message):
    name = create_repository(ecr, new_repository_name("rule"))["repositoryName"]
    policy = json.dumps({"rules": [{"rulePriority": 1, "description": "d" * 60,
                                    "selection": selection, "action": {"type": "expire"}}]})
    status, body = api_call(ecr, "PutLifecyclePolicy",
                            {"repositoryName": name, "lifecyclePolicyText": policy})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert message in body["message"]


def test_authorization_token_format(ecr, aws):
    before = time.time()
    data = aws("ecr", "get-authorization-token").json()["authorizationData"]

    assert len(data) == 1
    user, _, password = base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    assert password
    assert data[0]["proxyEndpoint"] == ecr.proxy_url
    expires_at = datetime.datetime.fromisoformat(data[0]["expiresAt"]).timestamp()
    assert before + 12 * 3600 - 5 < expires_at < time.time() + 12 * 3600 + 5


def test_wrong_secret_rejected(aws):
    wrong = TestCredentials(DEFAULT_CREDENTIALS.access_key_id, "not-the-secret-key")
    result = aws("ecr", "describe-repositories", credentials=wrong, check=CLI_SERVICE_ERROR)
    assert "(InvalidSignatureException)" in result.stderr


def test_unknown_access_key_rejected(aws):
    unknown = TestCredentials("AKIDEXAMPLEUNKNOWN000", DEFAULT_CREDENTIALS.secret_access_key)
    result = aws("ecr", "describe-repositories", credentials=unknown, check=CLI_SERVICE_ERROR)
    assert "(UnrecognizedClientException)" in result.stderr


def test_session_token_checked(aws):
    aws("ecr", "describe-repositories", credentials=SESSION_CREDENTIALS)
    wrong_token = dataclasses.replace(SESSION_CREDENTIALS, session_token="wrong-session-token")
    result = aws("ecr", "describe-repositories", credentials=wrong_token,
                 check=CLI_SERVICE_ERROR)
    assert "(UnrecognizedClientException)" in result.stderr
    no_token = dataclasses.replace(SESSION_CREDENTIALS, session_token=None)
    result = aws("ecr", "describe-repositories", credentials=no_token, check=CLI_SERVICE_ERROR)
    assert "(UnrecognizedClientException)" in result.stderr


def test_get_secret_value(ecr, aws):
    arn = ecr.preload_secret("ecr-sync/dockerhub", '{"username":"u","password":"p"}')
    ecr.preload_secret("ecr-sync/binary", b"\x00\x01binary")

    by_name = aws("secretsmanager", "get-secret-value", "--secret-id",
                  "ecr-sync/dockerhub").json()
    assert by_name["SecretString"] == '{"username":"u","password":"p"}'
    assert by_name["ARN"] == arn
    assert by_name["VersionStages"] == ["AWSCURRENT"]
    missing = aws("secretsmanager", "get-secret-value", "--secret-id", "ecr-sync/none",
                  check=CLI_SERVICE_ERROR)
    assert "(ResourceNotFoundException)" in missing.stderr

    status, by_arn = secrets_call(ecr, {"SecretId": arn})
    assert status == 200
    assert by_arn["Name"] == "ecr-sync/dockerhub"
    status, binary = secrets_call(ecr, {"SecretId": "ecr-sync/binary"})
    assert status == 200
    assert base64.b64decode(binary["SecretBinary"]) == b"\x00\x01binary"
    status, error = secrets_call(ecr, {"SecretId": arn, "VersionStage": "AWSPREVIOUS"})
    assert status == 400
    assert error["__type"] == "ResourceNotFoundException"

    call = ecr.calls_to("GetSecretValue")[0]
    assert call.service == "secretsmanager"
    assert call.params == {"SecretId": "ecr-sync/dockerhub"}


def test_secret_request_signed_for_ecr_rejected(ecr):
    status, body = api_call(ecr, "GetSecretValue", {"SecretId": "x"},
                            target_prefix="secretsmanager", service="ecr")
    assert status == 403
    assert body["__type"] == "InvalidSignatureException"


def test_injected_throttling_seen_by_cli(ecr, aws):
    ecr.inject("DescribeRepositories", "ThrottlingException", count=1)
    throttled = aws("ecr", "describe-repositories", check=CLI_SERVICE_ERROR)
    assert "(ThrottlingException)" in throttled.stderr
    assert "Rate exceeded" in throttled.stderr
    aws("ecr", "describe-repositories")

    # With a second attempt allowed, the CLI retries past one throttle.
    ecr.clear_calls()
    ecr.inject("DescribeRepositories", "ThrottlingException", count=1)
    aws("ecr", "describe-repositories", env={"AWS_MAX_ATTEMPTS": "2"})
    assert [call.error for call in ecr.calls_to("DescribeRepositories")] == [
        "ThrottlingException", None]


@pytest.mark.parametrize("error, status", [("InternalServerError", 500),
                                           ("AccessDeniedException", 400)])
def test_injected_error_status(ecr, error, status):
    ecr.inject("ListImages", error, count=2)
    for _ in range(2):
        response_status, body = api_call(ecr, "ListImages", {"repositoryName": "emu/any"})
        assert response_status == status
        assert body["__type"] == error
    response_status, body = api_call(ecr, "ListImages", {"repositoryName": "emu/any"})
    assert body["__type"] == "RepositoryNotFoundException"


# Control plane through raw requests.

def test_unsigned_request_rejected(ecr):
    status, body = api_call(ecr, "DescribeRepositories", {}, sign=False)
    assert status == 403
    assert body["__type"] == "MissingAuthenticationTokenException"


def test_tampered_body_rejected(ecr):
    status, body = api_call(ecr, "DescribeRepositories", {"maxResults": 5},
                            tamper=lambda data: data.replace(b"5", b"6"))
    assert status == 403
    assert body["__type"] == "InvalidSignatureException"


def test_stale_signature_rejected(ecr):
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    status, body = api_call(ecr, "DescribeRepositories", {}, timestamp=past)
    assert status == 403
    assert body["__type"] == "InvalidSignatureException"
    assert "Signature expired" in body["message"]


def test_wrong_signing_service_rejected(ecr):
    status, body = api_call(ecr, "DescribeRepositories", {}, service="secretsmanager")
    assert status == 403
    assert body["__type"] == "InvalidSignatureException"


def test_wrong_content_type_rejected(ecr):
    status, body = api_call(ecr, "DescribeRepositories", {}, content_type="application/json")
    assert status == 400
    assert body["__type"] == "SerializationException"


def test_unknown_operation_rejected(ecr):
    status, body = api_call(ecr, "NoSuchOperation", {})
    assert status == 400
    assert body["__type"] == "UnknownOperationException"


def test_unknown_parameter_rejected(ecr):
    status, body = api_call(ecr, "DescribeRepositories", {"maxResult": 5})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert "maxResult" in body["message"]


def test_invalid_next_token_rejected(ecr):
    status, body = api_call(ecr, "DescribeRepositories", {"nextToken": "not-a-token"})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"


def test_error_type_prefix(ecr, aws):
    ecr.error_type_prefix = "com.amazonaws.ecr#"
    try:
        status, body = api_call(ecr, "DescribeRepositories",
                                {"repositoryNames": ["emu/not-there"]})
        assert status == 400
        assert body["__type"] == "com.amazonaws.ecr#RepositoryNotFoundException"
        # botocore strips everything up to '#'.
        result = aws("ecr", "describe-repositories", "--repository-names", "emu/not-there",
                     check=CLI_SERVICE_ERROR)
        assert "(RepositoryNotFoundException)" in result.stderr
    finally:
        ecr.error_type_prefix = None


# Data plane.

def test_registry_challenge_without_token(ecr):
    status, headers, body = registry_request(ecr, "GET", "/v2/")
    assert status == 401
    assert headers["WWW-Authenticate"] == (
        f'Basic realm="https://{ecr.registry_host}/",service="ecr.amazonaws.com"')
    assert error_codes(body) == ["UNAUTHORIZED"]


def test_registry_rejects_unknown_password(ecr):
    status, headers, _ = registry_request(ecr, "GET", "/v2/", password="made-up")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic ")


def test_registry_rejects_expired_token(ecr, aws):
    ecr.token_lifetime_seconds = 1
    try:
        token = aws("ecr", "get-authorization-token").json()["authorizationData"][0]
    finally:
        ecr.token_lifetime_seconds = 12 * 3600
    password = base64.b64decode(token["authorizationToken"]).decode().partition(":")[2]
    time.sleep(1.1)
    status, _, body = registry_request(ecr, "GET", "/v2/", password=password)
    assert status == 401
    assert "expired" in json.loads(body)["errors"][0]["message"]


def test_push_with_cli_token_and_skopeo(ecr, aws, tmp_path):
    source = new_repository_name("source")
    target = new_repository_name("copy")
    create_repository(ecr, source)
    aws("ecr", "create-repository", "--repository-name", target)
    client = ecr.registry_client()
    digest = push_small_image(client, source, "v1", "skopeo")

    token = aws("ecr", "get-authorization-token").json()["authorizationData"][0]
    credentials = base64.b64decode(token["authorizationToken"]).decode()
    host = urllib.parse.urlsplit(token["proxyEndpoint"]).netloc
    completed = subprocess.run(
        [SKOPEO, "copy", "--preserve-digests",
         "--src-tls-verify=false", "--dest-tls-verify=false",
         "--src-creds", credentials, "--dest-creds", credentials,
         f"docker://{host}/{source}:v1", f"docker://{host}/{target}:v1"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert completed.returncode == 0, completed.stderr

    listed = aws("ecr", "list-images", "--repository-name", target).json()
    assert listed["imageIds"] == [{"imageDigest": digest, "imageTag": "v1"}]


def test_push_to_uncreated_repository_rejected(ecr):
    client = ecr.registry_client()
    response = client.request("POST", "/v2/emu/not-created/blobs/uploads/",
                              headers={"Content-Length": "0"}, body=b"")
    assert response.status == 404
    error = json.loads(response.body)["errors"][0]
    assert error["code"] == "NAME_UNKNOWN"
    assert "'emu/not-created' does not exist" in error["message"]

    manifest = client.request("PUT", "/v2/emu/not-created/manifests/v1",
                              headers={"Content-Type": OCI_MANIFEST}, body=b"{}")
    assert manifest.status == 404


def test_location_rewritten_to_proxy(ecr):
    name = create_repository(ecr, new_repository_name("location"))["repositoryName"]
    client = ecr.registry_client()
    location = start_upload(client, name)
    assert location.startswith(f"{ecr.proxy_url}/v2/{name}/blobs/uploads/") or \
        location.startswith(f"/v2/{name}/blobs/uploads/")
    assert str(ecr.backing.port) not in location


def test_immutable_repository_rejects_retag(ecr, aws):
    name = new_repository_name("immutable")
    aws("ecr", "create-repository", "--repository-name", name,
        "--image-tag-mutability", "IMMUTABLE")
    client = ecr.registry_client()
    first = push_small_image(client, name, "v1", "first")
    assert push_small_image(client, name, "v1", "first") == first  # the same digest may be pushed again

    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = b"second layer\n"
    other = small_manifest(client.push_blob(name, config), len(config),
                           client.push_blob(name, layer), len(layer))
    response = client.request("PUT", f"/v2/{name}/manifests/v1",
                              headers={"Content-Type": OCI_MANIFEST}, body=other)
    assert response.status == 400
    assert json.loads(response.body) == {"errors": [{
        "code": "TAG_INVALID",
        "message": f"The image tag 'v1' already exists in the '{name}' repository and cannot "
                   "be overwritten because the repository is immutable.",
        "detail": None}]}
    assert ecr.tags(name) == {"v1": first}

    client.put_manifest(name, "v2", other, OCI_MANIFEST)
    aws("ecr", "put-image-tag-mutability", "--repository-name", name,
        "--image-tag-mutability", "MUTABLE")
    client.put_manifest(name, "v1", other, OCI_MANIFEST)
    assert ecr.tags(name)["v1"] == sha256_digest(other)


def test_upload_part_below_minimum_rejected(ecr):
    name = create_repository(ecr, new_repository_name("parts"))["repositoryName"]
    client = ecr.registry_client()
    location = start_upload(client, name)
    small = b"a" * (1024 * 1024)

    first = patch_part(client, location, small, 0)
    assert first.status == 202
    second = patch_part(client, first.headers["Location"], small, len(small))
    assert second.status == 400
    assert error_codes(second.body) == ["BLOB_UPLOAD_INVALID"]
    assert "smaller than the minimum" in json.loads(second.body)["errors"][0]["message"]


def test_upload_parts_at_minimum_accepted(ecr):
    name = create_repository(ecr, new_repository_name("parts-ok"))["repositoryName"]
    client = ecr.registry_client()
    parts = [b"b" * MIN_PART_SIZE, b"c" * 1000]
    rest = b"d" * 500
    data = b"".join(parts) + rest
    digest = sha256_digest(data)

    location = start_upload(client, name)
    offset = 0
    for part in parts:
        response = patch_part(client, location, part, offset)
        assert response.status == 202, response.body
        location = response.headers["Location"]
        offset += len(part)
    # The closing PUT may carry the rest of the data.
    finished = finish_upload(client, location, digest, rest)
    assert finished.status == 201, finished.body
    assert client.get_blob(name, digest) == data
    sizes = [request.body_bytes for request in ecr.registry_requests
             if request.repository == name and request.method == "PATCH"]
    assert sizes == [MIN_PART_SIZE, 1000]


def test_chunked_upload_streams(ecr):
    name = create_repository(ecr, new_repository_name("chunked"))["repositoryName"]
    _, password = ecr.registry_credentials()
    authorization = "Basic " + base64.b64encode(f"AWS:{password}".encode()).decode()
    client = RegistryClient(ecr.registry_host, "AWS", password)
    location = urllib.parse.urlsplit(start_upload(client, name))
    hasher = hashlib.sha256()

    def pieces():
        for index in range(6):
            piece = bytes([index]) * (1024 * 1024)
            hasher.update(piece)
            yield piece

    connection = http.client.HTTPConnection("127.0.0.1", ecr.proxy.port, timeout=30)
    try:
        connection.request("PATCH", f"{location.path}?{location.query}", body=pieces(),
                           headers={"Authorization": authorization,
                                    "Content-Type": "application/octet-stream"},
                           encode_chunked=True)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 202
    digest = "sha256:" + hasher.hexdigest()
    finished = finish_upload(client, response.headers["Location"], digest)
    assert finished.status == 201, finished.body
    assert client.blob_exists(name, digest)
    chunked = [request for request in ecr.registry_requests
               if request.repository == name and request.method == "PATCH"]
    assert chunked[-1].body_bytes == 6 * 1024 * 1024


@pytest.fixture(scope="module")
def multiarch_repository(ecr):
    """A repository holding the multi-arch fixture (index, children, attestations)."""
    namespace = "emu-fixtures"
    create_repository(ecr, f"{namespace}/multiarch")
    return fixtures.push_default_fixtures(ecr.registry_client(), namespace=namespace,
                                          kinds=("multiarch",))["multiarch"]


def test_list_images_tagged_and_untagged(aws, multiarch_repository):
    image = multiarch_repository
    tagged = aws("ecr", "list-images", "--repository-name", image.repository,
                 "--filter", "tagStatus=TAGGED").json()["imageIds"]
    assert tagged == [{"imageDigest": image.digest, "imageTag": image.tag}]

    untagged = aws("ecr", "list-images", "--repository-name", image.repository,
                   "--filter", "tagStatus=UNTAGGED").json()["imageIds"]
    assert sorted(entry["imageDigest"] for entry in untagged) == sorted(image.child_digests)
    assert all("imageTag" not in entry for entry in untagged)


def test_describe_images_by_tag(aws, multiarch_repository):
    image = multiarch_repository
    details = aws("ecr", "describe-images", "--repository-name", image.repository,
                  "--image-ids", f"imageTag={image.tag}").json()["imageDetails"]
    assert len(details) == 1
    assert details[0]["imageDigest"] == image.digest
    assert details[0]["imageTags"] == [image.tag]
    assert details[0]["imageManifestMediaType"] == image.media_type
    assert details[0]["imageSizeInBytes"] > 0

    missing = aws("ecr", "describe-images", "--repository-name", image.repository,
                  "--image-ids", "imageTag=no-such-tag", check=CLI_SERVICE_ERROR)
    assert "(ImageNotFoundException)" in missing.stderr


def push_tags(ecr, name, count):
    """Push one image to name under tags t0..t{count-1}; returns its digest."""
    client = ecr.registry_client()
    digest = push_small_image(client, name, "t0", name)
    manifest = client.get_manifest(name, "t0")
    for index in range(1, count):
        client.put_manifest(name, f"t{index}", manifest.body, manifest.media_type)
    return digest


def test_list_images_paginates(ecr, aws):
    name = create_repository(ecr, new_repository_name("many"))["repositoryName"]
    digest = push_tags(ecr, name, 5)
    ecr.clear_calls()

    listed = aws("ecr", "list-images", "--repository-name", name, "--page-size", "2").json()

    assert sorted(entry["imageTag"] for entry in listed["imageIds"]) == [
        f"t{index}" for index in range(5)]
    assert {entry["imageDigest"] for entry in listed["imageIds"]} == {digest}
    assert len(ecr.calls_to("ListImages")) == 3


def test_tags_list_paginates(ecr):
    name = create_repository(ecr, new_repository_name("tags"))["repositoryName"]
    push_tags(ecr, name, 5)
    password = ecr.registry_credentials()[1]

    seen = []
    path = f"/v2/{name}/tags/list?n=2"
    while path:
        status, headers, body = registry_request(ecr, "GET", path, password=password)
        assert status == 200, body
        seen.extend(json.loads(body)["tags"])
        link = headers.get("Link")
        path = link[1:link.index(">")] if link else None
    assert seen == [f"t{index}" for index in range(5)]

    status, _, body = registry_request(ecr, "GET", f"/v2/{name}/tags/list?n=1001",
                                       password=password)
    assert status == 400
    assert error_codes(body) == ["PAGINATION_NUMBER_INVALID"]


def test_batch_delete_image_by_tag(ecr, aws):
    name = create_repository(ecr, new_repository_name("delete"))["repositoryName"]
    client = ecr.registry_client()
    digest = push_small_image(client, name, "keep", "delete")
    manifest = client.get_manifest(name, "keep")
    client.put_manifest(name, "drop", manifest.body, manifest.media_type)

    result = aws("ecr", "batch-delete-image", "--repository-name", name,
                 "--image-ids", "imageTag=drop", "imageTag=absent").json()

    assert result["imageIds"] == [{"imageDigest": digest, "imageTag": "drop"}]
    assert [failure["failureCode"] for failure in result["failures"]] == ["ImageNotFound"]
    assert ecr.tags(name) == {"keep": digest}


def test_delete_repository_needs_force_when_not_empty(ecr, aws):
    name = create_repository(ecr, new_repository_name("remove"))["repositoryName"]
    push_small_image(ecr.registry_client(), name, "v1", "remove")

    refused = aws("ecr", "delete-repository", "--repository-name", name,
                  check=CLI_SERVICE_ERROR)
    assert "(RepositoryNotEmptyException)" in refused.stderr
    aws("ecr", "delete-repository", "--repository-name", name, "--force")

    assert ecr.repository(name) is None
    status, _, _ = registry_request(ecr, "GET", f"/v2/{name}/tags/list",
                                    password=ecr.registry_credentials()[1])
    assert status == 404


def test_repository_settings_updated(ecr):
    repository = create_repository(ecr, new_repository_name("settings"))
    name = repository["repositoryName"]
    arn = repository["repositoryArn"]

    status, body = api_call(ecr, "PutImageScanningConfiguration", {
        "repositoryName": name, "imageScanningConfiguration": {"scanOnPush": True}})
    assert status == 200, body
    status, body = api_call(ecr, "TagResource", {
        "resourceArn": arn, "tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})
    assert status == 200, body
    status, body = api_call(ecr, "UntagResource", {"resourceArn": arn, "tagKeys": ["a"]})
    assert status == 200, body

    status, body = api_call(ecr, "DescribeRepositories", {"repositoryNames": [name]})
    assert body["repositories"][0]["imageScanningConfiguration"] == {"scanOnPush": True}
    status, body = api_call(ecr, "ListTagsForResource", {"resourceArn": arn})
    assert body["tags"] == [{"Key": "b", "Value": "2"}]
    status, body = api_call(ecr, "ListTagsForResource",
                            {"resourceArn": arn.replace(name, "emu/none")})
    assert status == 400
    assert body["__type"] == "RepositoryNotFoundException"


def test_delete_lifecycle_policy(ecr):
    name = create_repository(ecr, new_repository_name("unpolicy"))["repositoryName"]
    status, body = api_call(ecr, "PutLifecyclePolicy",
                            {"repositoryName": name, "lifecyclePolicyText": VALID_POLICY})
    assert status == 200, body

    status, body = api_call(ecr, "DeleteLifecyclePolicy", {"repositoryName": name})
    assert status == 200, body
    assert body["lifecyclePolicyText"] == VALID_POLICY
    status, body = api_call(ecr, "GetLifecyclePolicy", {"repositoryName": name})
    assert status == 400
    assert body["__type"] == "LifecyclePolicyNotFoundException"


def test_batch_get_image_returns_manifest(ecr):
    name = create_repository(ecr, new_repository_name("get"))["repositoryName"]
    client = ecr.registry_client()
    digest = push_small_image(client, name, "v1", "get")
    manifest = client.get_manifest(name, "v1")

    status, body = api_call(ecr, "BatchGetImage", {
        "repositoryName": name, "imageIds": [{"imageTag": "v1"}, {"imageTag": "v9"}]})

    assert status == 200, body
    assert len(body["images"]) == 1
    assert body["images"][0]["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert body["images"][0]["imageManifest"].encode() == manifest.body
    assert body["images"][0]["imageManifestMediaType"] == OCI_MANIFEST
    assert [failure["failureCode"] for failure in body["failures"]] == ["ImageNotFound"]


def test_batch_delete_index_child_rejected(ecr, multiarch_repository):
    image = multiarch_repository
    child = image.child_digests[0]
    status, body = api_call(ecr, "BatchDeleteImage", {
        "repositoryName": image.repository, "imageIds": [{"imageDigest": child}]})
    assert status == 200, body
    assert body["imageIds"] == []
    assert [failure["failureCode"] for failure in body["failures"]] == [
        "ImageReferencedByManifestList"]
