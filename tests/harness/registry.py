# SPDX-License-Identifier: Apache-2.0
"""Start and stop Debian's docker-registry (distribution 2.8) for tests.

Each Registry gets its own temporary storage folder and a generated
configuration: filesystem storage with deletes enabled, 127.0.0.1 on a free
port, info-level logs, an access log, and foreign-layer URLs allowed so that
manifests with `urls` are accepted. Authentication is off, htpasswd Basic, or
token (pointing at a harness TokenServer).

The application log goes to NAME.log in the log folder. The access log, one
line per request in combined log format, goes to NAME.access.log. Both files
are kept after the registry stops.
"""

import ctypes
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import uuid

from . import runtime

DOCKER_REGISTRY = "/usr/bin/docker-registry"
HTPASSWD = "/usr/bin/htpasswd"
START_ATTEMPTS = 3
READY_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 10
LOG_SYNC_TIMEOUT_SECONDS = 5

# 127.0.0.1 - - [04/Dec/2024:20:21:10 +0000] "POST /v2/a/blobs/uploads/ HTTP/1.1" 202 0 "" "curl/7.88.1"
_ACCESS_LINE = re.compile(
    r'^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] '
    r'"(?P<method>[A-Z]+) (?P<uri>\S+) [^"]*" (?P<status>\d{3}) ')
_LOG_SYNC_PARAMETER = "harness-log-sync"


@dataclasses.dataclass(frozen=True)
class HtpasswdAuth:
    """Basic authentication with one user, checked against an htpasswd file."""
    username: str
    password: str
    realm: str = "ecr-sync-test"


@dataclasses.dataclass(frozen=True)
class TokenAuth:
    """Bearer token authentication delegated to a token server."""
    realm: str
    service: str
    issuer: str
    cert_path: str

    @classmethod
    def from_server(cls, token_server):
        return cls(token_server.realm, token_server.service, token_server.issuer,
                   token_server.cert_path)


@dataclasses.dataclass(frozen=True)
class AccessLogEntry:
    """One request from the registry's access log."""
    method: str
    path: str
    query: str
    status: int

    def query_values(self, name):
        """Return the decoded values of one query parameter."""
        return urllib.parse.parse_qs(self.query).get(name, [])


