# SPDX-License-Identifier: Apache-2.0
"""The set of servers the end-to-end tests and the demo run against.

- a token server and a source registry that uses it, like Docker Hub:
  anonymous pull, push only for SOURCE_USER;
- a plain target registry without authentication;
- a target registry with htpasswd Basic authentication for TARGET_USER.

The passwords are fixed test values for servers that live only on 127.0.0.1
for the length of one run.
"""

from .client import RegistryClient
from .registry import HtpasswdAuth, Registry, TokenAuth
from .tokenserver import TokenServer

SOURCE_USER = "pusher"
SOURCE_PASSWORD = "pusher-test-password"
TARGET_USER = "mirror"
TARGET_PASSWORD = "mirror-test-password"


class Servers:
    """Start and stop the token server, the source and the targets together."""

    def __init__(self, log_dir, basic_target=True):
        self.log_dir = log_dir
        self.token_server = TokenServer(log_dir, {SOURCE_USER: SOURCE_PASSWORD})
        self.source = None
        self.target = Registry(log_dir, "target")
        self.basic_target = (Registry(log_dir, "basic-target",
                                      HtpasswdAuth(TARGET_USER, TARGET_PASSWORD))
                             if basic_target else None)
        self._started = []

    def start(self):
        try:
            self._started.append(self.token_server.start())
            self.source = Registry(self.log_dir, "source",
                                   TokenAuth.from_server(self.token_server))
            self._started.append(self.source.start())
            self._started.append(self.target.start())
            if self.basic_target is not None:
                self._started.append(self.basic_target.start())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop every started server, most recent first, even if one fails."""
        errors = []
        while self._started:
            server = self._started.pop()
            try:
                server.stop()
            except Exception as error:  # keep stopping the others
                errors.append(error)
        if errors:
            raise errors[0]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def source_client(self, push=True):
        """Return a client for the source, with push credentials unless push is False."""
        if push:
            return RegistryClient(self.source.host, SOURCE_USER, SOURCE_PASSWORD)
        return RegistryClient(self.source.host)

    def target_client(self):
        return RegistryClient(self.target.host)

    def basic_target_client(self):
        return RegistryClient(self.basic_target.host, TARGET_USER, TARGET_PASSWORD)
