# SPDX-License-Identifier: Apache-2.0
"""No secret reaches ecr-sync's stdout, stderr, report or error messages.

Verbose runs (-v, with --log-format text and json) of copy and sync use
every kind of credential the harness has. These are Basic passwords from
Docker's config.json, a credential helper, token-server tokens for pull and
push, and a Docker identity token. Sync reads credentials from an
environment variable, a file and Secrets Manager, and ECR runs use the
emulator's AWS keys, session token and registry passwords. Failing runs are
checked too: a wrong password, an expired ECR password, a wrong AWS secret
key, an unknown identity token, a broken config.json, and a registry that
echoes the credentials in its error message.

Secret values come from the servers that issue or check them: the token
server's issued tokens are recorded by wrapping its _issue method for the
test, and the ECR registry passwords are read from the emulator's state
after each run. Each value is searched as is, JSON-escaped and URL-encoded,
Basic credentials also as base64 of user:password, and JWTs also by their
payload and signature segments. Output must also contain no Authorization,
Basic, Bearer or SigV4 header value of any kind.
"""

import base64
import http.client
import itertools
import json
import re
import urllib.parse

import pytest

from harness import bigrepo, environment, hostile
from harness.client import RegistryClient
from harness.dockerconfig import basic_auth_entry, password_entry, write_docker_config
from harness.ecr import SESSION_CREDENTIALS

LOG_FORMATS = ("text", "json")
HEADER_VALUE = re.compile(
    r"(?i)\bbasic\s+[A-Za-z0-9+/]{12,}=*|\bbearer\s+[A-Za-z0-9._~+/-]{12,}"
    r"|authorization\s*[:=]|x-amz-security-token|\bcredential=[A-Z0-9]+/|signature=[0-9a-f]{64}")
SANITIZER_REPORT = re.compile(
    r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")
WRONG_PASSWORD = "wrong-password-9b2e71c4a0"
WRONG_SECRET_KEY = "WrongSecretKeyEXAMPLE/9b2e71c4a0d3f5a7c9e1b3d5"
UNKNOWN_IDENTITY_TOKEN = "unknown-identity-token-3f9c2a7e5b1d"

_numbers = itertools.count(1)


class Secrets:
    """Secret values by label, searched for in every form a leak could take."""

    def __init__(self):
        self.values = {}

    def add(self, label, value):
        if value:
            self.values[label] = value

    def add_basic(self, label, user, password):
        self.add(f"{label} password", password)
        self.add(f"{label} base64 user:password",
                 base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))

    def add_token(self, label, token):
        self.add(label, token)
        segments = token.split(".")
        # A JWT's header names the algorithm and the signer's public
        # certificate, which are no secret; its payload and signature are.
        if len(segments) == 3:
            self.add(f"{label} payload", segments[1])
            self.add(f"{label} signature", segments[2])

    def leaks(self, text):
        """Return the labels (with the form) of every secret found in text."""
        found = []
        for label, value in self.values.items():
            for form, encoded in encodings(value).items():
                if encoded in text:
                    found.append(f"{label} ({form})")
        return found


def encodings(value):
    escaped = json.dumps(value)[1:-1]
    return {"as is": value, "JSON-escaped": escaped,
            "JSON-escaped slashes": escaped.replace("/", "\\/"),
            "URL-encoded": urllib.parse.quote(value, safe="")}


def assert_no_secret(secrets, result, report=None, log_format="text", verbose=True):
    """Check stdout, stderr and the report for secrets and header values.

    verbose=False is for runs that stop before any debug line is logged.
    """
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    if report is not None and report.exists():
        outputs["report"] = report.read_text()
    assert len(secrets.values) > 0, "no secrets were collected"
    assert not SANITIZER_REPORT.search(result.stderr), "a sanitizer report is on stderr"
    for name, text in outputs.items():
        assert secrets.leaks(text) == [], f"secrets in {name}"
        match = HEADER_VALUE.search(text)
        assert match is None, f"a header value in {name}: {match.group(0) if match else ''}"
    if log_format == "json":
        for line in result.stderr.splitlines():
            assert json.loads(line)["msg"], f"not a JSON log line: {line}"
    if verbose:
        assert re.search(r"debug", result.stderr), "the run logged no debug lines despite -v"


