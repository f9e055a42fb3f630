# SPDX-License-Identifier: Apache-2.0
"""The servers of a benchmark run, all on 127.0.0.1, and their request counters.

Source: the harness token server and a docker-registry with token auth,
whose storage folder may be kept between runs (the catalogue cache). A
HubFront in front of it pages tags/list like Docker Hub, sends rate-limit
headers, and counts requests and manifest GETs. Here it also counts the
bytes it sends to clients.

Targets: a plain docker-registry (PlainTarget) or the ECR emulator
(EcrTarget). A target is started empty for each measured pair of runs and
stopped afterwards, which deletes its storage.
"""

import base64
import json
import os
import threading

from harness import environment, hubfront
from harness.client import RegistryClient
from harness.ecr import Emulator
from harness.registry import Registry, TokenAuth
from harness.tokenserver import TokenServer

# Large enough never to defer a copy, so that the rate-limit headers are
# sent and read as on Docker Hub without limiting anything.
RATE_LIMIT = 1_000_000
RATE_LIMIT_WINDOW_SECONDS = 21600


class StorageRegistry(Registry):
    """A docker-registry whose filesystem storage is a given folder, kept after stop()."""

    def __init__(self, log_dir, name, auth, storage_dir):
        super().__init__(log_dir, name, auth)
        self.storage_dir = storage_dir

    def _config(self):
        config = super()._config()
        config["storage"]["filesystem"]["rootdirectory"] = self.storage_dir
        return config


class _CountingWriter:
    """Wrap a handler's wfile and add the length of every write to a counter."""

    def __init__(self, raw, add):
        self._raw = raw
        self._add = add

    def write(self, data):
        written = self._raw.write(data)
        self._add(len(data))
        return written

    def __getattr__(self, name):
        return getattr(self._raw, name)


class CountingHubFront(hubfront.HubFront):
    """A HubFront that also counts every byte it sends to clients (headers included)."""

    def __init__(self, *arguments, **keywords):
        super().__init__(*arguments, **keywords)
        self._sent_lock = threading.Lock()
        self._sent_bytes = 0

    def _add_sent(self, count):
        with self._sent_lock:
            self._sent_bytes += count

    @property
    def sent_bytes(self):
        with self._sent_lock:
            return self._sent_bytes

    def reset_counters(self):
        super().reset_counters()
        with self._sent_lock:
            self._sent_bytes = 0

    def start(self):
        # HubFront.start() builds its handler class with the module function
        # _make_handler. It is replaced for the duration of the call by one
        # that returns a subclass wrapping each connection's wfile.
        make_handler = hubfront._make_handler

        def make_counting_handler(front):
            base = make_handler(front)

            class CountingHandler(base):
                def setup(self):
                    super().setup()
                    self.wfile = _CountingWriter(self.wfile, front._add_sent)

            return CountingHandler

        hubfront._make_handler = make_counting_handler
        try:
            return super().start()
        finally:
            hubfront._make_handler = make_handler


class Source:
    """The Docker Hub-like source: token server, registry and counting front."""

    def __init__(self, log_dir, storage_dir):
        self.log_dir = log_dir
        self.token_server = TokenServer(log_dir, {environment.SOURCE_USER:
                                                  environment.SOURCE_PASSWORD})
        self.storage_dir = storage_dir
        self.registry = None
        self.front = None
        self._token_requests = 0

    def start(self):
        try:
            self.token_server.start()
            self.registry = StorageRegistry(self.log_dir, "source",
                                            TokenAuth.from_server(self.token_server),
                                            self.storage_dir).start()
            self.front = CountingHubFront(self.log_dir, self.registry, name="source-front",
                                          limit=RATE_LIMIT, window=RATE_LIMIT_WINDOW_SECONDS)
            self.front.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for server in (self.front, self.registry, self.token_server):
            if server is not None:
                server.stop()

    @property
    def host(self):
        """The address clients use: the front's."""
        return self.front.host

    def push_client(self):
        """Return a client with push rights that talks to the registry directly."""
        return RegistryClient(self.registry.host, environment.SOURCE_USER,
                              environment.SOURCE_PASSWORD, timeout=600)

    def reset_counters(self):
        self.front.reset_counters()
        self._token_requests = self.token_server.stats()["requests"]

    def counters(self):
        """Return the source's counts since reset_counters()."""
        front = self.front.counters()
        return {
            "source_requests": front.requests,
            "token_requests": self.token_server.stats()["requests"] - self._token_requests,
            "source_manifest_gets": front.manifest_gets,
            "source_pulls": front.pulls,
            "source_bytes": self.front.sent_bytes,
        }


