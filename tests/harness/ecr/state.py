# SPDX-License-Identifier: Apache-2.0
"""State shared by the emulator's control plane and data plane.

One EmulatorState contains the repositories, the registry passwords that
GetAuthorizationToken issued, the preloaded secrets, the queued faults and
the record of calls. Every access goes through its lock, because both
servers handle requests on many threads.
"""

import collections
import copy
import dataclasses
import secrets
import threading
import time

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "eu-west-1"
TOKEN_LIFETIME_SECONDS = 12 * 60 * 60
MUTABLE = "MUTABLE"
IMMUTABLE = "IMMUTABLE"

# The HTTP status each injectable error comes with unless the test gives one.
FAULT_STATUS = {
    "ThrottlingException": 400,
    "ThrottledException": 400,
    "TooManyRequestsException": 400,
    "RequestLimitExceeded": 400,
    "AccessDeniedException": 400,
    "LimitExceededException": 400,
    "InternalServerError": 500,
    "InternalFailure": 500,
    "ServerException": 500,
    "ServiceUnavailable": 503,
}
FAULT_MESSAGE = {
    "ThrottlingException": "Rate exceeded",
    "AccessDeniedException": "User is not authorized to perform this operation",
}


@dataclasses.dataclass
class Repository:
    """An ECR repository as CreateRepository made it."""
    name: str
    region: str
    created_at: float
    image_tag_mutability: str = MUTABLE
    scan_on_push: bool = False
    encryption_type: str = "AES256"
    kms_key: str = None
    tags: dict = dataclasses.field(default_factory=dict)
    lifecycle_policy: str = None
    lifecycle_policy_evaluated_at: float = None


@dataclasses.dataclass(frozen=True)
class Call:
    """One request to the control plane, as tests see it.

    params are the decoded request parameters with members the model marks
    sensitive replaced, or None when the body was not valid JSON.
    error is the returned error code, or None for success.
    """
    service: str
    operation: str
    params: dict
    access_key_id: str
    region: str
    status: int
    error: str


@dataclasses.dataclass(frozen=True)
class Fault:
    error_type: str
    status: int
    message: str


@dataclasses.dataclass(frozen=True)
class Secret:
    name: str
    arn: str
    version_id: str
    created_at: float
    string_value: str = None
    binary_value: bytes = None


class EmulatorState:
    """Repositories, registry passwords, secrets, faults and calls of one emulator.

    NOTE: repositories are not separated by region as in ECR. A repository
    is found by calls signed for any region, because one backing registry
    stores the images of all of them.
    """

    def __init__(self, account_id=DEFAULT_ACCOUNT_ID, region=DEFAULT_REGION,
                 token_lifetime_seconds=TOKEN_LIFETIME_SECONDS, error_type_prefix=None):
        self.account_id = account_id
        self.region = region
        self.token_lifetime_seconds = token_lifetime_seconds
        # A string such as "com.amazonaws.ecr#" put before every error code,
        # for clients that must strip everything up to '#', or None.
        self.error_type_prefix = error_type_prefix
        self.lock = threading.Lock()
        self._repositories = {}
        self._passwords = {}
        self._secrets = {}
        self._faults = collections.defaultdict(collections.deque)
        self._calls = []

    # Repositories.

    def add_repository(self, repository):
        """Store a new repository; returns False if the name is taken."""
        with self.lock:
            if repository.name in self._repositories:
                return False
            self._repositories[repository.name] = repository
            return True

    def repository(self, name):
        """Return a copy of the repository called name, or None."""
        with self.lock:
            found = self._repositories.get(name)
            return copy.deepcopy(found) if found is not None else None

    def repositories(self):
        """Return copies of every repository, sorted by name."""
        with self.lock:
            return [copy.deepcopy(self._repositories[name]) for name in sorted(self._repositories)]

    def update_repository(self, name, **changes):
        """Set fields of a repository; returns the updated copy, or None if it is missing."""
        with self.lock:
            found = self._repositories.get(name)
            if found is None:
                return None
            for field, value in changes.items():
                setattr(found, field, value)
            return copy.deepcopy(found)

    def remove_repository(self, name):
        with self.lock:
            return self._repositories.pop(name, None)

    # Registry passwords from GetAuthorizationToken.

    def issue_password(self):
        """Create a registry password; returns (password, expiry in epoch seconds)."""
        password = secrets.token_urlsafe(48)
        with self.lock:
            expires_at = time.time() + self.token_lifetime_seconds
            self._passwords[password] = expires_at
        return password, expires_at

    def password_status(self, password):
        """Return "valid", "expired" or "unknown" for a registry password."""
        with self.lock:
            expires_at = self._passwords.get(password)
        if expires_at is None:
            return "unknown"
        return "valid" if time.time() < expires_at else "expired"

    def expire_passwords(self):
        """Make every password issued so far expired."""
        with self.lock:
            now = time.time()
            for password in self._passwords:
                self._passwords[password] = min(self._passwords[password], now - 1)

    @property
    def issued_password_count(self):
        with self.lock:
            return len(self._passwords)

    # Secrets Manager.

    def add_secret(self, secret):
        with self.lock:
            self._secrets[secret.name] = secret

    def find_secret(self, secret_id):
        """Return the secret whose name or ARN is secret_id, or None."""
        with self.lock:
            for secret in self._secrets.values():
                if secret_id in (secret.name, secret.arn):
                    return secret
        return None

    # Fault injection.

    def queue_fault(self, operation, fault, count):
        with self.lock:
            self._faults[operation].extend([fault] * count)

    def take_fault(self, operation):
        """Return the next queued fault for an operation and remove it, or None."""
        with self.lock:
            queue = self._faults.get(operation)
            return queue.popleft() if queue else None

    def clear_faults(self):
        with self.lock:
            self._faults.clear()

    # Call record.

    def record_call(self, call):
        with self.lock:
            self._calls.append(call)

    def calls(self):
        with self.lock:
            return list(self._calls)

    def clear_calls(self):
        with self.lock:
            self._calls.clear()