@pytest.fixture
def issued_tokens(token_server, monkeypatch):
    """Record every token and refresh token that the token server issues during the test."""
    tokens = []
    issue = token_server._issue

    def recording_issue(*args, **kwargs):
        body, granted = issue(*args, **kwargs)
        tokens.append(body["token"])
        if "refresh_token" in body:
            tokens.append(body["refresh_token"])
        return body, granted

    monkeypatch.setattr(token_server, "_issue", recording_issue)
    return tokens


def ecr_registry_passwords(ecr_emulator):
    """Return every registry password the emulator's GetAuthorizationToken has issued."""
    state = ecr_emulator.state
    with state.lock:
        return list(state._passwords)


def base_secrets(issued_tokens):
    """Return the secrets every run may touch: the fixed passwords and the issued tokens."""
    secrets = Secrets()
    secrets.add_basic("target", environment.TARGET_USER, environment.TARGET_PASSWORD)
    secrets.add_basic("source", environment.SOURCE_USER, environment.SOURCE_PASSWORD)
    for index, token in enumerate(issued_tokens):
        secrets.add_token(f"issued token {index}", token)
    return secrets


def add_aws_secrets(secrets, ecr_emulator, credentials):
    secrets.add("AWS secret access key", credentials.secret_access_key)
    secrets.add("AWS session token", credentials.session_token)
    for index, password in enumerate(ecr_registry_passwords(ecr_emulator)):
        secrets.add_basic(f"ECR registry password {index}", "AWS", password)


def repository(label):
    return f"e2e/secrets-{label}-{next(_numbers)}"


def fetch_refresh_token(token_server):
    """Log in to the token server like `docker login` and return its refresh token."""
    query = urllib.parse.urlencode({"service": token_server.service, "offline_token": "true",
                                    "client_id": "ecr-sync-tests",
                                    "scope": "repository:fixtures/schema2:pull"})
    credentials = base64.b64encode(
        f"{environment.SOURCE_USER}:{environment.SOURCE_PASSWORD}".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", token_server.port, timeout=10)
    try:
        connection.request("GET", f"/token?{query}",
                           headers={"Authorization": f"Basic {credentials}"})
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 200
    return body["refresh_token"]


# Copies that succeed.

@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_copy_to_basic_target(log_format, images, source, basic_target, issued_tokens,
                              ecr_sync):
    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["schema2"].reference(source.host),
                      f"{basic_target.host}/{repository('basic')}:1", check=True)

    assert issued_tokens, "the token server issued no token"
    assert_no_secret(base_secrets(issued_tokens), result, log_format=log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_push_with_token_credentials(log_format, images, source, token_server, issued_tokens,
                                     ecr_sync):
    # Source to source: pull and push tokens for one account, and a mount.
    grants_before = len(token_server.grants)

    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["multiarch"].reference(source.host),
                      f"{source.host}/{repository('push')}:1", check=True)

    pushes = [grant for grant in token_server.grants[grants_before:]
              if any(scope.endswith("push") for scope in grant["scopes"])]
    assert pushes, "no push token was issued"
    assert_no_secret(base_secrets(issued_tokens), result, log_format=log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_identity_token(log_format, images, source, target, token_server, issued_tokens,
                        ecr_sync, tmp_path):
    refresh_token = fetch_refresh_token(token_server)
    config = write_docker_config(tmp_path / "docker", {source.host: {
        "auth": base64.b64encode(b"<token>:").decode(), "identitytoken": refresh_token}})
    grants_before = len(token_server.grants)

    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["schema2"].reference(source.host),
                      f"{target.host}/{repository('identity')}:1",
                      env={"DOCKER_CONFIG": config}, check=True)

    accounts = {grant["account"] for grant in token_server.grants[grants_before:]}
    assert accounts == {environment.SOURCE_USER}, "the identity token was not used"
    secrets = base_secrets(issued_tokens)
    secrets.add("identity token", refresh_token)
    assert_no_secret(secrets, result, log_format=log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_copy_to_ecr(log_format, images, source, ecr_emulator, aws_environment, issued_tokens,
                     ecr_sync):
    name = repository("ecr").replace("e2e/", "ecr-e2e/")
    passwords_before = len(ecr_registry_passwords(ecr_emulator))

    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["schema2"].reference(source.host),
                      f"{ecr_emulator.registry_hostname()}/{name}:1",
                      env=aws_environment(SESSION_CREDENTIALS), check=True)

    assert len(ecr_registry_passwords(ecr_emulator)) > passwords_before
    secrets = base_secrets(issued_tokens)
    add_aws_secrets(secrets, ecr_emulator, SESSION_CREDENTIALS)
    assert_no_secret(secrets, result, log_format=log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_credential_helper(log_format, images, source, basic_target, issued_tokens, ecr_sync,
                           tmp_path):
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-secrets-e2e"
    helper.write_text(
        "#!/bin/sh\nread server\n"
        f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{environment.TARGET_USER}\","
        f"\"Secret\":\"{environment.TARGET_PASSWORD}\"}}' \"$server\"\n")
    helper.chmod(0o755)
    config_dir = tmp_path / "docker-helper"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps(
        {"credHelpers": {basic_target.host: "secrets-e2e"}}))

    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["schema2"].reference(source.host),
                      f"{basic_target.host}/{repository('helper')}:1",
                      env={"DOCKER_CONFIG": str(config_dir),
                           "PATH": f"{helper_dir}:/usr/bin:/bin"}, check=True)

    assert_no_secret(base_secrets(issued_tokens), result, log_format=log_format)


