# SPDX-License-Identifier: Apache-2.0
"""The emulator's data plane: a registry API proxy that behaves like ECR's.

It sits on 127.0.0.1 in front of a docker-registry that has no
authentication, and adds what ECR does on top of the distribution API:

- every request under /v2/ needs `Authorization: Basic base64(AWS:PASSWORD)`
  with a password from GetAuthorizationToken that has not expired; otherwise
  401 with `WWW-Authenticate: Basic realm="https://HOST/",service="ecr.amazonaws.com"`;
- a repository must have been created with CreateRepository: requests for
  any other repository get 404 NAME_UNKNOWN;
- a manifest PUT by tag to an IMMUTABLE repository where the tag already
  points to another digest gets 400 TAG_INVALID;
- every PATCH of a chunked upload except the last must carry at least
  min_part_size bytes (5 MiB, as for ECR upload parts). A PATCH that
  follows a smaller one gets 400 BLOB_UPLOAD_INVALID. The closing PUT may
  carry the rest of the data. The error code is this emulator's choice;
- the proxy serves tags/list itself, because docker-registry 2.8 ignores
  `n` and `last`. Tags are sorted, `n` pages them with a
  `Link: <...>; rel="next"` header, and `n` above 1000 gets 400
  PAGINATION_NUMBER_INVALID.

Request and response bodies are streamed in relay.COPY_CHUNK_BYTES pieces,
so blobs of any size pass without being held in memory. Only manifest bodies
(at most 4 MiB) are read whole. Location headers from the backing registry
are rewritten to the proxy's own address.
"""

import base64
import binascii
import dataclasses
import hashlib
import http.client
import json
import re
import threading
import urllib.parse

from .. import relay, runtime

MIN_PART_SIZE = 5 * 1024 * 1024
# How long reading the request records waits for requests still being handled.
IDLE_TIMEOUT_SECONDS = 10
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
ECR_SERVICE = "ecr.amazonaws.com"

# Request headers the proxy does not forward: it sets Host and Content-Length
# itself, and the password in Authorization is checked here, not by the
# backing registry.
_SET_BY_PROXY = frozenset({"host", "authorization", "content-length"})

_REPOSITORY_ROUTE = re.compile(
    r"^/v2/(?P<name>.+)/(?:manifests/(?P<reference>[^/]+)|blobs/uploads/(?P<upload>[^/]*)"
    r"|blobs/(?P<digest>[^/]+)|(?P<tags>tags)/list)$")
_DIGEST_REFERENCE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


@dataclasses.dataclass(frozen=True)
class ProxyRequest:
    """One request the data plane handled; body_bytes counts the request body."""
    method: str
    path: str
    repository: str
    status: int
    body_bytes: int


class RegistryProxy:
    """Data plane HTTP server on 127.0.0.1 in front of one docker-registry.

    backend is the started harness Registry, and storage reads its tags for
    the immutability check and tags/list. min_part_size may be changed while
    it runs.
    """

    def __init__(self, state, backend, storage, logger, min_part_size=MIN_PART_SIZE):
        self.state = state
        self.backend = backend
        self.storage = storage
        self.logger = logger
        self.min_part_size = min_part_size
        self.port = None
        self._server = None
        self._thread = None
        self._lock = threading.Lock()
        # Requests being handled; requests and clear_requests wait for them, so that a
        # response the client has already read is recorded before the list is read.
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        # Upload id -> size of its last PATCH, for uploads still open.
        self._upload_parts = {}
        self._manifest_lock = threading.Lock()
        self._requests = []

    @property
    def host(self):
        return f"{runtime.LOOPBACK}:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    @property
    def requests(self):
        """Return the ProxyRequest records so far, once no request is being handled."""
        with self._lock:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=IDLE_TIMEOUT_SECONDS)
            return list(self._requests)

    def clear_requests(self):
        with self._lock:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=IDLE_TIMEOUT_SECONDS)
            self._requests.clear()

    def request_started(self):
        with self._lock:
            self._in_flight += 1

    def start(self):
        self._server = relay.ProxyServer((runtime.LOOPBACK, 0), _make_handler(self),
                                         self.logger.error)
        self.port = self._server.server_address[1]
        self._thread = runtime.serve_in_thread(self._server, f"ecr-proxy-{self.port}")
        self.logger.info("data plane listening on %s, forwarding to %s", self.url,
                         self.backend.url)
        return self

    def stop(self):
        if self._server is not None:
            runtime.stop_serving(self._server, self._thread)
            self._server = None
            self.logger.info("data plane stopped")

    def request_finished(self):
        with self._lock:
            self._in_flight -= 1
            self._idle.notify_all()

    def record(self, request):
        with self._lock:
            self._requests.append(request)

    def challenge_header(self):
        return ("WWW-Authenticate", f'Basic realm="https://{self.host}/",service="{ECR_SERVICE}"')

    def rewrite_location(self, value):
        """Point an absolute URL at the backing registry to the proxy instead."""
        if value.startswith(self.backend.url + "/"):
            return self.url + value[len(self.backend.url):]
        return value

    # Rules applied before forwarding.

    def check_authorization(self, header):
        reason = None
        if not header:
            reason = "authentication required"
        else:
            scheme, _, encoded = header.partition(" ")
            try:
                user, _, password = base64.b64decode(encoded.strip(), validate=True) \
                    .decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if scheme.lower() != "basic" or user != "AWS":
                reason = "Basic credentials for the user AWS are required"
            else:
                status = self.state.password_status(password)
                if status == "expired":
                    reason = "Your authorization token has expired. Reauthenticate and try again."
                elif status == "unknown":
                    reason = "the password was not issued by GetAuthorizationToken"
        if reason is not None:
            raise relay.ErrorResponse(401, "UNAUTHORIZED", reason, [self.challenge_header()])

    def check_repository(self, name):
        repository = self.state.repository(name)
        if repository is None:
            raise relay.ErrorResponse(
                404, "NAME_UNKNOWN",
                f"The repository with name '{name}' does not exist in the registry with id "
                f"'{self.state.account_id}'")
        return repository

    def check_part(self, upload_id):
        with self._lock:
            previous = self._upload_parts.get(upload_id)
        if previous is not None and previous < self.min_part_size:
            raise relay.ErrorResponse(
                400, "BLOB_UPLOAD_INVALID",
                f"upload part of {previous} bytes is smaller than the minimum of "
                f"{self.min_part_size} bytes. Only the last part of an upload may be smaller.")

    def note_part(self, upload_id, size):
        with self._lock:
            self._upload_parts[upload_id] = size

    def forget_upload(self, upload_id):
        with self._lock:
            self._upload_parts.pop(upload_id, None)

    def tags_page(self, repository, query):
        """Return (document, Link header value or None) for a tags/list request."""
        parameters = urllib.parse.parse_qs(query)
        tags = sorted(self.storage.tags(repository.name))
        # NOTE: without n every tag is returned, as docker-registry does. The
        # page size ECR uses when n is absent is not emulated.
        count = relay.parse_page_size(parameters.get("n", [None])[0])
        page, link = relay.paginate_tags(repository.name, tags, count,
                                         parameters.get("last", [None])[0])
        return {"name": repository.name, "tags": page}, link

    def check_tag_immutability(self, repository, tag, digest):
        if repository.image_tag_mutability != "IMMUTABLE":
            return
        existing = self.storage.tags(repository.name).get(tag)
        if existing is not None and existing != digest:
            raise relay.ErrorResponse(
                400, "TAG_INVALID",
                f"The image tag '{tag}' already exists in the '{repository.name}' repository "
                "and cannot be overwritten because the repository is immutable.")


