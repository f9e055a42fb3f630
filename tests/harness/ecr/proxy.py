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

Request and response bodies are streamed in COPY_CHUNK_BYTES pieces, so
blobs of any size pass without being held in memory. Only manifest bodies
(at most 4 MiB) are read whole. Location headers from the backing registry
are rewritten to the proxy's own address.
"""

import base64
import binascii
import dataclasses
import hashlib
import http.client
import http.server
import json
import re
import threading
import urllib.parse

LOOPBACK = "127.0.0.1"
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_TAGS_PAGE = 1000
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
COPY_CHUNK_BYTES = 256 * 1024
BACKEND_TIMEOUT_SECONDS = 120
ECR_SERVICE = "ecr.amazonaws.com"
API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")

# Hop-by-hop headers, which describe one connection and are not forwarded,
# and the headers the proxy sets itself.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
               "trailer", "transfer-encoding", "upgrade", "expect", "proxy-connection"}
_SET_BY_PROXY = {"host", "authorization", "content-length"}

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


class _Rejection(Exception):
    """A distribution-style error response sent instead of forwarding."""

    def __init__(self, status, code, message, headers=()):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = list(headers)


class _RequestBody:
    """The body of the request being handled, read in pieces as it is forwarded."""

    def __init__(self, rfile, headers):
        self._rfile = rfile
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self.length = 0
        if not self.chunked and headers.get("Content-Length") is not None:
            try:
                self.length = int(headers["Content-Length"])
            except ValueError:
                self.length = None
        self.received = 0
        self._consumed = False

    @property
    def valid(self):
        return self.chunked or (self.length is not None and self.length >= 0)

    def pieces(self):
        """Yield the body in pieces of at most COPY_CHUNK_BYTES (on the first call only)."""
        if self._consumed:
            return
        self._consumed = True
        if self.chunked:
            yield from self._chunked_pieces()
            return
        remaining = self.length or 0
        while remaining > 0:
            data = self._rfile.read(min(COPY_CHUNK_BYTES, remaining))
            if not data:
                raise ConnectionError("client closed the connection in the request body")
            remaining -= len(data)
            self.received += len(data)
            yield data

    def _chunked_pieces(self):
        while True:
            size_line = self._rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ConnectionError(f"invalid chunk size line {size_line[:40]!r}") from None
            if size == 0:
                # Skip any trailer fields up to the blank line.
                while self._rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass
                return
            remaining = size
            while remaining > 0:
                data = self._rfile.read(min(COPY_CHUNK_BYTES, remaining))
                if not data:
                    raise ConnectionError("client closed the connection in a chunk")
                remaining -= len(data)
                self.received += len(data)
                yield data
            self._rfile.readline(1024)  # the CRLF after the chunk data

    def read_all(self, limit):
        """Return the whole body, or None if it is longer than limit bytes."""
        parts = []
        total = 0
        for piece in self.pieces():
            total += len(piece)
            if total > limit:
                self.drain()
                return None
            parts.append(piece)
        return b"".join(parts)

    def drain(self):
        for _ in self.pieces():
            pass


def _error_document(code, message):
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


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
        # Upload id -> size of its last PATCH, for uploads still open.
        self._upload_parts = {}
        self._manifest_lock = threading.Lock()
        self._requests = []

    @property
    def host(self):
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    @property
    def requests(self):
        """Return the ProxyRequest records so far."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self):
        with self._lock:
            self._requests.clear()

    def start(self):
        self._server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _make_handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name=f"ecr-proxy-{self.port}", daemon=True)
        self._thread.start()
        self.logger.info("data plane listening on %s, forwarding to %s", self.url,
                         self.backend.url)
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None
            self.logger.info("data plane stopped")

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
            raise _Rejection(401, "UNAUTHORIZED", reason, [self.challenge_header()])

    def check_repository(self, name):
        repository = self.state.repository(name)
        if repository is None:
            raise _Rejection(404, "NAME_UNKNOWN",
                             f"The repository with name '{name}' does not exist in the registry "
                             f"with id '{self.state.account_id}'")
        return repository

    def check_part(self, upload_id):
        with self._lock:
            previous = self._upload_parts.get(upload_id)
        if previous is not None and previous < self.min_part_size:
            raise _Rejection(400, "BLOB_UPLOAD_INVALID",
                             f"upload part of {previous} bytes is smaller than the minimum of "
                             f"{self.min_part_size} bytes. Only the last part of an upload "
                             "may be smaller.")

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
        last = parameters.get("last", [None])[0]
        if last is not None:
            tags = [tag for tag in tags if tag > last]
        count_text = parameters.get("n", [None])[0]
        # NOTE: without n every tag is returned, as docker-registry does. The
        # page size ECR uses when n is absent is not emulated.
        if count_text is None:
            return {"name": repository.name, "tags": tags}, None
        try:
            count = int(count_text)
        except ValueError:
            count = -1
        if not 0 <= count <= MAX_TAGS_PAGE:
            raise _Rejection(400, "PAGINATION_NUMBER_INVALID",
                             f"invalid number of results requested: n={count_text} is not "
                             f"between 0 and {MAX_TAGS_PAGE}")
        page = tags[:count]
        link = None
        if len(tags) > count and page:
            next_query = urllib.parse.urlencode({"n": count, "last": page[-1]})
            link = f'</v2/{repository.name}/tags/list?{next_query}>; rel="next"'
        return {"name": repository.name, "tags": page}, link

    def check_tag_immutability(self, repository, tag, digest):
        if repository.image_tag_mutability != "IMMUTABLE":
            return
        existing = self.storage.tags(repository.name).get(tag)
        if existing is not None and existing != digest:
            raise _Rejection(400, "TAG_INVALID",
                             f"The image tag '{tag}' already exists in the '{repository.name}' "
                             "repository and cannot be overwritten because the repository is "
                             "immutable.")


