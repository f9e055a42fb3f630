# SPDX-License-Identifier: Apache-2.0
"""Hostile registry responses for ecr-sync's robustness tests.

HostileStub is a StubRegistry that also records the headers of every request
and can send a response without Content-Length, whose body then ends when
the server closes the connection.

The functions below build the hostile documents and responders. They cover
oversized, deeply nested and NUL-carrying manifests, descriptors with
malformed digests or sizes, indexes that list themselves, tag lists that
never end, and odd WWW-Authenticate and token responses. UploadTarget is an
in-memory push target whose upload Location headers the test chooses.

Everything listens on 127.0.0.1, like the rest of the harness.
"""

import base64
import dataclasses
import itertools
import json
import re
import socket
import threading
import urllib.parse

from .client import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, sha256_digest
from .stub import StubRegistry, StubResponse

# A response header that HostileStub consumes instead of sending: it makes
# the handler leave out Content-Length for that response.
OMIT_CONTENT_LENGTH = "X-Hostile-Omit-Content-Length"

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_BYTES = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
LAYER_BYTES = b"hostile fixture layer"
API_VERSION_HEADER = {"Docker-Distribution-Api-Version": "registry/2.0"}

_REPOSITORY = r"(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"


@dataclasses.dataclass(frozen=True)
class ReceivedRequest:
    """One request as a HostileStub received it, headers included."""
    method: str
    path: str
    query: str
    headers: tuple

    def header(self, name):
        """Return the first value of a header (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class HostileStub(StubRegistry):
    """StubRegistry that records request headers and can omit Content-Length.

    `received` lists a ReceivedRequest for every request, in order. A
    response whose headers contain OMIT_CONTENT_LENGTH is sent without
    Content-Length; close_delimited() builds such responses.
    """

    def __init__(self, log_dir, name="hostile"):
        super().__init__(log_dir, name)
        self.received = []

    def start(self):
        super().start()
        # socketserver reads RequestHandlerClass for every connection, so
        # replacing it before the first request changes every response.
        self._server.RequestHandlerClass = _hostile_handler(self._server.RequestHandlerClass,
                                                            self)
        return self

    def record(self, method, target, headers):
        url = urllib.parse.urlsplit(target)
        entry = ReceivedRequest(method, url.path, url.query, tuple(headers.items()))
        with self._lock:
            self.received.append(entry)

    def requests_to(self, path_regex, method=None):
        """Return the received requests whose path fully matches path_regex."""
        pattern = re.compile(path_regex)
        with self._lock:
            received = list(self.received)
        return [entry for entry in received
                if pattern.fullmatch(entry.path) and (method is None or entry.method == method)]

    def authorization_values(self):
        """Return every Authorization header value received, in order."""
        with self._lock:
            received = list(self.received)
        return [entry.header("Authorization") for entry in received
                if entry.header("Authorization") is not None]

    def serve_ping(self, credentials=None):
        """Serve GET /v2/ with 200, or with a Basic challenge to requests without credentials."""
        self.add_route(("GET", "HEAD"), r"/v2/", require_basic(ping_response(), credentials))

    def serve_manifest(self, repository, reference, body, media_type=OCI_MANIFEST,
                       digest=None, omit_content_length=False, credentials=None):
        """Serve body for GET and HEAD of /v2/REPOSITORY/manifests/REFERENCE.

        digest is the Docker-Content-Digest header: None sends the body's
        sha256, and "" sends no header. With credentials (user, password),
        requests without them get a Basic challenge.
        """
        headers = {"Content-Type": media_type, **API_VERSION_HEADER}
        if digest is None:
            digest = sha256_digest(body)
        if digest:
            headers["Docker-Content-Digest"] = digest
        if omit_content_length:
            response = close_delimited(200, headers, body)
        else:
            response = StubResponse(200, headers, body)
        self.add_route(("GET", "HEAD"),
                       rf"/v2/{re.escape(repository)}/manifests/{re.escape(reference)}",
                       require_basic(response, credentials))

    def serve_blob(self, repository, data):
        """Serve data for GET and HEAD of /v2/REPOSITORY/blobs/DIGEST, without authentication."""
        digest = sha256_digest(data)
        self.add_route(("GET", "HEAD"),
                       rf"/v2/{re.escape(repository)}/blobs/{re.escape(digest)}",
                       StubResponse(200, {"Content-Type": "application/octet-stream",
                                          "Docker-Content-Digest": digest,
                                          **API_VERSION_HEADER}, data))

    def redirect_blobs(self, repository, location, credentials=None):
        """Redirect every blob GET and HEAD of REPOSITORY with 307 to location(digest)."""
        def redirect(request):
            return StubResponse(307, {"Location": location(request.match.group("digest")),
                                      **API_VERSION_HEADER})
        self.add_route(("GET", "HEAD"), rf"/v2/{re.escape(repository)}/blobs/(?P<digest>[^/]+)",
                       require_basic(redirect, credentials))

    def serve_tags(self, repository, responder):
        """Route GET /v2/REPOSITORY/tags/list to responder (a StubResponse or callable)."""
        self.add_route("GET", rf"/v2/{re.escape(repository)}/tags/list", responder)


def _hostile_handler(base, stub):
    class HostileHandler(base):
        # Set again for each request; this default covers errors that the
        # base class sends before a request line could be parsed.
        _omit_content_length = False

        def setup(self):
            super().setup()
            # The base handler writes headers and body separately: without
            # TCP_NODELAY, Nagle's algorithm and delayed ACKs add about 40 ms
            # to every response, which endless tag lists multiply.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _handle_recorded(self):
            stub.record(self.command, self.path, self.headers)
            self._omit_content_length = False
            base._handle(self)

        def send_header(self, keyword, value):
            if keyword == OMIT_CONTENT_LENGTH:
                self._omit_content_length = True
                return
            if keyword.lower() == "content-length" and self._omit_content_length:
                return
            super().send_header(keyword, value)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle_recorded

    return HostileHandler


def close_delimited(status, headers, body):
    """Return a response sent without Content-Length, ended by closing the connection."""
    return StubResponse(status, {**headers, OMIT_CONTENT_LENGTH: "1", "Connection": "close"},
                        body)


def basic_authorization(user, password):
    """Return the Authorization header value of Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def require_basic(responder, credentials, realm="hostile"):
    """Wrap responder so that requests without the Basic credentials get a 401 challenge.

    credentials is (user, password), or None to leave responder unguarded.
    """
    if credentials is None:
        return responder
    expected = basic_authorization(*credentials)

    def check(request):
        if request.headers.get("Authorization") != expected:
            return error_response(401, "UNAUTHORIZED", "authentication required",
                                  {"WWW-Authenticate": f'Basic realm="{realm}"'})
        return responder(request) if callable(responder) else responder
    return check


