# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the end-to-end tests: servers, images, and running ecr-sync.

The registries and the token server start once per session on free ports of
127.0.0.1 and write their logs to tests/e2e/.logs/SESSION/, which is kept.
When a test fails, its report lists those log files and every ecr-sync run
the test made, with exit status, stdout and stderr.

Environment:
  ECR_SYNC            the binary to test (default: build/ecr-sync in the repository)
  ECR_SYNC_SANITIZED  set to 1 for an ASan/UBSan build; skips the memory test
"""

import dataclasses
import itertools
import os

import pytest

import harness
from harness import environment, peak_rss
from harness.dockerconfig import basic_auth_entry, password_entry, write_docker_config

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG_ROOT = os.path.join(REPOSITORY_ROOT, "tests", "e2e", ".logs")
ECR_SYNC_TIMEOUT_SECONDS = 180

_repository_counter = itertools.count(1)


def ecr_sync_binary():
    return os.environ.get("ECR_SYNC") or os.path.join(REPOSITORY_ROOT, "build", "ecr-sync")


@dataclasses.dataclass
class EcrSyncResult:
    """Outcome of one ecr-sync run; unpacks as (returncode, stdout, stderr)."""
    returncode: int
    stdout: str
    stderr: str
    command: list
    peak_rss_kib: int = None

    def __iter__(self):
        return iter((self.returncode, self.stdout, self.stderr))

    def describe(self):
        return (f"$ {' '.join(self.command)}\nexit status: {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    paths = harness.log_paths()
    if paths:
        report.sections.append(("server logs", "\n".join(paths)))
    for index, result in enumerate(getattr(item, "ecr_sync_runs", []), start=1):
        report.sections.append((f"ecr-sync run {index}", result.describe()))


def pytest_report_header(config):
    return [f"ecr-sync binary: {ecr_sync_binary()}",
            f"server logs: {os.path.relpath(LOG_ROOT)}/<session>/"]


@pytest.fixture(scope="session")
def log_dir():
    """Return this session's log folder, tests/e2e/.logs/<session>/."""
    return harness.new_log_dir(LOG_ROOT)


@pytest.fixture(scope="session")
def servers(log_dir):
    with harness.Servers(log_dir) as started:
        yield started


@pytest.fixture(scope="session")
def source(servers):
    """Docker Hub-like source registry (token auth, anonymous pull)."""
    return servers.source


@pytest.fixture(scope="session")
def target(servers):
    """Target registry without authentication."""
    return servers.target


@pytest.fixture(scope="session")
def basic_target(servers):
    """Target registry with htpasswd Basic authentication."""
    return servers.basic_target


@pytest.fixture(scope="session")
def token_server(servers):
    return servers.token_server


@pytest.fixture(scope="session")
def images(servers):
    """The default fixtures, pushed once to the source: {kind: FixtureImage}."""
    return harness.push_default_fixtures(servers.source_client())


@pytest.fixture(scope="session")
def stub(log_dir):
    with harness.StubRegistry(log_dir) as started:
        yield started


@pytest.fixture
def docker_config(tmp_path, servers):
    """A DOCKER_CONFIG folder with credentials for the Basic target and the source.

    The target entry uses the base64 `auth` form and the source entry the
    `username`/`password` form, so both forms are exercised.
    """
    auths = {
        servers.basic_target.host: basic_auth_entry(environment.TARGET_USER,
                                                    environment.TARGET_PASSWORD),
        servers.source.host: password_entry(environment.SOURCE_USER,
                                            environment.SOURCE_PASSWORD),
    }
    return write_docker_config(tmp_path / "docker", auths)


@pytest.fixture
def unique_repository():
    """Return a function that makes a target repository name no other test uses."""
    def make(label):
        return f"e2e/{label}-{next(_repository_counter)}"
    return make


@pytest.fixture
def ecr_sync_environment(docker_config):
    """Return a function building the environment for an ecr-sync run."""
    def build(overrides=None):
        variables = dict(os.environ)
        variables["DOCKER_CONFIG"] = docker_config
        variables["AWS_EC2_METADATA_DISABLED"] = "true"
        # Unless a test points them at its emulator, AWS calls go to a closed
        # loopback port: nothing leaves the machine, not even a DNS lookup.
        variables["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
        for name, value in (overrides or {}).items():
            if value is None:
                variables.pop(name, None)
            else:
                variables[name] = value
        return variables
    return build


@pytest.fixture
def ecr_sync(request, ecr_sync_environment):
    """Run ecr-sync: ecr_sync(*args, env=None, check=None) -> EcrSyncResult.

    env entries override the environment, and None removes a variable. check
    is None for no check, True for exit status 0, or the expected exit status.
    A mismatch fails the test and shows the run's stdout and stderr. The result
    also carries the child's peak RSS in KiB.
    """
    runs = []
    request.node.ecr_sync_runs = runs

    def run(*args, env=None, check=None, timeout=ECR_SYNC_TIMEOUT_SECONDS):
        binary = ecr_sync_binary()
        if not os.access(binary, os.X_OK):
            pytest.fail(f"ecr-sync binary not found or not executable: {binary}; "
                        "build it with `make` or set ECR_SYNC")
        command = [binary, *[str(argument) for argument in args]]
        returncode, stdout, stderr, peak_rss_kib, timed_out = peak_rss.run_measured(
            command, ecr_sync_environment(env), timeout)
        result = EcrSyncResult(returncode, stdout, stderr, command, peak_rss_kib)
        runs.append(result)
        if timed_out:
            pytest.fail(f"ecr-sync was killed after {timeout} s\n{result.describe()}")
        if check is not None:
            expected = 0 if check is True else check
            assert result.returncode == expected, (
                f"expected exit status {expected}\n{result.describe()}")
        return result

    return run


@pytest.fixture
def skopeo_raw():
    """skopeo_raw(reference, creds=None) -> raw manifest bytes, via skopeo."""
    return harness.skopeo_raw


_summary_lines = []


def pytest_terminal_summary(terminalreporter):
    """Print the measurements tests recorded with the `measurement` fixture."""
    if _summary_lines:
        terminalreporter.section("ecr-sync measurements")
        for line in _summary_lines:
            terminalreporter.write_line(line)


@pytest.fixture
def measurement():
    """Return a function that prints a line now and in the final summary."""
    def record(line):
        print(line)
        _summary_lines.append(line)
    return record


@pytest.fixture(scope="session")
def ecr_emulator(log_dir):
    """The ECR emulator (control plane, data plane and backing registry) for ecr-sync runs."""
    from harness.ecr import Emulator

    with Emulator(log_dir, name="ecr-target") as started:
        yield started


@pytest.fixture
def aws_environment(ecr_emulator, tmp_path):
    """Return a function building the AWS variables for an ecr-sync run against the emulator.

    HOME and the AWS config files point at empty files in tmp_path, so the
    machine's own AWS set-up is never read; instance metadata is disabled.
    """
    home = tmp_path / "aws-home"
    home.mkdir()
    (home / "config").write_text("")
    (home / "credentials").write_text("")

    def build(credentials=None, **overrides):
        variables = ecr_emulator.aws_environment(credentials)
        variables.update({
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            # Every AWS service goes to the emulator, so no test ever reaches
            # for a real AWS endpoint, even by name.
            "AWS_ENDPOINT_URL": ecr_emulator.api_url,
            "AWS_ENDPOINT_URL_ECR": ecr_emulator.api_url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": ecr_emulator.api_url,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        variables.update(overrides)
        return variables

    return build
