# SPDX-License-Identifier: Apache-2.0
"""A programmable registry stub for responses docker-registry cannot give.

By default it returns 200 for `GET /v2/`, and for every manifest GET or HEAD
a signed Docker schema 1 manifest (Content-Type
application/vnd.docker.distribution.manifest.v1+prettyjws) whose
Docker-Content-Digest is computed the way registries do: over the JWS
payload, without the `signatures` block. Tests add other canned responses
with add_route(); the latest route that matches wins.
"""

import base64
import dataclasses
import hashlib
import http.server
import json
import os
import re
import threading
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from . import runtime
from .client import DOCKER_SCHEMA1_SIGNED, sha256_digest
from .relay import error_document

SIGNATURE_TIME = "2024-01-01T00:00:00Z"
# The digest of Docker's gzip-compressed empty tar archive (1024 zero bytes),
# which schema 1 images list for layers that change no files.
EMPTY_LAYER_BLOBSUM = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"


@dataclasses.dataclass
class StubRequest:
    method: str
    path: str
    query: dict
    headers: object
    body: bytes
    match: object


@dataclasses.dataclass
class StubResponse:
    status: int
    headers: dict = dataclasses.field(default_factory=dict)
    body: bytes = b""


def _base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _key_id(public_key):
    """Format a libtrust-style key ID: base32 of a truncated SPKI hash, in groups of 4."""
    spki = public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode("ascii")
    return ":".join(encoded[index:index + 4] for index in range(0, len(encoded), 4))


def make_schema1_manifest(name, tag, signing_key):
    """Build a signed schema 1 manifest; returns (body, digest).

    The payload is indented with three spaces like Docker's encoder. The JWS
    protected header records where the payload ends (formatLength) and its
    closing text (formatTail), and the digest covers the payload only.
    """
    v1_parent = {"id": "5c5d3b0c6b3f1e4f6a8f8d3f0e0f8b0c2d1f0a9e8d7c6b5a4f3e2d1c0b9a8f7e",
                 "created": SIGNATURE_TIME,
                 "container_config": {"Cmd": ["/bin/sh -c #(nop) ADD file:rootfs.tar in /"]}}
    v1_child = {"id": "9b2f0e3c4d5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c",
                "parent": v1_parent["id"],
                "created": SIGNATURE_TIME,
                "container_config": {"Cmd": ["/bin/sh -c #(nop)  CMD [\"/bin/sh\"]"]},
                "config": {"Cmd": ["/bin/sh"]},
                "architecture": "amd64",
                "os": "linux"}
    payload_document = {
        "schemaVersion": 1,
        "name": name,
        "tag": tag,
        "architecture": "amd64",
        "fsLayers": [
            {"blobSum": EMPTY_LAYER_BLOBSUM},
            {"blobSum": sha256_digest(f"schema1 rootfs for {name}".encode())},
        ],
        "history": [
            {"v1Compatibility": json.dumps(v1_child, separators=(",", ":"))},
            {"v1Compatibility": json.dumps(v1_parent, separators=(",", ":"))},
        ],
    }
    payload = json.dumps(payload_document, indent=3).encode("utf-8")

    # formatLength ends after the last value, before the closing "\n}".
    close_index = payload.rstrip().rindex(b"}")
    format_length = len(payload[:close_index].rstrip())
    format_tail = payload[format_length:]
    protected = _base64url(json.dumps({
        "formatLength": format_length,
        "formatTail": _base64url(format_tail),
        "time": SIGNATURE_TIME,
    }, separators=(",", ":")).encode())
    signing_input = f"{protected}.{_base64url(payload)}".encode("ascii")
    der_signature = signing_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r_value, s_value = decode_dss_signature(der_signature)
    signature = r_value.to_bytes(32, "big") + s_value.to_bytes(32, "big")

    numbers = signing_key.public_key().public_numbers()
    signatures = [{
        "header": {
            "jwk": {
                "crv": "P-256",
                "kid": _key_id(signing_key.public_key()),
                "kty": "EC",
                "x": _base64url(numbers.x.to_bytes(32, "big")),
                "y": _base64url(numbers.y.to_bytes(32, "big")),
            },
            "alg": "ES256",
        },
        "signature": _base64url(signature),
        "protected": protected,
    }]
    signatures_json = json.dumps(signatures, indent=3).replace("\n", "\n   ")
    body = (payload[:format_length] + b',\n   "signatures": ' + signatures_json.encode("utf-8")
            + format_tail)
    return body, sha256_digest(payload)