# Syncs that succeed, with --report.

def write_credentials_config(tmp_path, form, source_host, target_host, repository_path, prefix,
                             ecr_emulator, password=environment.TARGET_PASSWORD):
    """Write a sync configuration whose source credentials come in one of three forms.

    Returns (config path, environment overrides).
    """
    overrides = {"DOCKER_CONFIG": str(tmp_path / "empty-docker")}
    (tmp_path / "empty-docker").mkdir(exist_ok=True)
    if form == "env":
        credentials = "{username_env: SRC_USER, password_env: SRC_PASSWORD}"
        overrides.update({"SRC_USER": environment.TARGET_USER, "SRC_PASSWORD": password})
    elif form == "file":
        (tmp_path / "user").write_text(environment.TARGET_USER + "\n")
        (tmp_path / "password").write_text(password + "\n")
        credentials = "{username_file: user, password_file: password}"
    else:
        secret_name = f"registry/{prefix.replace('/', '-')}"
        ecr_emulator.preload_secret(secret_name, json.dumps(
            {"username": environment.TARGET_USER, "password": password}))
        credentials = f"{{aws_secret: {secret_name}}}"
    config = tmp_path / "secrets.yaml"
    config.write_text(
        f"target:\n  registry: {target_host}\n  repository_prefix: {prefix}\n"
        f"registries:\n  {source_host}:\n    credentials: {credentials}\n"
        f"images:\n  - source: {source_host}/{repository_path}\n")
    return config, overrides


@pytest.fixture(scope="module")
def private_image(servers):
    """A small image at the Basic-auth registry, which needs credentials to pull."""
    client = servers.basic_target_client()
    name = "private/secrets"
    manifest, _ = bigrepo.push_small_image(client, name, label="secrets")
    client.put_manifest(name, "1", manifest, "application/vnd.oci.image.manifest.v1+json")
    return name