def _make_handler(proxy):
    class ProxyHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ecr-emulator-registry"

        def log_message(self, format, *args):
            # _handle logs each request, without the Authorization header.
            pass

        def setup(self):
            super().setup()
            self._backend = None

        def finish(self):
            if self._backend is not None:
                self._backend.close()
            super().finish()

        def do_GET(self):
            self._handle()

        do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        # Responses.

        def _send_error(self, rejection):
            data = _error_document(rejection.code, rejection.message)
            self.send_response_only(rejection.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header(*API_VERSION_HEADER)
            for name, value in rejection.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _relay(self, response):
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                lower = name.lower()
                if lower in _HOP_BY_HOP or lower == "content-length":
                    continue
                if lower == "location":
                    value = proxy.rewrite_location(value)
                self.send_header(name, value)
            length = response.getheader("Content-Length")
            has_body = (self.command != "HEAD" and response.status >= 200
                        and response.status not in (204, 304))
            if length is not None:
                self.send_header("Content-Length", length)
            elif has_body:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not has_body:
                response.read()
                return
            while True:
                data = response.read(COPY_CHUNK_BYTES)
                if not data:
                    break
                if length is None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
            if length is None:
                self.wfile.write(b"0\r\n\r\n")

        # Forwarding.

        def _backend_connection(self):
            if self._backend is None:
                self._backend = http.client.HTTPConnection(
                    LOOPBACK, proxy.backend.port, timeout=BACKEND_TIMEOUT_SECONDS)
            return self._backend

        def _send_to_backend(self, body, payload):
            """Send this request to the backing registry and return its response.

            payload is bytes already read from the client, or None to stream
            body as it arrives.
            """
            connection = self._backend_connection()
            connection.putrequest(self.command, self.path, skip_host=True,
                                  skip_accept_encoding=True)
            connection.putheader("Host", proxy.backend.host)
            for name, value in self.headers.items():
                if name.lower() not in _HOP_BY_HOP and name.lower() not in _SET_BY_PROXY:
                    connection.putheader(name, value)
            if payload is not None:
                connection.putheader("Content-Length", str(len(payload)))
            elif body.chunked:
                connection.putheader("Transfer-Encoding", "chunked")
            elif body.length:
                connection.putheader("Content-Length", str(body.length))
            connection.endheaders()

            if payload is not None:
                connection.send(payload)
            elif body.chunked:
                for piece in body.pieces():
                    connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                connection.send(b"0\r\n\r\n")
            else:
                for piece in body.pieces():
                    connection.send(piece)
            return connection.getresponse()

        def _forward(self, body, payload=None):
            try:
                return self._send_to_backend(body, payload)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive backend connection may have been closed by the
                # registry. Only a request whose body is not consumed yet can
                # be sent again.
                self._backend.close()
                self._backend = None
                if payload is None and (body.chunked or body.length):
                    raise
                return self._send_to_backend(body, payload)

        # The request.

        def _handle(self):
            url = urllib.parse.urlsplit(self.path)
            body = _RequestBody(self.rfile, self.headers)
            route = _REPOSITORY_ROUTE.match(url.path)
            repository_name = route.group("name") if route else ""
            status = 0
            self._headers_sent = False
            try:
                if not body.valid:
                    self.close_connection = True
                    raise _Rejection(400, "UNSUPPORTED", "invalid Content-Length "
                                     f"'{self.headers.get('Content-Length')}'")
                if url.path != "/v2" and not url.path.startswith("/v2/"):
                    raise _Rejection(404, "NOT_FOUND", f"no registry API at {url.path}")
                proxy.check_authorization(self.headers.get("Authorization"))
                if route is None:
                    status = self._forward_plain(body)
                else:
                    repository = proxy.check_repository(repository_name)
                    status = self._forward_repository(route, repository, body)
            except _Rejection as rejection:
                if not self.close_connection:
                    body.drain()
                self._send_error(rejection)
                status = rejection.status
                proxy.logger.info("%s %s status=%d error=%s: %s", self.command, url.path,
                                  status, rejection.code, rejection.message)
            except (OSError, http.client.HTTPException) as error:
                # The client or the backing registry went away mid-request;
                # the connection is in an unknown state.
                self.close_connection = True
                if self._backend is not None:
                    self._backend.close()
                    self._backend = None
                proxy.logger.warning("%s %s failed: %s", self.command, url.path, error)
                status = 502
                if not self._headers_sent:
                    self._try_send_bad_gateway(error)
            else:
                proxy.logger.info("%s %s status=%d bytes=%d", self.command, url.path, status,
                                  body.received)
            proxy.record(ProxyRequest(self.command, url.path, repository_name, status,
                                      body.received))

        def _try_send_bad_gateway(self, error):
            try:
                self._send_error(_Rejection(502, "UNAVAILABLE",
                                            f"the backing registry failed: {error}"))
            except OSError:
                pass

        def _forward_plain(self, body):
            response = self._forward(body)
            self._headers_sent = True
            self._relay(response)
            return response.status

        def _send_tags(self, repository, query):
            document, link = proxy.tags_page(repository, query)
            data = json.dumps(document).encode("utf-8")
            self.send_response_only(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header(*API_VERSION_HEADER)
            if link is not None:
                self.send_header("Link", link)
            self.end_headers()
            self._headers_sent = True
            if self.command != "HEAD":
                self.wfile.write(data)
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
            self._headers_sent = True
            self._relay(response)
            return response.status

        def _put_manifest(self, reference, repository, body):
            payload = body.read_all(MAX_MANIFEST_BYTES)
            if payload is None:
                raise _Rejection(400, "MANIFEST_INVALID",
                                 f"manifest is larger than {MAX_MANIFEST_BYTES} bytes")
            digest = "sha256:" + hashlib.sha256(payload).hexdigest()
            is_tag = _DIGEST_REFERENCE.match(reference) is None
            # One manifest PUT at a time, so that two pushes of one tag
            # cannot both pass the immutability check.
            with proxy._manifest_lock:
                if is_tag:
                    proxy.check_tag_immutability(repository, reference, digest)
                response = self._forward(body, payload)
                self._headers_sent = True
                self._relay(response)
            return response.status

    return ProxyHandler