def ping_response():
    return StubResponse(200, {"Content-Type": "application/json", **API_VERSION_HEADER}, b"{}")


def error_response(status, code, message, headers=None):
    """Return a distribution-style error response."""
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
    return StubResponse(status, {"Content-Type": "application/json", **API_VERSION_HEADER,
                                 **(headers or {})}, body)


# Manifests.

def descriptor_text(media_type, digest, size):
    """Return a descriptor as JSON text; size is written as given, even beyond 64 bits."""
    return (f'{{"mediaType":{json.dumps(media_type)},"digest":{json.dumps(digest)},'
            f'"size":{size}}}')


def oci_manifest(config_digest=None, config_size=None, layer_digest=None, layer_size=None,
                 extra_members=""):
    """Return OCI image manifest bytes with one config and one layer.

    Digests and sizes default to those of CONFIG_BYTES and LAYER_BYTES.
    extra_members is JSON text inserted as further members of the top object.
    """
    config = descriptor_text(
        OCI_CONFIG, config_digest or sha256_digest(CONFIG_BYTES),
        len(CONFIG_BYTES) if config_size is None else config_size)
    layer = descriptor_text(
        OCI_LAYER_GZIP, layer_digest or sha256_digest(LAYER_BYTES),
        len(LAYER_BYTES) if layer_size is None else layer_size)
    text = (f'{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{config},'
            f'"layers":[{layer}]{extra_members}}}')
    return text.encode("utf-8")