@pytest.mark.parametrize("form", ["env", "file", "secret"])
@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_sync_config_credentials(form, log_format, private_image, servers, ecr_emulator,
                                 aws_environment, issued_tokens, ecr_sync, tmp_path):
    prefix = repository(f"sync-{form}")
    config, overrides = write_credentials_config(tmp_path, form, servers.basic_target.host,
                                                 servers.target.host, private_image, prefix,
                                                 ecr_emulator)
    report = tmp_path / "report.json"

    result = ecr_sync("-v", "--log-format", log_format, "sync", "--config", config,
                      "--report", report, env={**aws_environment(), **overrides}, check=0)

    copied = RegistryClient(servers.target.host).head_manifest(f"{prefix}/{private_image}", "1")
    assert copied[0] == 200
    secrets = base_secrets(issued_tokens)
    secrets.add("AWS secret access key", ecr_emulator.credentials.secret_access_key)
    assert_no_secret(secrets, result, report, log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_sync_to_ecr(log_format, images, source, ecr_emulator, aws_environment, issued_tokens,
                     ecr_sync, tmp_path):
    prefix = repository("sync-ecr").replace("e2e/", "ecr-e2e/")
    config = tmp_path / "ecr.yaml"
    config.write_text(
        f"target:\n  ecr:\n    region: {ecr_emulator.region}\n"
        f"    account: \"{ecr_emulator.account_id}\"\n  repository_prefix: {prefix}\n"
        f"registries:\n  {source.host}:\n"
        "    credentials: {username_env: SRC_USER, password_env: SRC_PASSWORD}\n"
        f"images:\n  - source: {source.host}/{images['schema2'].repository}\n")
    report = tmp_path / "report.json"
    variables = aws_environment(SESSION_CREDENTIALS)
    variables.update({"SRC_USER": environment.SOURCE_USER,
                      "SRC_PASSWORD": environment.SOURCE_PASSWORD})

    result = ecr_sync("-v", "--log-format", log_format, "sync", "--config", config,
                      "--report", report, env=variables, check=0)

    assert json.loads(report.read_text())["totals"]["failed"] == 0
    secrets = base_secrets(issued_tokens)
    add_aws_secrets(secrets, ecr_emulator, SESSION_CREDENTIALS)
    assert_no_secret(secrets, result, report, log_format)


# Runs that fail: the error messages must not carry the secret either.

@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_wrong_password_copy(log_format, images, source, basic_target, issued_tokens, ecr_sync,
                             tmp_path):
    config = write_docker_config(tmp_path / "docker", {
        basic_target.host: basic_auth_entry(environment.TARGET_USER, WRONG_PASSWORD),
        source.host: password_entry(environment.SOURCE_USER, environment.SOURCE_PASSWORD)})

    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["schema2"].reference(source.host),
                      f"{basic_target.host}/{repository('wrong')}:1",
                      env={"DOCKER_CONFIG": config}, check=1)

    assert re.search(r"(?i)401|credentials|unauthori[sz]ed", result.stderr)
    secrets = base_secrets(issued_tokens)
    secrets.add_basic("wrong", environment.TARGET_USER, WRONG_PASSWORD)
    assert_no_secret(secrets, result, log_format=log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_wrong_password_sync(log_format, private_image, servers, ecr_emulator, aws_environment,
                             issued_tokens, ecr_sync, tmp_path):
    prefix = repository("sync-wrong")
    config, overrides = write_credentials_config(tmp_path, "env", servers.basic_target.host,
                                                 servers.target.host, private_image, prefix,
                                                 ecr_emulator, password=WRONG_PASSWORD)
    report = tmp_path / "report.json"

    result = ecr_sync("-v", "--log-format", log_format, "sync", "--config", config,
                      "--report", report, env={**aws_environment(), **overrides}, check=1)

    assert report.exists(), "no report after a failed run"
    secrets = base_secrets(issued_tokens)
    secrets.add_basic("wrong", environment.TARGET_USER, WRONG_PASSWORD)
    assert_no_secret(secrets, result, report, log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_expired_ecr_password(log_format, images, source, ecr_emulator, aws_environment,
                              issued_tokens, ecr_sync):
    # Every password issued during this run has already expired, so the data
    # plane rejects it even after ecr-sync requests a new one.
    name = repository("expired").replace("e2e/", "ecr-e2e/")
    lifetime = ecr_emulator.token_lifetime_seconds
    ecr_emulator.token_lifetime_seconds = -60
    try:
        result = ecr_sync("-v", "--log-format", log_format, "copy",
                          images["schema2"].reference(source.host),
                          f"{ecr_emulator.registry_hostname()}/{name}:1",
                          env=aws_environment(SESSION_CREDENTIALS), check=1)
    finally:
        ecr_emulator.token_lifetime_seconds = lifetime

    assert re.search(r"(?i)401|credentials|expired|unauthori[sz]ed", result.stderr)
    secrets = base_secrets(issued_tokens)
    add_aws_secrets(secrets, ecr_emulator, SESSION_CREDENTIALS)
    assert_no_secret(secrets, result, log_format=log_format)


def test_expired_ecr_password_message(images, source, ecr_emulator, aws_environment, ecr_sync):
    name = repository("expired-message").replace("e2e/", "ecr-e2e/")
    lifetime = ecr_emulator.token_lifetime_seconds
    ecr_emulator.token_lifetime_seconds = -60
    try:
        result = ecr_sync("copy", images["schema2"].reference(source.host),
                          f"{ecr_emulator.registry_hostname()}/{name}:1",
                          env=aws_environment(SESSION_CREDENTIALS), check=1)
    finally:
        ecr_emulator.token_lifetime_seconds = lifetime

    assert "Docker config" not in result.stderr
    assert re.search(r"GetAuthorizationToken|AWS|ECR", result.stderr)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_wrong_aws_secret_key(log_format, images, source, ecr_emulator, aws_environment,
                              issued_tokens, ecr_sync):
    name = repository("wrong-aws").replace("e2e/", "ecr-e2e/")

    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["schema2"].reference(source.host),
                      f"{ecr_emulator.registry_hostname()}/{name}:1",
                      env=aws_environment(AWS_SECRET_ACCESS_KEY=WRONG_SECRET_KEY), check=1)

    assert re.search(r"(?i)signature|credentials|denied", result.stderr)
    secrets = base_secrets(issued_tokens)
    secrets.add("wrong AWS secret access key", WRONG_SECRET_KEY)
    secrets.add("AWS secret access key", ecr_emulator.credentials.secret_access_key)
    assert_no_secret(secrets, result, log_format=log_format)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_unknown_identity_token(log_format, images, source, target, issued_tokens, ecr_sync,
                                tmp_path):
    config = write_docker_config(tmp_path / "docker", {source.host: {
        "auth": base64.b64encode(b"<token>:").decode(),
        "identitytoken": UNKNOWN_IDENTITY_TOKEN}})

    result = ecr_sync("-v", "--log-format", log_format, "copy",
                      images["schema2"].reference(source.host),
                      f"{target.host}/{repository('bad-identity')}:1",
                      env={"DOCKER_CONFIG": config}, check=1)

    assert re.search(r"(?i)401|credentials|token", result.stderr)
    secrets = base_secrets(issued_tokens)
    secrets.add("identity token", UNKNOWN_IDENTITY_TOKEN)
    assert_no_secret(secrets, result, log_format=log_format)


# Each case: the text of config.json for the Basic-auth target's HOST, and the
# secret it contains.
BROKEN_DOCKER_CONFIGS = {
    "unquoted-password": ('{"auths":{"HOST":{"username":"mirror","password": s3cretUnquoted1}}}',
                          "s3cretUnquoted1"),
    "truncated-password": ('{"auths":{"HOST":{"username":"mirror","password":"s3cretTruncated2',
                           "s3cretTruncated2"),
    "auth-without-colon": ('{"auths":{"HOST":{"auth":"'
                           + base64.b64encode(b"s3cretNoColon3").decode() + '"}}}',
                           "s3cretNoColon3"),
    "auth-not-base64": ('{"auths":{"HOST":{"auth":"!!s3cretNotBase64!!"}}}',
                        "!!s3cretNotBase64!!"),
}


@pytest.mark.parametrize("case", BROKEN_DOCKER_CONFIGS)
def test_broken_docker_config(case, images, source, basic_target, issued_tokens, ecr_sync,
                              tmp_path):
    text, secret = BROKEN_DOCKER_CONFIGS[case]
    config_dir = tmp_path / "docker-broken"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(text.replace("HOST", basic_target.host))

    result = ecr_sync("-v", "copy", images["schema2"].reference(source.host),
                      f"{basic_target.host}/{repository('broken-config')}:1",
                      env={"DOCKER_CONFIG": str(config_dir)})

    assert result.returncode in (1, 2)
    assert "config.json" in result.stderr or "401" in result.stderr
    secrets = base_secrets(issued_tokens)
    secrets.add("secret in config.json", secret)
    secrets.add("base64 of the secret", base64.b64encode(secret.encode()).decode())
    assert_no_secret(secrets, result, verbose=False)


@pytest.fixture
def echoing_stub(log_dir):
    with hostile.HostileStub(log_dir, name=f"secrets-echo-{next(_numbers)}") as started:
        yield started


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_registry_echoing_credentials(log_format, echoing_stub, target, issued_tokens, ecr_sync,
                                      tmp_path):
    # Some servers put the request's Authorization header in their error
    # messages; ecr-sync shows registry messages, so it must keep its own
    # credentials out of them.
    user, password = "echo-user", "echoed-s3cret-password-6a1c"
    credentials = (user, password)

    def deny(request):
        return hostile.error_response(403, "DENIED", "access denied for "
                                      f"'{request.headers.get('Authorization')}' "
                                      f"(user {user}, password {password})")
    # HEAD succeeds so that the GET, whose error body ecr-sync reads, follows.
    manifest = hostile.oci_manifest()
    echoing_stub.serve_ping(credentials)
    echoing_stub.serve_manifest("app/x", "1", manifest, credentials=credentials)
    echoing_stub.add_route("GET", r"/v2/.+/manifests/.+", hostile.require_basic(deny, credentials))
    config = write_docker_config(tmp_path / "docker-echo",
                                 {echoing_stub.host: basic_auth_entry(user, password)})

    result = ecr_sync("-v", "--log-format", log_format, "copy", f"{echoing_stub.host}/app/x:1",
                      f"{target.host}/{repository('echo')}:1", env={"DOCKER_CONFIG": config},
                      check=1)

    assert echoing_stub.requests_to(r"/v2/app/x/manifests/1", method="GET"), "no manifest GET"
    assert echoing_stub.authorization_values(), "ecr-sync sent no credentials to the stub"
    assert re.search(r"(?i)denied|403", result.stderr)
    secrets = base_secrets(issued_tokens)
    secrets.add_basic("echoed", user, password)
    assert_no_secret(secrets, result, log_format=log_format)


# The checks themselves.

def test_secret_search_finds_every_form():
    secrets = Secrets()
    secrets.add_basic("sample", "user", "pa/ss word")
    secrets.add_token("sample token", "aaaa.bbbbbbbb.cccccccc")
    texts = ["x pa/ss word x", 'x "pa\\/ss word" x', "x pa%2Fss%20word x",
             "x " + base64.b64encode(b"user:pa/ss word").decode() + " x",
             "x bbbbbbbb x", "x cccccccc x"]

    for text in texts:
        assert secrets.leaks(text), f"no secret found in {text!r}"
    assert secrets.leaks("x aaaa x") == []
    assert HEADER_VALUE.search("Authorization: Bearer abcdefghijklmnop")
    assert HEADER_VALUE.search('{"header": "Basic dXNlcjpwYXNzd29yZA=="}')
    assert HEADER_VALUE.search("calling ecr:GetAuthorizationToken failed") is None
