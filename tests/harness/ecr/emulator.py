# SPDX-License-Identifier: Apache-2.0
"""Start the whole ECR emulator: backing registry, data plane and control plane.

    with Emulator(log_dir) as ecr:
        environment = ecr.aws_environment()   # fake keys, metadata disabled
        # aws --endpoint-url ecr.api_url ... ; registry traffic to ecr.proxy_url

Everything listens on 127.0.0.1. The control plane and data plane log to
NAME.log in the log folder, the backing registry to NAME-backing.log and
NAME-backing.access.log.
"""

import os
import time

from .. import runtime
from ..client import RegistryClient
from ..registry import Registry
from . import api, proxy, signing, state, storage

# Fake keys in the documented AKIDEXAMPLE style, which only this emulator
# accepts.
DEFAULT_CREDENTIALS = signing.TestCredentials(
    "AKIDEXAMPLEECRSYNC0001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
SESSION_CREDENTIALS = signing.TestCredentials(
    "ASIAEXAMPLEECRSYNC0002", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "FwoGZXIvYXdzEXAMPLESESSIONTOKENecrsync")
REGISTRY_USER = "AWS"


class Emulator:
    """The ECR emulator for one test session or module.

    Arguments:
      log_dir                 folder for the log files
      name                    prefix of the log files and the backing registry's name
      account_id, region      the emulated account and its default region
      token_lifetime_seconds  lifetime of GetAuthorizationToken passwords
      min_part_size           minimum size in bytes of every upload PATCH but the last
      error_type_prefix       string put before every error code, or None
      credentials             TestCredentials the control plane accepts (default:
                              DEFAULT_CREDENTIALS and SESSION_CREDENTIALS)

    Each repository gets the region its CreateRepository request was signed
    for, which its ARN and URI show.
    """

    def __init__(self, log_dir, name="ecr", account_id=state.DEFAULT_ACCOUNT_ID,
                 region=state.DEFAULT_REGION,
                 token_lifetime_seconds=state.TOKEN_LIFETIME_SECONDS,
                 min_part_size=proxy.MIN_PART_SIZE, error_type_prefix=None, credentials=None):
        self.log_dir = log_dir
        self.name = name
        self.state = state.EmulatorState(account_id, region, token_lifetime_seconds,
                                         error_type_prefix)
        self.credential_store = {}
        for entry in credentials or (DEFAULT_CREDENTIALS, SESSION_CREDENTIALS):
            self.credential_store[entry.access_key_id] = entry
        self.credentials = next(iter(self.credential_store.values()))
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.backing = Registry(log_dir, f"{name}-backing")
        self._min_part_size = min_part_size
        self.storage = None
        self.proxy = None
        self.api = None
        self._logger = None
        self._log_handler = None

    # Lifecycle.

    def start(self):
        self._open_log()
        try:
            self.backing.start()
            self.storage = storage.RegistryStorage(self.backing)
            self.proxy = proxy.RegistryProxy(self.state, self.backing, self.storage,
                                             self._logger, self._min_part_size).start()
            self.api = api.ApiServer(self.state, self.storage, self.credential_store,
                                     lambda: self.proxy.url, self._logger).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop the control plane, the data plane and the backing registry."""
        for server in (self.api, self.proxy, self.backing):
            if server is not None:
                server.stop()
        self.api = self.proxy = None
        if self._log_handler is not None:
            runtime.close_logger(self._logger, self._log_handler)
            self._log_handler = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _open_log(self):
        self._logger, self._log_handler = runtime.open_logger(
            f"harness.ecr.{self.name}.{id(self):x}", self.log_path)

    # Addresses.

    @property
    def api_url(self):
        """The control plane URL, for --endpoint-url and AWS_ENDPOINT_URL_ECR."""
        return self.api.url

    @property
    def proxy_url(self):
        """The data plane URL, which GetAuthorizationToken returns as proxyEndpoint."""
        return self.proxy.url

    @property
    def registry_host(self):
        """The data plane as "127.0.0.1:PORT"."""
        return self.proxy.host

    @property
    def account_id(self):
        return self.state.account_id

    @property
    def region(self):
        return self.state.region

    def registry_hostname(self, region=None):
        """Return the ECR registry host name, ACCOUNT.dkr.ecr.REGION.amazonaws.com."""
        return f"{self.account_id}.dkr.ecr.{region or self.region}.amazonaws.com"

    # Credentials.

    def add_credentials(self, access_key_id, secret_access_key, session_token=None):
        """Accept another key pair (with a session token for temporary credentials)."""
        entry = signing.TestCredentials(access_key_id, secret_access_key, session_token)
        self.credential_store[access_key_id] = entry
        return entry

    def aws_environment(self, credentials=None, region=None):
        """Return the AWS_* variables a child process needs to call the emulator.

        The endpoint is not included: Debian's AWS CLI 2.9 ignores
        AWS_ENDPOINT_URL*, so pass --endpoint-url api_url to it.
        """
        entry = credentials or self.credentials
        environment = {
            "AWS_ACCESS_KEY_ID": entry.access_key_id,
            "AWS_SECRET_ACCESS_KEY": entry.secret_access_key,
            "AWS_REGION": region or self.region,
            "AWS_DEFAULT_REGION": region or self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if entry.session_token:
            environment["AWS_SESSION_TOKEN"] = entry.session_token
        return environment

    # Registry passwords.

    @property
    def token_lifetime_seconds(self):
        return self.state.token_lifetime_seconds

    @token_lifetime_seconds.setter
    def token_lifetime_seconds(self, seconds):
        """Set the lifetime of passwords issued from now on."""
        self.state.token_lifetime_seconds = seconds

    def expire_tokens(self):
        """Make every registry password issued so far expired."""
        self.state.expire_passwords()

    def registry_credentials(self):
        """Issue a registry password directly; returns ("AWS", password).

        The call is not recorded, so tests can prepare the registry without
        it showing up in calls.
        """
        password, _ = self.state.issue_password()
        return REGISTRY_USER, password

    def registry_client(self):
        """Return a harness RegistryClient for the data plane with a fresh password."""
        return RegistryClient(self.registry_host, *self.registry_credentials())

    @property
    def min_part_size(self):
        return self.proxy.min_part_size

    @min_part_size.setter
    def min_part_size(self, size):
        self.proxy.min_part_size = size

    # Errors and faults.

    @property
    def error_type_prefix(self):
        return self.state.error_type_prefix

    @error_type_prefix.setter
    def error_type_prefix(self, prefix):
        """Set a prefix such as "com.amazonaws.ecr#" for every error code, or None."""
        self.state.error_type_prefix = prefix

    def inject(self, operation, error="ThrottlingException", count=1, status=None,
               message=None):
        """Return an error for the next count calls of operation instead of running them.

        status defaults to the error's usual HTTP status (400 for
        ThrottlingException and AccessDeniedException, 500 for
        InternalServerError and ServerException).
        """
        self.api.queue_fault(operation, error, count, status, message)

    def clear_faults(self):
        self.state.clear_faults()

    # Records.

    @property
    def calls(self):
        """Return every control plane call so far as state.Call records."""
        return self.state.calls()

    def calls_to(self, operation):
        return [call for call in self.state.calls() if call.operation == operation]

    def clear_calls(self):
        self.state.clear_calls()

    @property
    def registry_requests(self):
        """Return every data plane request so far as proxy.ProxyRequest records."""
        return self.proxy.requests

    def clear_registry_requests(self):
        self.proxy.clear_requests()

    # Test data.

    def preload_secret(self, name, value, region=None):
        """Store a Secrets Manager secret (str or bytes); returns its ARN."""
        return self.api.secrets_manager.add_secret(name, value, region or self.region)

    def create_repository(self, name, image_tag_mutability=state.MUTABLE, region=None):
        """Create a repository without a recorded call; returns its state.Repository.

        Raises ValueError if the name is taken.
        """
        repository = state.Repository(name=name, region=region or self.region,
                                      created_at=time.time(),
                                      image_tag_mutability=image_tag_mutability)
        if not self.state.add_repository(repository):
            raise ValueError(f"repository '{name}' already exists")
        return repository

    def repository(self, name):
        """Return a copy of the repository's state.Repository, or None."""
        return self.state.repository(name)

    def tags(self, name):
        """Return {tag: digest} of a repository as the backing registry stores them."""
        return self.storage.tags(name)