def _make_handler(proxy):
    class ProxyHandler(relay.RelayHandler):
        server_version = "ecr-emulator-registry"
        bad_gateway_message = "the backing registry failed"

        def upstream_address(self):
            return runtime.LOOPBACK, proxy.backend.port

        def _forward(self, body, payload=None):
            """Send this request to the backing registry and return its response.

            payload is bytes already read from the client, or None to stream
            body as it arrives.
            """
            headers = [("Host", proxy.backend.host),
                       *relay.forwarded_headers(self.headers, _SET_BY_PROXY)]
            return self.forward(self.command, self.path, headers, body, payload)

        def _relay(self, response):
            """Relay the backing registry's response and return its status."""
            self.relay(response, proxy.rewrite_location)
            return response.status

        # The request.

        def _handle(self):
            proxy.request_started()
            try:
                self._handle_request()
            finally:
                proxy.request_finished()

        def _handle_request(self):
            url = urllib.parse.urlsplit(self.path)
            body = relay.RequestBody(self.rfile, self.headers)
            route = _REPOSITORY_ROUTE.match(url.path)
            repository_name = route.group("name") if route else ""
            status = 0
            try:
                self.check_body(body)
                if url.path != "/v2" and not url.path.startswith("/v2/"):
                    raise relay.ErrorResponse(404, "NOT_FOUND", f"no registry API at {url.path}")
                proxy.check_authorization(self.headers.get("Authorization"))
                if route is None:
                    status = self._relay(self._forward(body))
                else:
                    repository = proxy.check_repository(repository_name)
                    status = self._forward_repository(route, repository, body)
            except relay.ErrorResponse as error:
                self.reject(error, body, url.path, proxy.logger)
                status = error.status
            except (OSError, http.client.HTTPException) as error:
                self.abandon(error, url.path, proxy.logger)
                status = 502
                if not self.headers_sent:
                    self.send_bad_gateway(error)
            else:
                proxy.logger.info("%s %s status=%d bytes=%d", self.command, url.path, status,
                                  body.received)
            proxy.record(ProxyRequest(self.command, url.path, repository_name, status,
                                      body.received))

        def _send_tags(self, repository, query):
            document, link = proxy.tags_page(repository, query)
            headers = [("Link", link)] if link is not None else []
            self.send_json(200, json.dumps(document).encode("utf-8"), headers)
            return 200

        def _forward_repository(self, route, repository, body):
            if route.group("tags") is not None and self.command in ("GET", "HEAD"):
                body.drain()
                return self._send_tags(repository, urllib.parse.urlsplit(self.path).query)
            if route.group("reference") is not None and self.command == "PUT":
                return self._put_manifest(route.group("reference"), repository, body)
            upload_id = route.group("upload")
            if upload_id and self.command == "PATCH":
                proxy.check_part(upload_id)
            response = self._forward(body)
            if upload_id:
                if self.command == "PATCH" and response.status == 202:
                    proxy.note_part(upload_id, body.received)
                elif self.command in ("PUT", "DELETE") and response.status in (201, 204):
                    proxy.forget_upload(upload_id)
            return self._relay(response)

        def _put_manifest(self, reference, repository, body):
            payload = body.read_all(MAX_MANIFEST_BYTES)
            if payload is None:
                raise relay.ErrorResponse(400, "MANIFEST_INVALID",
                                          f"manifest is larger than {MAX_MANIFEST_BYTES} bytes")
            digest = "sha256:" + hashlib.sha256(payload).hexdigest()
            is_tag = _DIGEST_REFERENCE.match(reference) is None
            # One manifest PUT at a time, so that two pushes of one tag
            # cannot both pass the immutability check.
            with proxy._manifest_lock:
                if is_tag:
                    proxy.check_tag_immutability(repository, reference, digest)
                return self._relay(self._forward(body, payload))

    return ProxyHandler