class StubRegistry:
    """HTTP registry stub on 127.0.0.1 with replaceable routes.

    `requests` lists (method, path) of every request received, in order.
    """

    def __init__(self, log_dir, name="stub"):
        self.name = name
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self._log = runtime.LineLog(self.log_path)
        self.port = None
        self.requests = []
        self._routes = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self._signing_key = ec.generate_private_key(ec.SECP256R1())
        self._schema1_by_digest = {}
        self.add_route(("GET", "HEAD"), r"/v2/", self._ping)
        self.add_route(("GET", "HEAD"), r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)",
                       self._schema1)

    @property
    def host(self):
        return f"{runtime.LOOPBACK}:{self.port}"

    def add_route(self, methods, path_regex, responder):
        """Route requests whose method is in methods and whose path fully matches.

        responder is a StubResponse or a callable taking a StubRequest and
        returning one. Routes added later take precedence.
        """
        if isinstance(methods, str):
            methods = (methods,)
        with self._lock:
            self._routes.insert(0, (tuple(methods), re.compile(path_regex), responder))

    def start(self):
        self._log.open()
        self._server = runtime.LoggingHTTPServer((runtime.LOOPBACK, 0), _make_handler(self),
                                                 self.log)
        self.port = self._server.server_address[1]
        self._thread = runtime.serve_in_thread(self._server, self.name)
        self.log(f"listening on {self.host}")
        return self

    def stop(self):
        if self._server is not None:
            runtime.stop_serving(self._server, self._thread)
            self._server = None
            self.log("stopped")
        self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def log(self, message):
        self._log.write(message)

    def schema1_manifest(self, name, tag):
        """Return (body, digest) of the schema 1 manifest served for name:tag."""
        body, digest = make_schema1_manifest(name, tag, self._signing_key)
        with self._lock:
            self._schema1_by_digest[digest] = (name, body)
        return body, digest

    def _ping(self, request):
        return StubResponse(200, {"Content-Type": "application/json",
                                  "Docker-Distribution-Api-Version": "registry/2.0"}, b"{}")

    def _schema1(self, request):
        name = request.match.group("name")
        reference = request.match.group("reference")
        if reference.startswith("sha256:"):
            with self._lock:
                found = self._schema1_by_digest.get(reference)
            if found is None or found[0] != name:
                return StubResponse(404, {"Content-Type": "application/json"},
                                    error_document("MANIFEST_UNKNOWN", "manifest unknown"))
            body, digest = found[1], reference
        else:
            body, digest = self.schema1_manifest(name, reference)
        return StubResponse(200, {"Content-Type": DOCKER_SCHEMA1_SIGNED,
                                  "Docker-Content-Digest": digest,
                                  "Docker-Distribution-Api-Version": "registry/2.0"}, body)

    def _route(self, method, path):
        with self._lock:
            routes = list(self._routes)
        for methods, pattern, responder in routes:
            if method not in methods:
                continue
            match = pattern.fullmatch(path)
            if match is not None:
                return responder, match
        return None, None


def _make_handler(stub):
    class StubHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ecr-sync-test-stub"

        def log_message(self, format, *args):
            pass

        def _handle(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with stub._lock:
                stub.requests.append((self.command, url.path))

            responder, match = stub._route(self.command, url.path)
            if responder is None:
                response = StubResponse(404, {"Content-Type": "application/json"},
                                        error_document("NOT_FOUND", "no stub route"))
            elif isinstance(responder, StubResponse):
                response = responder
            else:
                request = StubRequest(self.command, url.path, urllib.parse.parse_qs(url.query),
                                      self.headers, body, match)
                response = responder(request)

            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            stub.log(f"{self.command} {url.path} status={response.status}")

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return StubHandler
