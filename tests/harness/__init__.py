# SPDX-License-Identifier: Apache-2.0
"""Test servers and fixtures for ecr-sync's end-to-end tests and demo.

Everything listens on 127.0.0.1 only and is started and stopped by its user:
docker-registry (registry.py), a Docker Hub-like token server
(tokenserver.py), a programmable stub registry (stub.py), a small registry
client (client.py), image fixtures (fixtures.py) and skopeo (skopeo.py).
"""

from .client import RegistryClient, RegistryError, sha256_digest
from .environment import Servers
from .fixtures import DEFAULT_KINDS, FixtureImage, push_big_fixture, push_default_fixtures
from .registry import HtpasswdAuth, Registry, TokenAuth
from .runtime import log_paths, new_log_dir
from .skopeo import SkopeoError, skopeo_raw
from .stub import StubRegistry, StubResponse
from .tokenserver import TokenServer

__all__ = [
    "DEFAULT_KINDS", "FixtureImage", "HtpasswdAuth", "Registry", "RegistryClient",
    "RegistryError", "Servers", "SkopeoError", "StubRegistry", "StubResponse", "TokenAuth",
    "TokenServer", "log_paths", "new_log_dir", "push_big_fixture", "push_default_fixtures",
    "sha256_digest", "skopeo_raw",
]

# A Docker Hub-like front (tags/list pagination, rate limits) and a helper
# that pushes a repository with many tags.
from .bigrepo import ManyTags, numbered_tag, push_many_tags, semver_tag  # noqa: E402
from .hubfront import HubFront  # noqa: E402

__all__ += ["HubFront", "ManyTags", "numbered_tag", "push_many_tags", "semver_tag"]

# A fault-injecting reverse proxy and the redirect target it sends blob GETs to.
from .faultproxy import FaultProxy, RedirectTarget  # noqa: E402

__all__ += ["FaultProxy", "RedirectTarget"]

# Hostile registry responses on the stub, and a test CA with a TLS registry.
from .hostile import HostileStub, UploadTarget  # noqa: E402
from .tls import CertificateAuthority, ConnectionSniffer, TlsRegistry  # noqa: E402

__all__ += ["CertificateAuthority", "ConnectionSniffer", "HostileStub", "TlsRegistry",
            "UploadTarget"]
