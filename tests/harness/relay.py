# SPDX-License-Identifier: Apache-2.0
"""Reverse proxy pieces shared by the harness's three proxies.

The ECR emulator's data plane (ecr/proxy.py), the Docker Hub-like front
(hubfront.py) and the fault proxy (faultproxy.py) each forward requests to
one HTTP server on loopback, called the upstream here. This module contains
what they do the same way:

- RequestBody reads the client's request body in pieces, framed by
  Content-Length or chunked, so that blobs of any size pass without being
  held in memory;
- RelayHandler keeps one kept-alive upstream connection per client
  connection, forwards requests on it, and relays the upstream's response
  with its body streamed;
- error_document, ErrorResponse and the tags/list paging functions give the
  distribution API's error bodies and `n`/`last` pages.

Each proxy keeps its own routing, rules, counters and records.
"""

import http.client
import http.server
import json
import urllib.parse

from . import runtime

COPY_CHUNK_BYTES = 256 * 1024
UPSTREAM_TIMEOUT_SECONDS = 120
LISTEN_BACKLOG = 128
MAX_TAGS_PAGE = 1000
API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# Maximum lengths of a chunk size line and of a trailer field line read from a client.
MAX_CHUNK_SIZE_LINE = 1024
MAX_TRAILER_LINE = 65536
LAST_CHUNK = b"0\r\n\r\n"

# Headers that describe one connection and are never forwarded.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "expect", "proxy-connection"})


# Distribution API errors and pages.

def error_document(code, message):
    """Return a distribution API error body as bytes."""
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


class ErrorResponse(Exception):
    """A distribution-style error that a proxy sends instead of forwarding."""

    def __init__(self, status, code, message, headers=()):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = list(headers)


def parse_page_size(text, page_size=None):
    """Return the number of tags for one page from the `n` parameter text.

    A missing `n` gives page_size, and page_size None means no maximum.
    Raises ErrorResponse for a value that is not an integer from 0 to
    MAX_TAGS_PAGE.
    """
    if text is None:
        return page_size
    try:
        requested = int(text)
    except ValueError:
        requested = -1
    if not 0 <= requested <= MAX_TAGS_PAGE:
        raise ErrorResponse(
            400, "PAGINATION_NUMBER_INVALID",
            f"invalid number of results requested: n={text!r} is not an integer from 0 to "
            f"{MAX_TAGS_PAGE}")
    return requested if page_size is None else min(requested, page_size)


def paginate_tags(repository, tags, count, last):
    """Return (page, Link header value or None) for sorted tags after `last`.

    count None returns every tag after `last` in one page.
    """
    remaining = [tag for tag in tags if last is None or tag > last]
    page = remaining[:count]
    link = None
    if page and len(remaining) > len(page):
        query = urllib.parse.urlencode({"n": count, "last": page[-1]})
        link = f'</v2/{repository}/tags/list?{query}>; rel="next"'
    return page, link


# Request bodies.