def oversized_manifest(size):
    """Return a well-formed OCI manifest of exactly size bytes, padded by an annotation."""
    empty = oci_manifest(extra_members=',"annotations":{"padding":""}')
    if size < len(empty):
        raise ValueError(f"size {size} is smaller than the smallest manifest ({len(empty)})")
    padding = "p" * (size - len(empty))
    return oci_manifest(extra_members=f',"annotations":{{"padding":"{padding}"}}')


def nested_manifest(depth):
    """Return an OCI manifest whose JSON nests depth levels deep, the top object included."""
    inner_depth = depth - 1
    nested = "[" * inner_depth + "]" * inner_depth
    return oci_manifest(extra_members=f',"x-nested":{nested}')


def manifest_with_nul(offset_in_annotation=4):
    """Return an OCI manifest with a raw NUL byte inside an annotation value."""
    body = oci_manifest(extra_members=',"annotations":{"note":"abcdefgh"}')
    marker = body.index(b"abcdefgh") + offset_in_annotation
    return body[:marker] + b"\x00" + body[marker:]


def oci_index(children):
    """Return OCI index bytes listing children, a list of (digest, size) pairs."""
    manifests = ",".join(
        descriptor_text(OCI_MANIFEST, digest, size)[:-1]
        + ',"platform":{"architecture":"amd64","os":"linux"}}'
        for digest, size in children)
    return f'{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{manifests}]}}'.encode()


# Tag lists.

def tag_page(repository, tags, link=None):
    """Return a tags/list page, with a Link header when link is given."""
    headers = {"Content-Type": "application/json", **API_VERSION_HEADER}
    if link is not None:
        headers["Link"] = link
    body = json.dumps({"name": repository, "tags": tags}).encode()
    return StubResponse(200, headers, body)


class EndlessTags:
    """A tags/list responder whose every page links to one more page.

    same_page=True links each page to itself; otherwise page N links to a
    new URL (last=tag-N). `pages` counts the pages served.
    """

    def __init__(self, repository, same_page=False):
        self.repository = repository
        self.same_page = same_page
        self.pages = 0
        self._lock = threading.Lock()

    def __call__(self, request):
        with self._lock:
            self.pages += 1
            page = self.pages
        path = f"/v2/{self.repository}/tags/list"
        if self.same_page:
            link = f'<{path}?n=1000>; rel="next"'
        else:
            link = f'<{path}?n=1000&last=tag-{page}>; rel="next"'
        return tag_page(self.repository, [f"tag-{page}"], link)


# Authentication.

def challenge(www_authenticate):
    """Return a 401 response carrying one WWW-Authenticate header value."""
    return error_response(401, "UNAUTHORIZED", "authentication required",
                          {"WWW-Authenticate": www_authenticate})


