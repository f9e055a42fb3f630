# SPDX-License-Identifier: Apache-2.0
"""A small distribution API client for pushing fixtures and checking results.

It speaks plain HTTP to 127.0.0.1 only. It handles Bearer challenges, by
fetching a token from the challenge's realm with Basic credentials when it has
them, and Basic challenges. Blobs are uploaded either in one PUT or as a
stream of PATCH chunks that the caller generates. The client is independent of
ecr-sync, so tests can use it to check what ecr-sync did.
"""

import base64
import dataclasses
import hashlib
import http.client
import json
import re
import time
import urllib.parse

from . import runtime

USER_AGENT = "ecr-sync-test-harness/1"
TOKEN_EXPIRY_MARGIN_SECONDS = 5

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
INDEX_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
ALL_MANIFEST_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST,
                            DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1)

_REPOSITORY_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags)/")
_CHALLENGE_PARAMETER = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


def sha256_digest(data):
    """Return the `sha256:HEX` digest of bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_challenge(header):
    """Parse a WWW-Authenticate header into (scheme, {parameter: value})."""
    scheme, _, rest = header.strip().partition(" ")
    parameters = {}
    for match in _CHALLENGE_PARAMETER.finditer(rest):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        parameters[match.group(1).lower()] = value.replace('\\"', '"')
    return scheme.lower(), parameters


class RegistryError(Exception):
    """A registry request that ended with an unexpected HTTP status."""

    def __init__(self, method, url, status, body):
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        text = body[:500].decode("utf-8", errors="replace") if body else ""
        super().__init__(f"{method} {url}: HTTP {status} {text}".rstrip())


@dataclasses.dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str


@dataclasses.dataclass
class Manifest:
    """Manifest bytes as the registry returned them."""
    body: bytes
    media_type: str
    digest: str

    def json(self):
        return json.loads(self.body)


class RegistryClient:
    """Client for one registry at host "127.0.0.1:PORT" over plain HTTP."""

    def __init__(self, host, username=None, password=None, timeout=60):
        hostname, _, port = host.rpartition(":")
        if hostname != runtime.LOOPBACK:
            raise ValueError(f"the test client only talks to {runtime.LOOPBACK}, not '{host}'")
        self.host = host
        self.port = int(port)
        self.username = username
        self.password = password
        self.timeout = timeout
        self.base_url = f"http://{host}"
        self._use_basic = False
        self._tokens = {}
        self.token_requests = 0

    def _basic_header(self, username, password):
        encoded = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
        return f"Basic {encoded}"

    def _send(self, method, url, headers, body):
        parts = urllib.parse.urlsplit(url)
        if parts.hostname != runtime.LOOPBACK:
            raise RegistryError(method, url, 0, b"refusing to follow a URL off loopback")
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return Response(response.status, response.headers, data, url)
        finally:
            connection.close()

    def _fetch_token(self, parameters):
        """Fetch a Bearer token for a challenge; returns (token, expiry)."""
        query = [("service", parameters.get("service", ""))]
        for scope in parameters.get("scope", "").split(" "):
            if scope:
                query.append(("scope", scope))
        headers = {"User-Agent": USER_AGENT}
        if self.username is not None:
            query.append(("account", self.username))
            headers["Authorization"] = self._basic_header(self.username, self.password)
        url = parameters["realm"] + "?" + urllib.parse.urlencode(query)
        self.token_requests += 1
        response = self._send("GET", url, headers, None)
        if response.status != 200:
            raise RegistryError("GET", url, response.status, response.body)
        document = json.loads(response.body)
        token = document.get("token") or document.get("access_token")
        if not token:
            raise RegistryError("GET", url, response.status, b"token response without a token")
        expires_in = int(document.get("expires_in") or 60)
        return token, time.monotonic() + expires_in - TOKEN_EXPIRY_MARGIN_SECONDS

    def _authorization(self, path):
        if self._use_basic:
            return self._basic_header(self.username, self.password)
        match = _REPOSITORY_PATH.match(path)
        cached = self._tokens.get(match.group("name") if match else "")
        if cached is not None and cached[1] > time.monotonic():
            return f"Bearer {cached[0]}"
        return None

    def request(self, method, path_or_url, headers=None, body=None, expected=None):
        """Send a request, and send it again once after an authentication challenge.

        expected, when given, is a tuple of statuses; any other status raises
        RegistryError. Returns a Response.
        """
        url = urllib.parse.urljoin(self.base_url + "/", path_or_url)
        path = urllib.parse.urlsplit(url).path
        request_headers = {"User-Agent": USER_AGENT}
        request_headers.update(headers or {})
        authorization = self._authorization(path)
        if authorization is not None:
            request_headers["Authorization"] = authorization
        response = self._send(method, url, request_headers, body)

        if response.status == 401 and "WWW-Authenticate" in response.headers:
            scheme, parameters = parse_challenge(response.headers["WWW-Authenticate"])
            retry = False
            if scheme == "bearer" and "realm" in parameters:
                token, expiry = self._fetch_token(parameters)
                match = _REPOSITORY_PATH.match(path)
                self._tokens[match.group("name") if match else ""] = (token, expiry)
                request_headers["Authorization"] = f"Bearer {token}"
                retry = True
            elif scheme == "basic" and self.username is not None and not self._use_basic:
                self._use_basic = True
                request_headers["Authorization"] = self._basic_header(self.username,
                                                                      self.password)
                retry = True
            if retry:
                response = self._send(method, url, request_headers, body)

        if expected is not None and response.status not in expected:
            raise RegistryError(method, url, response.status, response.body)
        return response

    def ping(self):
        """Return the status of GET /v2/ after authenticating."""
        return self.request("GET", "/v2/").status

    def blob_exists(self, repository, digest):
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", expected=(200, 404))
        return response.status == 200

    def get_blob(self, repository, digest):
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}", expected=(200,))
        return response.body

    def _start_upload(self, repository):
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/",
                                headers={"Content-Length": "0"}, body=b"", expected=(202,))
        return urllib.parse.urljoin(response.url, response.headers["Location"])

    @staticmethod
    def _with_digest(location, digest):
        separator = "&" if "?" in location else "?"
        return f"{location}{separator}digest={urllib.parse.quote(digest, safe='')}"

    def push_blob(self, repository, data, skip_existing=True):
        """Upload bytes as one blob (POST, then a monolithic PUT); returns the digest."""
        digest = sha256_digest(data)
        if skip_existing and self.blob_exists(repository, digest):
            return digest
        location = self._start_upload(repository)
        self.request("PUT", self._with_digest(location, digest),
                     headers={"Content-Type": "application/octet-stream",
                              "Content-Length": str(len(data))},
                     body=data, expected=(201,))
        return digest

    def push_blob_chunks(self, repository, chunks):
        """Upload a blob from an iterable of byte chunks, one PATCH per chunk.

        Only one chunk is in memory at a time, so the blob may be larger than
        memory. Returns (digest, size).
        """
        location = self._start_upload(repository)
        hasher = hashlib.sha256()
        offset = 0
        for chunk in chunks:
            if not chunk:
                continue
            hasher.update(chunk)
            response = self.request(
                "PATCH", location,
                headers={"Content-Type": "application/octet-stream",
                         "Content-Length": str(len(chunk)),
                         "Content-Range": f"{offset}-{offset + len(chunk) - 1}"},
                body=chunk, expected=(202,))
            offset += len(chunk)
            location = urllib.parse.urljoin(response.url, response.headers["Location"])
        digest = "sha256:" + hasher.hexdigest()
        self.request("PUT", self._with_digest(location, digest),
                     headers={"Content-Length": "0"}, body=b"", expected=(201,))
        return digest, offset

    def put_manifest(self, repository, reference, body, media_type):
        """Push manifest bytes unchanged; returns the digest the registry reports."""
        response = self.request("PUT", f"/v2/{repository}/manifests/{reference}",
                                headers={"Content-Type": media_type,
                                         "Content-Length": str(len(body))},
                                body=body, expected=(201,))
        digest = response.headers.get("Docker-Content-Digest")
        if digest != sha256_digest(body):
            raise RegistryError("PUT", response.url, response.status,
                                f"registry reported digest {digest}".encode())
        return digest

    def get_manifest(self, repository, reference, accept=ALL_MANIFEST_MEDIA_TYPES):
        response = self.request("GET", f"/v2/{repository}/manifests/{reference}",
                                headers={"Accept": ", ".join(accept)}, expected=(200,))
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Manifest(response.body, media_type, sha256_digest(response.body))

    def head_manifest(self, repository, reference, accept=ALL_MANIFEST_MEDIA_TYPES):
        """Return (status, headers) of a manifest HEAD; 404 is not an error."""
        response = self.request("HEAD", f"/v2/{repository}/manifests/{reference}",
                                headers={"Accept": ", ".join(accept)}, expected=(200, 404))
        return response.status, response.headers