def encode_chunk(data):
    """Return data framed as one chunk of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class RequestBody:
    """The body of the request being handled, read in pieces as it is forwarded.

    chunked is whether the client sent it chunked. Otherwise declared is the
    Content-Length header as sent (None when absent) and length its value:
    0 when absent, -1 when it is not an integer. received counts the body
    bytes read so far.
    """

    def __init__(self, rfile, headers, piece_bytes=COPY_CHUNK_BYTES):
        self._rfile = rfile
        self._piece_bytes = piece_bytes
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self.declared = headers.get("Content-Length")
        self.length = 0
        if not self.chunked and self.declared is not None:
            try:
                self.length = int(self.declared)
            except ValueError:
                self.length = -1
        self.received = 0
        self.consumed = False

    @property
    def valid(self):
        return self.chunked or self.length >= 0

    @property
    def empty(self):
        return not self.chunked and self.length == 0

    def pieces(self):
        """Yield the body in pieces of at most piece_bytes, and nothing on later calls."""
        if self.consumed:
            return
        self.consumed = True
        if self.chunked:
            yield from self._chunked_pieces()
        else:
            yield from self._exact_pieces(self.length)

    def _exact_pieces(self, size):
        remaining = size
        while remaining > 0:
            data = self._rfile.read(min(self._piece_bytes, remaining))
            if not data:
                raise ConnectionError("the client closed the connection inside the request body")
            remaining -= len(data)
            self.received += len(data)
            yield data

    def _chunked_pieces(self):
        while True:
            size_line = self._rfile.readline(MAX_CHUNK_SIZE_LINE)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ConnectionError(f"invalid chunk size line {size_line[:40]!r}") from None
            if size == 0:
                # Trailer fields, if any, end with an empty line.
                while self._rfile.readline(MAX_TRAILER_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return
            yield from self._exact_pieces(size)
            self._rfile.readline(MAX_CHUNK_SIZE_LINE)  # the CRLF that ends the chunk data

    def read_all(self, limit):
        """Return the whole body, or None after draining it if it is longer than limit bytes."""
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


# Forwarding.

def forwarded_headers(headers, drop=frozenset()):
    """Return the client's headers as (name, value) pairs to send upstream.

    Hop-by-hop headers and the headers named in drop (lowercase) are left
    out.
    """
    return [(name, value) for name, value in headers.items()
            if name.lower() not in HOP_BY_HOP and name.lower() not in drop]


class ProxyServer(runtime.LoggingHTTPServer):
    """The threading server that every proxy listens with."""

    # The default backlog of 5 makes parallel clients wait for SYN retries.
    request_queue_size = LISTEN_BACKLOG


class RelayHandler(http.server.BaseHTTPRequestHandler):
    """Request handler base class that forwards to one upstream and relays responses.

    Every request method goes to _handle(). A subclass defines _handle()
    and upstream_address(), and calls forward() and relay(). url_headers
    names the response headers (lowercase) whose values relay() and
    send_relayed_head() pass through their rewrite function, and bad_gateway_message starts the message of the 502
    that send_bad_gateway() sends. headers_sent becomes True once the
    current request's response headers were sent.
    """

    protocol_version = "HTTP/1.1"
    url_headers = frozenset({"location"})
    bad_gateway_message = "forwarding to the upstream failed"

    def log_message(self, format, *args):
        # Each proxy logs its requests itself, without credentials.
        pass

    def setup(self):
        super().setup()
        self._upstream = None

    def finish(self):
        self.close_upstream()
        super().finish()

    def do_GET(self):
        self.headers_sent = False
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self):
        """Handle the request, whatever its method."""
        raise NotImplementedError

    def upstream_address(self):
        """Return (host, port) of the upstream."""
        raise NotImplementedError

    def close_upstream(self):
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None

    # Requests to the upstream.

    def forward(self, method, target, headers, body=None, payload=None):
        """Send a request upstream and return the response.

        headers are (name, value) pairs, to which the body's framing is
        added. The body is payload when given (bytes already read, sent with
        their Content-Length), else body streamed as it arrives, else none.
        A kept-alive upstream connection that the server closed is opened
        again, unless part of a streamed body was already sent.
        """
        try:
            return self._send_upstream(method, target, headers, body, payload)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close_upstream()
            if payload is None and body is not None and body.consumed and not body.empty:
                raise
            return self._send_upstream(method, target, headers, body, payload)

    def _send_upstream(self, method, target, headers, body, payload):
        if self._upstream is None:
            host, port = self.upstream_address()
            self._upstream = http.client.HTTPConnection(host, port,
                                                        timeout=UPSTREAM_TIMEOUT_SECONDS)
        connection = self._upstream
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if payload is not None:
            connection.putheader("Content-Length", str(len(payload)))
        elif body is not None and body.chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        elif body is not None and body.declared is not None:
            connection.putheader("Content-Length", str(body.length))
        connection.endheaders()

        if payload is not None:
            if payload:
                connection.send(payload)
        elif body is not None:
            for piece in body.pieces():
                connection.send(encode_chunk(piece) if body.chunked else piece)
            if body.chunked:
                connection.send(LAST_CHUNK)
        return connection.getresponse()

    # Responses to the client.

    def send_relayed_head(self, response, rewrite=None, extra_headers=()):
        """Send the upstream response's status and headers, and return (has_body, chunked).

        rewrite, when given, maps the value of each header named in
        url_headers. A body without a Content-Length is sent chunked.
        """
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            lower = name.lower()
            if lower in HOP_BY_HOP or lower == "content-length":
                continue
            if rewrite is not None and lower in self.url_headers:
                value = rewrite(value)
            self.send_header(name, value)
        for name, value in extra_headers:
            self.send_header(name, value)

        length = response.getheader("Content-Length")
        has_body = (self.command != "HEAD" and response.status >= 200
                    and response.status not in (204, 304))
        if length is not None:
            self.send_header("Content-Length", length)
        elif has_body:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.headers_sent = True
        return has_body, length is None

    def write_body_piece(self, data, chunked):
        self.wfile.write(encode_chunk(data) if chunked else data)

    def relay(self, response, rewrite=None, extra_headers=()):
        """Send the upstream's response to the client, streaming its body."""
        has_body, chunked = self.send_relayed_head(response, rewrite, extra_headers)
        if not has_body:
            response.read()
            return
        while True:
            data = response.read(COPY_CHUNK_BYTES)
            if not data:
                break
            self.write_body_piece(data, chunked)
        if chunked:
            self.wfile.write(LAST_CHUNK)

    def send_json(self, status, data, headers=()):
        """Send a distribution API JSON response; data is the encoded body."""
        self.send_response_only(status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header(*API_VERSION_HEADER)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.headers_sent = True
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error_document(self, error):
        """Send an ErrorResponse as a distribution API error."""
        self.send_json(error.status, error_document(error.code, error.message), error.headers)

    def send_bad_gateway(self, error):
        """Send 502 UNAVAILABLE for error, unless the client connection is gone too."""
        try:
            self.send_error_document(ErrorResponse(502, "UNAVAILABLE",
                                                   f"{self.bad_gateway_message}: {error}"))
        except OSError:
            pass

    # Rejected and failed requests.

    def check_body(self, body):
        """Raise ErrorResponse 400 UNSUPPORTED when the body's Content-Length is invalid.

        The connection is closed after the response, because where the body
        ends is unknown.
        """
        if not body.valid:
            self.close_connection = True
            raise ErrorResponse(400, "UNSUPPORTED",
                                f"invalid Content-Length '{self.headers.get('Content-Length')}'")

    def reject(self, error, body, path, logger):
        """Send error instead of forwarding and log it.

        The rest of the request body is read first, so that the connection
        can take the next request, unless it is closing anyway.
        """
        if not self.close_connection:
            body.drain()
        self.send_error_document(error)
        logger.info("%s %s status=%d error=%s: %s", self.command, path, error.status,
                    error.code, error.message)

    def abandon(self, error, path, logger):
        """Close both connections after a connection error and log it.

        error is an OSError or http.client.HTTPException from the client or
        the upstream in the middle of a request, after which neither
        connection can be trusted any more.
        """
        self.close_connection = True
        self.close_upstream()
        logger.warning("%s %s failed: %s: %s", self.command, path, type(error).__name__, error)