def json_token_response(document):
    """Return a 200 token endpoint response with a JSON body (a dict or raw bytes)."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return StubResponse(200, {"Content-Type": "application/json"}, body)


# Uploads.

@dataclasses.dataclass
class UploadSession:
    repository: str
    data: bytearray = dataclasses.field(default_factory=bytearray)


class UploadTarget:
    """An in-memory registry target for pushes, installed on one or more HostileStubs.

    location(session_id, repository) returns the Location header sent for an
    upload session. The session's PATCH and PUT may go to any stub that has
    this target installed, so a Location may point at another stub: the
    upload host. With credentials (user, password) set, the registry stub
    returns 401 with a Basic challenge to requests without them. Upload
    hosts installed with require_auth=False accept any request.
    """

    def __init__(self, location, credentials=None):
        self.location = location
        self.credentials = credentials
        self.sessions = {}
        self.blobs = {}
        self.manifests = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def install(self, stub, require_auth=True):
        credentials = self.credentials if require_auth else None

        def guarded(responder):
            return require_basic(responder, credentials, realm="hostile-target")

        blob = rf"/v2/{_REPOSITORY}/blobs/(?P<digest>[^/]+)"
        uploads = rf"/v2/{_REPOSITORY}/blobs/uploads/"
        session = rf"/v2/{_REPOSITORY}/blobs/uploads/(?P<session>[0-9a-z-]+)"
        manifest = rf"/v2/{_REPOSITORY}/manifests/(?P<reference>[^/]+)"
        stub.add_route(("GET", "HEAD"), r"/v2/", guarded(ping_response()))
        stub.add_route(("GET", "HEAD"), blob, guarded(self._blob))
        stub.add_route("POST", uploads, guarded(self._start))
        stub.add_route("PATCH", session, guarded(self._patch))
        stub.add_route("PUT", session, guarded(self._finish))
        stub.add_route(("GET", "HEAD"), manifest, guarded(self._get_manifest))
        stub.add_route("PUT", manifest, guarded(self._put_manifest))

    def _blob(self, request):
        digest = request.match.group("digest")
        with self._lock:
            data = self.blobs.get((request.match.group("name"), digest))
        if data is None:
            return error_response(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return StubResponse(200, {"Content-Type": "application/octet-stream",
                                  "Docker-Content-Digest": digest, **API_VERSION_HEADER}, data)

    def _session_response(self, status, session_id, repository, size):
        headers = {"Location": self.location(session_id, repository),
                   "Docker-Upload-UUID": session_id,
                   "Range": f"0-{max(size - 1, 0)}", **API_VERSION_HEADER}
        return StubResponse(status, headers)

    def _start(self, request):
        repository = request.match.group("name")
        session_id = f"session-{next(self._ids)}"
        with self._lock:
            self.sessions[session_id] = UploadSession(repository, bytearray(request.body))
        return self._session_response(202, session_id, repository, len(request.body))

    def _session(self, request):
        with self._lock:
            return self.sessions.get(request.match.group("session"))

    def _patch(self, request):
        session = self._session(request)
        if session is None:
            return error_response(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown")
        with self._lock:
            session.data.extend(request.body)
            size = len(session.data)
        return self._session_response(202, request.match.group("session"), session.repository,
                                      size)

    def _finish(self, request):
        session = self._session(request)
        if session is None:
            return error_response(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown")
        digest = (request.query.get("digest") or [""])[0]
        with self._lock:
            session.data.extend(request.body)
            data = bytes(session.data)
        if sha256_digest(data) != digest:
            return error_response(400, "DIGEST_INVALID", "provided digest did not match")
        with self._lock:
            self.blobs[(session.repository, digest)] = data
            del self.sessions[request.match.group("session")]
        return StubResponse(201, {"Location": f"/v2/{session.repository}/blobs/{digest}",
                                  "Docker-Content-Digest": digest, **API_VERSION_HEADER})

    def _get_manifest(self, request):
        key = (request.match.group("name"), request.match.group("reference"))
        with self._lock:
            stored = self.manifests.get(key)
        if stored is None:
            return error_response(404, "MANIFEST_UNKNOWN", "manifest unknown")
        body, media_type = stored
        return StubResponse(200, {"Content-Type": media_type,
                                  "Docker-Content-Digest": sha256_digest(body),
                                  **API_VERSION_HEADER}, body)

    def _put_manifest(self, request):
        repository = request.match.group("name")
        digest = sha256_digest(request.body)
        media_type = request.headers.get("Content-Type", DOCKER_MANIFEST)
        with self._lock:
            self.manifests[(repository, request.match.group("reference"))] = (request.body,
                                                                              media_type)
            self.manifests[(repository, digest)] = (request.body, media_type)
        return StubResponse(201, {"Location": f"/v2/{repository}/manifests/{digest}",
                                  "Docker-Content-Digest": digest, **API_VERSION_HEADER})
