# SPDX-License-Identifier: Apache-2.0
"""An Amazon ECR emulator on 127.0.0.1 for the end-to-end tests.

- api.py: the control plane, ECR's JSON 1.1 API plus Secrets Manager's
  GetSecretValue, with SigV4 verification and model validation by botocore;
- proxy.py: the data plane, a registry API proxy in front of a
  docker-registry that adds ECR's authentication and push rules;
- emulator.py: Emulator, which starts and stops both and the registry.
"""

from .emulator import DEFAULT_CREDENTIALS, REGISTRY_USER, SESSION_CREDENTIALS, Emulator
from .proxy import MIN_PART_SIZE, ProxyRequest
from .signing import TestCredentials, sign_headers
from .state import IMMUTABLE, MUTABLE, Call

__all__ = [
    "Call", "DEFAULT_CREDENTIALS", "Emulator", "IMMUTABLE", "MIN_PART_SIZE", "MUTABLE",
    "ProxyRequest", "REGISTRY_USER", "SESSION_CREDENTIALS", "TestCredentials", "sign_headers",
]
