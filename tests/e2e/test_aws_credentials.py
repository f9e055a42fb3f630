# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of the AWS credential chain (src/aws/credentials.c).

They run aws-credentials-tool, which resolves credentials with the chain and
prints the source, the access key id, whether a session token is present and
the expiration. The sources are the loopback mocks of harness/aws_mocks.py:
STS (SigV4 verified with botocore), SSO, the container endpoint and IMDSv2.

Every run gets an environment built from scratch: HOME, AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE point into the test's temporary folder, and
AWS_EC2_METADATA_DISABLED=true unless the test points
AWS_EC2_METADATA_SERVICE_ENDPOINT at its own mock. No request leaves
127.0.0.1. After every run, no secret any mock issued or accepted may appear
in the tool's stdout or stderr.

Environment:
  AWS_CREDENTIALS_TOOL  the tool (default: build/tests/unit/aws-credentials-tool)
"""

import datetime
import hashlib
import json
import os
import re
import subprocess
import threading
import time

import pytest

from harness.aws_mocks import ContainerMock, ImdsMock, SsoMock, StsMock

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL_TIMEOUT_SECONDS = 60
ROLE_ARN = "arn:aws:iam::123456789012:role/ecr-sync"
BASE_KEY_ID = "AKIAEXAMPLEBASE00001"
BASE_SECRET = "base-secret-" + "x" * 28
# Exit status of the tool: 10 + the es_error_code.
EXIT_INVALID, EXIT_NOT_FOUND, EXIT_AUTH, EXIT_PROTOCOL = 11, 12, 13, 18
FETCH_LINE = re.compile(r"^fetch (?P<label>[\d.]+): access_key_id=(?P<key>\S+) "
                        r"session_token=(?P<token>present|absent) expiration=(?P<expiration>\S+)$")


def tool_path():
    return os.environ.get("AWS_CREDENTIALS_TOOL") or os.path.join(
        REPOSITORY_ROOT, "build", "tests", "unit", "aws-credentials-tool")


class ToolResult:
    def __init__(self, completed, command):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.command = command

    @property
    def source(self):
        match = re.search(r"^source: (.*)$", self.stdout, re.MULTILINE)
        return match.group(1) if match else None

    @property
    def fetches(self):
        return [FETCH_LINE.match(line).groupdict() for line in self.stdout.splitlines()
                if FETCH_LINE.match(line)]

    def describe(self):
        return (f"$ {' '.join(self.command)}\nexit status {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}")


class AwsWorld:
    """A private HOME with AWS config files, an environment, and the mocks of one test."""

    def __init__(self, root):
        self.home = root / "home"
        (self.home / ".aws" / "sso" / "cache").mkdir(parents=True)
        self.config_path = self.home / ".aws" / "config"
        self.credentials_path = self.home / ".aws" / "credentials"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "AWS_CONFIG_FILE": str(self.config_path),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_path),
            "AWS_EC2_METADATA_DISABLED": "true",
            "LC_ALL": "C.UTF-8",
        }
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        self.mocks = []
        self.extra_secrets = {BASE_SECRET}
        self.runs = []

    def mock(self, server):
        self.mocks.append(server.start())
        return server

    def write_config(self, text):
        self.config_path.write_text(text)

    def write_credentials(self, text):
        self.credentials_path.write_text(text)

    def write_file(self, name, text, mode=0o600):
        path = self.home / name
        path.write_text(text)
        path.chmod(mode)
        return path

    def secrets(self):
        found = set(self.extra_secrets)
        for server in self.mocks:
            found |= server.secrets()
        return {secret for secret in found if secret}

    def run(self, *args, env=None):
        command = [tool_path(), *args]
        run_env = dict(self.env)
        run_env.update(env or {})
        run_env = {name: value for name, value in run_env.items() if value is not None}
        completed = subprocess.run(command, env=run_env, capture_output=True, text=True,
                                   timeout=TOOL_TIMEOUT_SECONDS)
        result = ToolResult(completed, command)
        self.runs.append(result)
        output = result.stdout + result.stderr
        for secret in self.secrets():
            assert secret not in output, f"a secret reached the output\n{result.describe()}"
        assert "AddressSanitizer" not in result.stderr, result.describe()
        assert "runtime error:" not in result.stderr, result.describe()
        return result

    def stop(self):
        for server in self.mocks:
            server.stop()


@pytest.fixture
def world(tmp_path):
    if not os.access(tool_path(), os.X_OK):
        pytest.fail(f"aws-credentials-tool not found at {tool_path()}: build it with ninja, or "
                    f"set AWS_CREDENTIALS_TOOL")
    created = AwsWorld(tmp_path)
    yield created
    created.stop()


def assert_ok(result):
    assert result.returncode == 0, result.describe()


def assert_fails(result, status, *fragments):
    assert result.returncode == status, result.describe()
    for fragment in fragments:
        assert fragment in result.stderr, result.describe()


def base_credentials_file(profile="base"):
    return (f"[{profile}]\naws_access_key_id = {BASE_KEY_ID}\n"
            f"aws_secret_access_key = {BASE_SECRET}\n")


def expiration_text(credentials):
    return credentials.expiration_text()


# ---- Environment and static profiles ----


def test_environment_keys(world):
    result = world.run(env={"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT00001",
                            "AWS_SECRET_ACCESS_KEY": BASE_SECRET})
    assert_ok(result)
    assert result.source == "environment"
    assert result.fetches == [{"label": "1", "key": "AKIAENVIRONMENT00001", "token": "absent",
                               "expiration": "none"}]


def test_environment_session_token(world):
    world.extra_secrets.add("environment-session-token")
    result = world.run(env={"AWS_ACCESS_KEY_ID": "ASIAENVIRONMENT00001",
                            "AWS_SECRET_ACCESS_KEY": BASE_SECRET,
                            "AWS_SESSION_TOKEN": "environment-session-token",
                            "AWS_CREDENTIAL_EXPIRATION": "2040-01-02T03:04:05Z"})
    assert_ok(result)
    assert result.fetches[0]["token"] == "present"
    assert result.fetches[0]["expiration"] == "2040-01-02T03:04:05Z"


@pytest.mark.parametrize("present, missing", [
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
])
def test_partial_environment_fails(world, present, missing):
    result = world.run(env={present: BASE_SECRET if "SECRET" in present else "AKIAPARTIAL"})
    assert_fails(result, EXIT_INVALID, f"{present} is set but {missing} is not")


def test_profile_static_keys(world):
    world.write_credentials(base_credentials_file("dev"))
    result = world.run(env={"AWS_PROFILE": "dev"})
    assert_ok(result)
    assert result.source == "profile 'dev'"
    assert result.fetches[0]["key"] == BASE_KEY_ID
    assert result.fetches[0]["token"] == "absent"


def test_environment_wins_over_profile(world):
    world.write_credentials(base_credentials_file("default"))
    result = world.run(env={"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT00001",
                            "AWS_SECRET_ACCESS_KEY": BASE_SECRET})
    assert_ok(result)
    assert result.source == "environment"


def test_profile_flag_wins_over_environment(world):
    world.write_credentials(base_credentials_file("dev"))
    result = world.run("--profile", "dev", env={"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT00001",
                                               "AWS_SECRET_ACCESS_KEY": BASE_SECRET})
    assert_ok(result)
    assert result.source == "profile 'dev'"
    assert result.fetches[0]["key"] == BASE_KEY_ID


def test_missing_named_profile_fails(world):
    world.write_credentials(base_credentials_file("default"))
    result = world.run(env={"AWS_PROFILE": "nope"})
    assert_fails(result, EXIT_NOT_FOUND, "AWS profile 'nope' not found in")


def test_config_syntax_error_names_file_and_line(world):
    world.write_config("[default]\nregion = eu-west-1\nthis is not ini\n")
    result = world.run()
    assert_fails(result, EXIT_INVALID, f"{world.config_path}:3: expected 'key = value'")


def test_nothing_configured_lists_sources(world):
    result = world.run()
    assert_fails(result, EXIT_NOT_FOUND, "no AWS credentials found; tried environment",
                 "web identity", "container", "EC2 instance metadata (disabled by "
                 "AWS_EC2_METADATA_DISABLED)")


def test_region_resolution(world):
    world.write_config("[default]\nregion = eu-central-1\n[profile dev]\nregion = ap-south-1\n")
    assert world.run("--region").stdout == "region: eu-central-1\n"
    assert world.run("--region", env={"AWS_PROFILE": "dev"}).stdout == "region: ap-south-1\n"
    assert world.run("--region", env={"AWS_DEFAULT_REGION": "us-west-2"}).stdout == \
        "region: us-west-2\n"
    assert world.run("--region", env={"AWS_REGION": "us-east-2",
                                      "AWS_DEFAULT_REGION": "us-west-2"}).stdout == \
        "region: us-east-2\n"


# ---- AssumeRole ----


def sts_world(world, region="eu-west-1", lifetime=3600):
    sts = world.mock(StsMock(region=region, lifetime=lifetime))
    sts.add_source_credentials(BASE_KEY_ID, BASE_SECRET)
    world.env["AWS_ENDPOINT_URL_STS"] = sts.url
    world.env["AWS_REGION"] = region
    return sts


def test_assume_role_via_source_profile(world):
    sts = sts_world(world)
    world.write_credentials(base_credentials_file())
    world.write_config(f"[profile dev]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n"
                       f"role_session_name = nightly-sync\nexternal_id = ext-123\n"
                       f"duration_seconds = 1800\n")
    result = world.run("--profile", "dev")
    assert_ok(result)
    assert result.source == "profile 'dev' (assume role)"
    issued = sts.issued[0]
    assert result.fetches == [{"label": "1", "key": issued.access_key_id, "token": "present",
                               "expiration": expiration_text(issued)}]
    (call,) = sts.calls_of("AssumeRole")
    assert call.status == 200
    form = call.form()
    assert form["RoleArn"] == ROLE_ARN
    assert form["RoleSessionName"] == "nightly-sync"
    assert form["ExternalId"] == "ext-123"
    assert form["DurationSeconds"] == "1800"
    assert call.headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={BASE_KEY_ID}/")
    assert "/eu-west-1/sts/aws4_request" in call.headers["authorization"]


def test_assume_role_default_session_name(world):
    sts = sts_world(world, region="us-east-1")
    del world.env["AWS_REGION"]
    world.write_credentials(base_credentials_file())
    world.write_config(f"[default]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n")
    assert_ok(world.run())
    (call,) = sts.calls_of("AssumeRole")
    assert re.fullmatch(r"ecr-sync-\d+", call.form()["RoleSessionName"])
    assert "ExternalId" not in call.form()
    assert "/us-east-1/sts/aws4_request" in call.headers["authorization"]


def test_assume_role_chain(world):
    sts = sts_world(world)
    world.write_credentials(base_credentials_file())
    world.write_config(f"[profile outer]\nrole_arn = {ROLE_ARN}-outer\nsource_profile = inner\n"
                       f"[profile inner]\nrole_arn = {ROLE_ARN}-inner\nsource_profile = base\n")
    result = world.run("--profile", "outer")
    assert_ok(result)
    first, second = sts.calls_of("AssumeRole")
    assert first.form()["RoleArn"] == f"{ROLE_ARN}-inner"
    assert second.form()["RoleArn"] == f"{ROLE_ARN}-outer"
    # The outer role is assumed with the inner role's temporary credentials.
    inner = sts.issued[0]
    assert f"Credential={inner.access_key_id}/" in second.headers["authorization"]
    assert second.headers["x-amz-security-token"] == inner.session_token
    assert result.fetches[0]["key"] == sts.issued[1].access_key_id


def test_assume_role_with_credential_source_environment(world):
    sts = sts_world(world)
    world.write_config(f"[profile dev]\nrole_arn = {ROLE_ARN}\n"
                       f"credential_source = Environment\n")
    result = world.run("--profile", "dev", env={"AWS_ACCESS_KEY_ID": BASE_KEY_ID,
                                               "AWS_SECRET_ACCESS_KEY": BASE_SECRET})
    assert_ok(result)
    assert result.source == "profile 'dev' (assume role)"
    assert len(sts.calls_of("AssumeRole")) == 1


def test_assume_role_source_profile_loop(world):
    world.write_config("[profile a]\nrole_arn = r\nsource_profile = b\n"
                       "[profile b]\nrole_arn = r\nsource_profile = a\n")
    result = world.run("--profile", "a")
    assert_fails(result, EXIT_INVALID, "source_profile loop: 'a' -> 'b' -> 'a'")


def test_assume_role_denied(world):
    sts = sts_world(world)
    sts.deny_role(ROLE_ARN, 'User: arn:aws:iam::123456789012:user/ci is not authorized to '
                            'perform: sts:AssumeRole on "role" & <more>')
    world.write_credentials(base_credentials_file())
    world.write_config(f"[default]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n")
    result = world.run()
    assert_fails(result, EXIT_AUTH, f'STS AssumeRole for "{ROLE_ARN}": 403 AccessDenied: User: '
                 'arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole '
                 'on "role" & <more>')


def test_assume_role_wrong_secret_fails_signature(world):
    """Guard: the mock really checks signatures, so the passing tests mean something."""
    sts = sts_world(world)
    world.write_credentials(f"[base]\naws_access_key_id = {BASE_KEY_ID}\n"
                            f"aws_secret_access_key = not-the-{BASE_SECRET}\n")
    world.extra_secrets.add(f"not-the-{BASE_SECRET}")
    world.write_config(f"[default]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n")
    result = world.run()
    assert_fails(result, EXIT_AUTH, "403 SignatureDoesNotMatch")
    assert sts.issued == []


def test_assume_role_retries_throttling(world):
    sts = sts_world(world)
    sts.fail_next(400, "Throttling", "Rate exceeded", count=2)
    world.write_credentials(base_credentials_file())
    world.write_config(f"[default]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n")
    result = world.run()
    assert_ok(result)
    assert [call.status for call in sts.calls] == [400, 400, 200]


# ---- Web identity ----


def web_identity_world(world):
    sts = sts_world(world)
    token = "eyJhbGciOiJSUzI1NiJ9.web-identity-token." + "t" * 40
    sts.accept_web_identity_token(token)
    token_file = world.write_file("web-identity-token", token + "\n")
    return sts, token, token_file


def test_web_identity_from_environment(world):
    sts, token, token_file = web_identity_world(world)
    result = world.run(env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
                            "AWS_ROLE_ARN": ROLE_ARN, "AWS_ROLE_SESSION_NAME": "irsa-session"})
    assert_ok(result)
    assert result.source == "web identity"
    (call,) = sts.calls_of("AssumeRoleWithWebIdentity")
    assert "authorization" not in call.headers
    form = call.form()
    assert form["WebIdentityToken"] == token
    assert form["RoleArn"] == ROLE_ARN
    assert form["RoleSessionName"] == "irsa-session"
    assert call.query == {}, "the token must not travel in the URL"
    assert result.fetches[0]["key"] == sts.issued[0].access_key_id


def test_web_identity_from_profile(world):
    sts, token, token_file = web_identity_world(world)
    world.write_config(f"[profile eks]\nweb_identity_token_file = {token_file}\n"
                       f"role_arn = {ROLE_ARN}\nrole_session_name = from-profile\n")
    result = world.run("--profile", "eks")
    assert_ok(result)
    assert result.source == "profile 'eks' (web identity)"
    (call,) = sts.calls_of("AssumeRoleWithWebIdentity")
    assert call.form()["RoleSessionName"] == "from-profile"


def test_web_identity_token_reread_on_refresh(world):
    sts, token, token_file = web_identity_world(world)
    sts.lifetime = 300
    rotated = "eyJhbGciOiJSUzI1NiJ9.rotated-token." + "r" * 40
    sts.accept_web_identity_token(rotated)
    rotate = threading.Timer(0.8, lambda: token_file.write_text(rotated))
    rotate.start()
    try:
        result = world.run("--fetches", "2", "--interval", "2",
                           env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
                                "AWS_ROLE_ARN": ROLE_ARN})
    finally:
        rotate.cancel()
    assert_ok(result)
    calls = sts.calls_of("AssumeRoleWithWebIdentity")
    assert [call.form()["WebIdentityToken"] for call in calls] == [token, rotated]


def test_web_identity_rejected_token(world):
    sts = sts_world(world)
    token_file = world.write_file("web-identity-token", "unknown-token-value")
    world.extra_secrets.add("unknown-token-value")
    result = world.run(env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
                            "AWS_ROLE_ARN": ROLE_ARN})
    assert_fails(result, EXIT_AUTH, "400 InvalidIdentityToken")
    assert len(sts.calls) == 1


def test_web_identity_missing_token_file(world):
    result = world.run(env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(world.home / "absent"),
                            "AWS_ROLE_ARN": ROLE_ARN})
    assert_fails(result, EXIT_NOT_FOUND, "cannot open the web identity token file")


# ---- credential_process ----


def write_process_script(world, name, body):
    return world.write_file(name, "#!/bin/sh\n" + body, mode=0o700)


def test_credential_process(world):
    expiration = (datetime.datetime.now(datetime.timezone.utc) +
                  datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    world.extra_secrets.update({"process-secret-value", "process-session-token"})
    script = write_process_script(world, "get creds.sh", (
        'test "$1" = "--role" && test "$2" = "two words" || exit 9\n'
        "cat <<'EOF'\n"
        + json.dumps({"Version": 1, "AccessKeyId": "ASIAPROCESS000000001",
                      "SecretAccessKey": "process-secret-value",
                      "SessionToken": "process-session-token", "Expiration": expiration})
        + "\nEOF\n"))
    world.write_config(f"[default]\ncredential_process = \"{script}\" --role 'two words'\n")
    result = world.run()
    assert_ok(result)
    assert result.source == "profile 'default' (credential_process)"
    assert result.fetches == [{"label": "1", "key": "ASIAPROCESS000000001", "token": "present",
                               "expiration": expiration}]


def test_credential_process_runs_without_shell(world):
    marker = world.home / "shell-ran"
    script = write_process_script(world, "creds.sh", (
        'echo \'{"Version": 1, "AccessKeyId": "AKIAPROCESS000000002", '
        '"SecretAccessKey": "s"}\'\n'))
    world.write_config(f"[default]\ncredential_process = {script} ; touch {marker}\n")
    result = world.run()
    assert_ok(result)
    assert not marker.exists(), "the command line went through a shell"


def test_credential_process_failure(world):
    script = write_process_script(world, "failing.sh",
                                  "echo 'SSO session expired, log in again' >&2\n"
                                  "echo 'second line' >&2\nexit 3\n")
    world.write_config(f"[default]\ncredential_process = {script} --secret-flag hunter2\n")
    world.extra_secrets.add("hunter2")
    result = world.run()
    assert_fails(result, EXIT_AUTH,
                 f'credential_process "{script}" exited with status 3: SSO session expired, '
                 f'log in again')
    assert "second line" not in result.stderr


def test_credential_process_missing_program(world):
    world.write_config(f"[default]\ncredential_process = {world.home}/no-such-helper\n")
    result = world.run()
    assert_fails(result, EXIT_NOT_FOUND,
                 f'credential_process: cannot run "{world.home}/no-such-helper": No such file')


def test_credential_process_bad_output(world):
    world.extra_secrets.add("leaky-secret-in-bad-json")
    script = write_process_script(world, "bad.sh",
                                  "echo '{\"Version\": 1, \"SecretAccessKey\": "
                                  "\"leaky-secret-in-bad-json\", oops'\n")
    world.write_config(f"[default]\ncredential_process = {script}\n")
    result = world.run()
    assert_fails(result, EXIT_PROTOCOL, "invalid JSON at line 1")


# ---- SSO ----


def write_sso_cache(world, key, access_token, expires_in):
    expires_at = (datetime.datetime.now(datetime.timezone.utc) +
                  datetime.timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = hashlib.sha1(key.encode()).hexdigest() + ".json"
    path = world.home / ".aws" / "sso" / "cache" / name
    path.write_text(json.dumps({"startUrl": "https://corp.awsapps.com/start",
                                "region": "eu-central-1", "accessToken": access_token,
                                "expiresAt": expires_at}))
    return path


def sso_world(world, lifetime=3600):
    token = "sso-access-token-" + "a" * 30
    sso = world.mock(SsoMock(access_token=token, lifetime=lifetime))
    world.env["AWS_ENDPOINT_URL_SSO"] = sso.url
    world.write_config("[profile corp]\nsso_session = corp-session\n"
                       f"sso_account_id = {sso.account_id}\nsso_role_name = {sso.role_name}\n"
                       "region = eu-west-1\n"
                       "[sso-session corp-session]\n"
                       "sso_start_url = https://corp.awsapps.com/start\n"
                       "sso_region = eu-central-1\nsso_registration_scopes = sso:account:access\n"
                       "[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\n"
                       f"sso_region = eu-central-1\nsso_account_id = {sso.account_id}\n"
                       f"sso_role_name = {sso.role_name}\n")
    return sso, token


def test_sso_session_profile(world):
    sso, token = sso_world(world)
    write_sso_cache(world, "corp-session", token, 3600)
    result = world.run("--profile", "corp")
    assert_ok(result)
    assert result.source == "profile 'corp' (sso)"
    (call,) = sso.calls
    assert call.headers["x-amz-sso_bearer_token"] == token
    assert call.query == {"role_name": [sso.role_name], "account_id": [sso.account_id]}
    issued = sso.issued[0]
    assert result.fetches == [{"label": "1", "key": issued.access_key_id, "token": "present",
                               "expiration": expiration_text(issued)}]


def test_sso_legacy_profile(world):
    sso, token = sso_world(world)
    write_sso_cache(world, "https://legacy.awsapps.com/start", token, 3600)
    result = world.run("--profile", "legacy")
    assert_ok(result)
    assert len(sso.calls) == 1


def test_sso_expired_token(world):
    sso, token = sso_world(world)
    write_sso_cache(world, "corp-session", token, -60)
    result = world.run("--profile", "corp")
    assert_fails(result, EXIT_AUTH, "the cached SSO token expired at",
                 "run `aws sso login --profile corp`")
    assert sso.calls == []


def test_sso_missing_cache(world):
    sso, _ = sso_world(world)
    result = world.run("--profile", "corp")
    assert_fails(result, EXIT_AUTH, "no cached SSO token at", "aws sso login")
    assert sso.calls == []


def test_sso_rejected_token(world):
    sso, _ = sso_world(world)
    write_sso_cache(world, "corp-session", "stale-token-value-xyz", 3600)
    world.extra_secrets.add("stale-token-value-xyz")
    result = world.run("--profile", "corp")
    assert_fails(result, EXIT_AUTH, "401 UnauthorizedException: Session token not found or "
                                    "invalid; run `aws sso login --profile corp`")


# ---- Container ----


def test_container_full_uri_with_token(world):
    token = "container-authorization-token-" + "c" * 20
    container = world.mock(ContainerMock(authorization_tokens=[token]))
    result = world.run(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token})
    assert_ok(result)
    assert result.source == "container"
    (call,) = container.calls
    assert call.headers["authorization"] == token
    assert result.fetches[0]["key"] == container.issued[0].access_key_id


def test_container_token_file_reread(world):
    first, second = "pod-identity-token-one-" + "1" * 20, "pod-identity-token-two-" + "2" * 20
    container = world.mock(ContainerMock(authorization_tokens=[first, second], lifetime=300))
    token_file = world.write_file("eks-pod-identity-token", first)
    rotate = threading.Timer(0.8, lambda: token_file.write_text(second))
    rotate.start()
    try:
        result = world.run("--fetches", "2", "--interval", "2", env={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-a-file-is-set"})
    finally:
        rotate.cancel()
    assert_ok(result)
    assert [call.headers["authorization"] for call in container.calls] == [first, second]


def test_container_wrong_token(world):
    container = world.mock(ContainerMock(authorization_tokens=["the-right-token-value"]))
    world.extra_secrets.add("a-wrong-token-value")
    result = world.run(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a-wrong-token-value"})
    assert_fails(result, EXIT_AUTH, "container credentials from "
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI: HTTP 401: invalid authorization token")


def test_container_full_uri_non_loopback_http_refused(world):
    # .invalid never resolves (RFC 2606), and the tool refuses the URL before any request.
    started = time.monotonic()
    result = world.run(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI":
                            "http://credentials.invalid:8080/v1/credentials",
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "never-sent-token"})
    world.extra_secrets.add("never-sent-token")
    assert_fails(result, EXIT_INVALID, "plain http is only allowed to a loopback address or the "
                 'ECS or EKS agent, not to "credentials.invalid"')
    assert result.source is None
    assert time.monotonic() - started < 5


def test_container_relative_uri_is_only_named(world):
    # RELATIVE_URI always means the ECS agent at 169.254.170.2: check the choice, never fetch.
    result = world.run("--no-fetch", env={"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/abc"})
    assert_ok(result)
    assert result.source == "container"
    assert result.fetches == []


# ---- Instance metadata ----


@pytest.mark.parametrize("suffix", ["", "/"])
def test_imds(world, suffix):
    imds = world.mock(ImdsMock())
    result = world.run(env={"AWS_EC2_METADATA_DISABLED": None,
                            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url + suffix})
    assert_ok(result)
    assert result.source == "imds"
    assert [(call.method, call.path) for call in imds.calls] == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/iam/security-credentials/"),
        ("GET", "/latest/meta-data/iam/security-credentials/ecr-sync-instance-role"),
    ]
    assert imds.calls[0].headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
    assert all(call.status == 200 for call in imds.calls)
    issued = imds.issued[0]
    assert result.fetches == [{"label": "1", "key": issued.access_key_id, "token": "present",
                               "expiration": expiration_text(issued)}]


def test_imds_disabled(world):
    imds = world.mock(ImdsMock())
    for value in ("true", "TRUE"):
        result = world.run(env={"AWS_EC2_METADATA_DISABLED": value,
                                "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
        assert_fails(result, EXIT_NOT_FOUND, "EC2 instance metadata (disabled by "
                                             "AWS_EC2_METADATA_DISABLED)")
    assert imds.calls == []


def test_imds_without_role(world):
    imds = world.mock(ImdsMock(role_name=None))
    result = world.run(env={"AWS_EC2_METADATA_DISABLED": None,
                            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
    assert_fails(result, EXIT_NOT_FOUND, "no AWS credentials found (tried environment",
                 "EC2 instance metadata at " + imds.url,
                 "the instance has no IAM role attached")


# ---- Order of the chain ----


def test_chain_order(world):
    """Configure every source, then remove them one by one from the front."""
    base_token = "eyJ.web-identity-for-order." + "o" * 30
    sts = sts_world(world)
    sts.accept_web_identity_token(base_token)
    container_token = "container-token-for-order-" + "k" * 20
    container = world.mock(ContainerMock(authorization_tokens=[container_token]))
    imds = world.mock(ImdsMock())
    token_file = world.write_file("web-identity-token", base_token)
    world.write_credentials(base_credentials_file("default"))
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT00001",
        "AWS_SECRET_ACCESS_KEY": BASE_SECRET,
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": container_token,
        "AWS_EC2_METADATA_DISABLED": None,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
    }
    steps = [
        ("environment", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], None),
        ("profile 'default'", [], "credentials file"),
        ("web identity", ["AWS_WEB_IDENTITY_TOKEN_FILE"], None),
        ("container", ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], None),
        ("imds", [], None),
    ]
    expected_calls = {"sts": 0, "container": 0, "imds": 0}
    for source, remove_variables, remove_file in steps:
        result = world.run(env=env)
        assert_ok(result)
        assert result.source == source, result.describe()
        if source == "web identity":
            expected_calls["sts"] += 1
        elif source == "container":
            expected_calls["container"] += 1
        elif source == "imds":
            expected_calls["imds"] += 3
        assert {"sts": len(sts.calls), "container": len(container.calls),
                "imds": len(imds.calls)} == expected_calls, result.describe()
        for name in remove_variables:
            env[name] = None
        if remove_file:
            world.credentials_path.unlink()


# ---- Caching and refresh ----


@pytest.mark.parametrize("lifetime, expected_fetches", [(300, 2), (3600, 1)])
def test_refresh_assume_role(world, lifetime, expected_fetches):
    sts = sts_world(world, lifetime=lifetime)
    world.write_credentials(base_credentials_file())
    world.write_config(f"[default]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n")
    result = world.run("--fetches", "2", "--interval", "0.2")
    assert_ok(result)
    assert len(sts.calls_of("AssumeRole")) == expected_fetches
    issued_keys = [credentials.access_key_id for credentials in sts.issued]
    printed_keys = [fetch["key"] for fetch in result.fetches]
    if expected_fetches == 1:
        assert printed_keys == issued_keys * 2
    else:
        assert printed_keys == issued_keys


@pytest.mark.parametrize("mock_class", [ContainerMock, ImdsMock])
def test_refresh_short_lived(world, mock_class):
    server = world.mock(mock_class(lifetime=300))
    env = ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + server.path}
           if mock_class is ContainerMock else
           {"AWS_EC2_METADATA_DISABLED": None, "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url})
    result = world.run("--fetches", "3", env=env)
    assert_ok(result)
    assert len(server.issued) == 3
    assert [fetch["key"] for fetch in result.fetches] == \
        [credentials.access_key_id for credentials in server.issued]


def test_failed_advisory_refresh_keeps_cached(world):
    # 12 minutes left: inside the 15-minute advisory window, outside the 10-minute mandatory one.
    container = world.mock(ContainerMock(lifetime=12 * 60))
    container.fail_next(403, "AccessDenied", "refresh refused", after=1)
    result = world.run("--fetches", "2",
                       env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path})
    assert_ok(result)
    assert [call.status for call in container.calls] == [200, 403]
    keys = [fetch["key"] for fetch in result.fetches]
    assert keys == [container.issued[0].access_key_id] * 2


def test_concurrent_callers_fetch_once(world):
    imds = world.mock(ImdsMock())
    result = world.run("--threads", "8", "--fetches", "2",
                       env={"AWS_EC2_METADATA_DISABLED": None,
                            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
    assert_ok(result)
    assert len(result.fetches) == 16
    assert {fetch["key"] for fetch in result.fetches} == {imds.issued[0].access_key_id}
    assert len(imds.calls) == 3


def test_invalidate_refetches(world):
    container = world.mock(ContainerMock())
    result = world.run("--fetches", "2", "--invalidate",
                       env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path})
    assert_ok(result)
    assert len(container.issued) == 2


# ---- Secrets ----


def test_no_secret_in_debug_output(world):
    """Every source once more with --debug; AwsWorld.run checks the output for every secret."""
    sts = sts_world(world)
    web_token = "eyJ.debug-web-identity." + "d" * 30
    sts.accept_web_identity_token(web_token)
    web_token_file = world.write_file("web-token", web_token)
    sso, sso_token = sso_world(world)
    write_sso_cache(world, "corp-session", sso_token, 3600)
    container_token = "debug-container-token-" + "q" * 20
    container = world.mock(ContainerMock(authorization_tokens=[container_token]))
    imds = world.mock(ImdsMock())
    world.write_credentials(base_credentials_file())
    with open(world.config_path, "a") as config:
        config.write(f"[profile role]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n")
    sts.deny_role(f"{ROLE_ARN}-denied", "denied for the debug test")
    with open(world.config_path, "a") as config:
        config.write(f"[profile denied]\nrole_arn = {ROLE_ARN}-denied\nsource_profile = base\n")

    runs = [
        world.run("--debug", "--profile", "role"),
        world.run("--debug", "--profile", "denied"),
        world.run("--debug", "--profile", "corp"),
        world.run("--debug", env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(web_token_file),
                                  "AWS_ROLE_ARN": ROLE_ARN, "AWS_REGION": "eu-west-1"}),
        world.run("--debug", env={"AWS_CONTAINER_CREDENTIALS_FULL_URI":
                                  container.url + container.path,
                                  "AWS_CONTAINER_AUTHORIZATION_TOKEN": container_token}),
        world.run("--debug", env={"AWS_EC2_METADATA_DISABLED": None,
                                  "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}),
        world.run("--debug", env={"AWS_ACCESS_KEY_ID": BASE_KEY_ID,
                                  "AWS_SECRET_ACCESS_KEY": BASE_SECRET}),
    ]
    assert [run.returncode for run in runs] == [0, EXIT_AUTH, 0, 0, 0, 0, 0], \
        "\n".join(run.describe() for run in runs)
    # Debug logging was on, so the check covered the log lines too.
    assert all("aws: credentials from" in run.stderr for run in runs)
    assert len(world.secrets()) >= 12