def _set_parent_death_signal():
    # Runs in the child before exec: if the test process dies without
    # stopping the registry, the kernel sends SIGTERM to the registry.
    # NOTE: the signal fires when the thread that started the registry exits,
    # so start registries from a thread that lives as long as they do.
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Registry:
    """One docker-registry process on 127.0.0.1.

    auth is None, an HtpasswdAuth or a TokenAuth. After start(), `host` is
    "127.0.0.1:PORT" and `url` is "http://127.0.0.1:PORT".
    """

    def __init__(self, log_dir, name, auth=None):
        self.log_dir = log_dir
        self.name = name
        self.auth = auth
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.access_log_path = os.path.join(log_dir, f"{name}.access.log")
        self.config_path = None
        self.port = None
        self._temp_dir = None
        self._process = None

    @property
    def host(self):
        return f"{runtime.LOOPBACK}:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    def start(self):
        self._temp_dir = tempfile.mkdtemp(prefix=f"ecr-sync-{self.name}-")
        runtime.register_log(self.log_path)
        runtime.register_log(self.access_log_path)
        last_error = None
        for _ in range(START_ATTEMPTS):
            self.port = runtime.free_port()
            self._write_config()
            self._spawn()
            try:
                runtime.wait_for_http(runtime.LOOPBACK, self.port, "/v2/", (200, 401),
                                      READY_TIMEOUT_SECONDS, self._is_alive)
                return self
            except (RuntimeError, TimeoutError) as error:
                # Most often another process took the port between
                # free_port() and the registry's bind: try a new port.
                last_error = error
                self._terminate()
        self._remove_temp_dir()
        raise RuntimeError(
            f"docker-registry '{self.name}' did not start after {START_ATTEMPTS} attempts: "
            f"{last_error}; see {self.log_path}")

    def stop(self):
        self._terminate()
        self._remove_temp_dir()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _is_alive(self):
        return self._process is not None and self._process.poll() is None

    def _config(self):
        storage_dir = os.path.join(self._temp_dir, "storage")
        os.makedirs(storage_dir, exist_ok=True)
        config = {
            "version": "0.1",
            "log": {
                "level": "info",
                "formatter": "text",
                "accesslog": {"disabled": False},
                "fields": {"service": self.name},
            },
            "storage": {
                "filesystem": {"rootdirectory": storage_dir},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": f"{runtime.LOOPBACK}:{self.port}",
                "secret": uuid.uuid4().hex,
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
            "validation": {"manifests": {"urls": {"allow": ["^https?://"]}}},
        }
        if isinstance(self.auth, HtpasswdAuth):
            config["auth"] = {"htpasswd": {"realm": self.auth.realm,
                                           "path": self._write_htpasswd()}}
        elif isinstance(self.auth, TokenAuth):
            config["auth"] = {"token": {
                "realm": self.auth.realm,
                "service": self.auth.service,
                "issuer": self.auth.issuer,
                "rootcertbundle": self.auth.cert_path,
            }}
        elif self.auth is not None:
            raise TypeError(f"unsupported auth for registry '{self.name}': {self.auth!r}")
        return config

    def _write_htpasswd(self):
        path = os.path.join(self._temp_dir, "htpasswd")
        result = subprocess.run(
            [HTPASSWD, "-Bbn", self.auth.username, self.auth.password],
            check=True, capture_output=True, text=True)
        with open(path, "w", encoding="utf-8") as htpasswd_file:
            htpasswd_file.write(result.stdout.strip() + "\n")
        return path

    def _write_config(self):
        # JSON is valid YAML, and json.dumps quotes every value correctly.
        self.config_path = os.path.join(self._temp_dir, "config.yml")
        with open(self.config_path, "w", encoding="utf-8") as config_file:
            json.dump(self._config(), config_file, indent=2)

    def _spawn(self):
        # REGISTRY_* variables would override the generated configuration.
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith("REGISTRY_")}
        with open(self.log_path, "ab") as app_log, open(self.access_log_path, "ab") as access_log:
            self._process = subprocess.Popen(
                [DOCKER_REGISTRY, "serve", self.config_path],
                stdin=subprocess.DEVNULL, stdout=access_log, stderr=app_log,
                env=environment, preexec_fn=_set_parent_death_signal)

    def _terminate(self):
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def _remove_temp_dir(self):
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def _read_access_log(self):
        entries = []
        with open(self.access_log_path, encoding="utf-8", errors="replace") as access_log:
            for line in access_log:
                match = _ACCESS_LINE.match(line)
                if match is None:
                    continue
                path, _, query = match.group("uri").partition("?")
                entries.append(AccessLogEntry(match.group("method"), path, query,
                                              int(match.group("status"))))
        return entries

    def sync_log(self):
        """Wait until every request handled so far is in the access log.

        The registry writes an access log line after the response is sent,
        so a client can finish before its last line is written. A marker
        request sent now lands in the log after the earlier requests.
        """
        marker = uuid.uuid4().hex
        connection_path = f"/v2/?{_LOG_SYNC_PARAMETER}={marker}"
        runtime.wait_for_http(runtime.LOOPBACK, self.port, connection_path, (200, 401),
                              READY_TIMEOUT_SECONDS)
        deadline = time.monotonic() + LOG_SYNC_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if any(marker in entry.query for entry in self._read_access_log()):
                return
            time.sleep(0.02)
        raise TimeoutError(f"access log of '{self.name}' did not show marker {marker}")

    def mark(self):
        """Return a position in the access log for requests(since=...)."""
        self.sync_log()
        return len(self._read_access_log())

    def requests(self, method=None, path_regex=None, since=0):
        """Return the access log entries from position `since` on.

        method filters on the HTTP method; path_regex must match the whole
        path (without the query string). The harness's own log markers are
        left out.
        """
        self.sync_log()
        pattern = re.compile(path_regex) if path_regex is not None else None
        selected = []
        for entry in self._read_access_log()[since:]:
            if _LOG_SYNC_PARAMETER in entry.query:
                continue
            if method is not None and entry.method != method:
                continue
            if pattern is not None and not pattern.fullmatch(entry.path):
                continue
            selected.append(entry)
        return selected

    def count_requests(self, method, path_regex, since=0):
        """Count requests with this method whose path fully matches path_regex."""
        return len(self.requests(method, path_regex, since))