class PlainTarget:
    """A docker-registry without authentication."""

    kind = "registry"

    def __init__(self, log_dir, name):
        self.registry = Registry(log_dir, name)
        self._mark = 0

    def start(self):
        self.registry.start()
        return self

    def stop(self):
        self.registry.stop()

    @property
    def host(self):
        return self.registry.host

    def ecr_sync_target(self):
        return [f"  registry: {self.host}"]

    def ecr_sync_environment(self, home):
        # No AWS call is expected: any would go to a closed loopback port.
        return {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true"}

    def skopeo_auths(self):
        return {}

    def prepare_for_skopeo(self, repositories):
        """Nothing to prepare: docker-registry creates repositories on push."""

    def client(self):
        return RegistryClient(self.host, timeout=120)

    def reset_counters(self):
        self._mark = self.registry.mark()

    def request_count(self):
        return len(self.registry.requests(since=self._mark))


class EcrTarget:
    """The ECR emulator: control plane, data plane and backing registry."""

    kind = "ecr"

    def __init__(self, log_dir, name):
        self.emulator = Emulator(log_dir, name=name)

    def start(self):
        self.emulator.start()
        return self

    def stop(self):
        self.emulator.stop()

    @property
    def host(self):
        """The data plane as 127.0.0.1:PORT, where skopeo pushes."""
        return self.emulator.registry_host

    def ecr_sync_target(self):
        return ["  ecr:", f"    region: {self.emulator.region}",
                f"    account: \"{self.emulator.account_id}\""]

    def ecr_sync_environment(self, home):
        """Return the AWS variables for ecr-sync, with empty AWS files under home."""
        os.makedirs(home, exist_ok=True)
        for name in ("config", "credentials"):
            with open(os.path.join(home, name), "w", encoding="utf-8"):
                pass
        variables = self.emulator.aws_environment()
        variables.update({
            "AWS_CONFIG_FILE": os.path.join(home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
            "AWS_ENDPOINT_URL": self.emulator.api_url,
            "AWS_ENDPOINT_URL_ECR": self.emulator.api_url,
            "AWS_ENDPOINT_URL_STS": self.emulator.api_url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.emulator.api_url,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return variables

    def skopeo_auths(self):
        """Return containers-auth.json entries with a registry password for the data plane.

        The password is issued directly, without a recorded
        GetAuthorizationToken call, and lasts 12 hours.
        """
        username, password = self.emulator.registry_credentials()
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {self.host: {"auth": encoded}}

    def prepare_for_skopeo(self, repositories):
        """Create the repositories, because ECR does not create them on push."""
        for repository in repositories:
            self.emulator.create_repository(repository)

    def client(self):
        client = self.emulator.registry_client()
        client.timeout = 120
        return client

    def reset_counters(self):
        self.emulator.clear_calls()
        self.emulator.clear_registry_requests()

    def request_count(self):
        """Return the data plane requests plus the control plane (ECR API) calls."""
        return len(self.emulator.registry_requests) + len(self.emulator.calls)


TARGETS = {"registry": PlainTarget, "ecr": EcrTarget}


def write_auth_file(path, auths):
    """Write a containers-auth.json (Docker config.json format) with these auths."""
    with open(path, "w", encoding="utf-8") as output:
        json.dump({"auths": auths}, output)
    return path
