# SPDX-License-Identifier: Apache-2.0
"""A fault-injecting HTTP reverse proxy for the end-to-end tests.

FaultProxy listens on 127.0.0.1 in front of one upstream HTTP server on
loopback: a registry, the token server, or the ECR emulator's control plane
or data plane. Requests pass through unchanged and streamed, Range headers
included, until a test adds a rule:

    proxy.add_rule(faultproxy.status(503), method="GET", path=r"/v2/.+/blobs/.+", nth=2)

A rule matches on the method, a regular expression that must match the whole
path (without the query), and optionally regular expressions on request
headers (`headers={"X-Amz-Target": r".*\\.CreateRepository"}`). It fires on
the nth matching request only (nth=N), on the next `times` matching requests
(the default is the next one), or on every matching request (times=None).
Each rule counts every request it matches, including those another rule
fired on. When several rules fire on one request, the first added wins.

The faults, built with the functions below:

- status(code): a response with that status instead of forwarding. With
  forward=True the request is forwarded first, so the upstream acts but the
  client gets the error. too_many_requests(retry_after) is Docker Hub's 429.
- reset(after_bytes): forward, send the response headers and after_bytes
  body bytes, then reset the connection (TCP RST). reset() with no byte
  count resets before any response is sent.
- truncate(after_bytes): forward, send the headers with the upstream's
  Content-Length and only after_bytes body bytes, then close the connection
  normally.
- flip_byte(offset, mask): forward, with the body byte at offset XORed with
  mask, so a blob no longer matches its digest.
- expired_token(): 401 with the challenge the upstream returns to an
  unauthenticated HEAD of the same path, as when a token expires.
- drip(bytes_per_second, max_seconds): forward the body at that rate; after
  max_seconds the rest is sent at full speed.
- ignore_range(): forward without the Range header, like a server without
  range support, so the upstream returns 200 with the whole body.
- redirect(target): 307 to a RedirectTarget, a second listener (by default on
  127.0.0.2, a different host) that serves the same resource from the
  upstream and records every request's headers, as a CDN would.

Every request is recorded (method, path, query, status, the fault applied,
request headers with Authorization values replaced by their scheme, byte
counts and times) and logged to NAME.log in the log folder. Absolute URLs of
the upstream in Location, Link and WWW-Authenticate response headers are
rewritten to the proxy's address; rewrite_url() adds more rewrites, for
example to send a registry's token realm through a second proxy.
"""

import dataclasses
import fcntl
import http.client
import os
import re
import secrets
import socket
import struct
import termios
import threading
import time
import urllib.parse

from . import relay, runtime
from .relay import error_document

REDIRECT_HOST = "127.0.0.2"
COPY_CHUNK_BYTES = 64 * 1024
DRIP_INTERVAL_SECONDS = 0.05
RECORDS_IDLE_TIMEOUT_SECONDS = 5
# Maximum wait for the client to acknowledge the bytes sent before a reset.
RESET_FLUSH_TIMEOUT_SECONDS = 2
INJECTED_MESSAGE = "injected by the test fault proxy"

# Response headers whose absolute URLs are rewritten.
_URL_HEADERS = frozenset({"location", "content-location", "link", "www-authenticate"})
_ERROR_CODES = {401: "UNAUTHORIZED", 404: "NOT_FOUND", 429: "TOOMANYREQUESTS",
                503: "UNAVAILABLE"}
RATE_LIMIT_MESSAGE = (
    "You have reached your pull rate limit. You may increase the limit by authenticating "
    "and upgrading: https://www.docker.com/increase-rate-limit")


# Faults.

@dataclasses.dataclass(frozen=True)
class Fault:
    """What the proxy does to a request that a rule fired on. The functions below build it."""
    kind: str
    status: int = 0
    headers: tuple = ()
    body: bytes = None
    forward: bool = False
    after_bytes: int = None
    offset: int = 0
    mask: int = 0xFF
    bytes_per_second: int = 0
    max_seconds: float = 0.0
    target: object = None

    def describe(self):
        """Return a short text for records and the log, such as "status 503"."""
        if self.kind == "status":
            return f"status {self.status}" + (" after forwarding" if self.forward else "")
        if self.kind == "reset":
            if self.after_bytes is None:
                return "reset" + (" after forwarding" if self.forward else "")
            return f"reset after {self.after_bytes} bytes"
        if self.kind == "truncate":
            return f"truncate after {self.after_bytes} bytes"
        if self.kind == "flip":
            return f"flip byte {self.offset} with mask 0x{self.mask:02x}"
        if self.kind == "drip":
            return f"drip {self.bytes_per_second} bytes/s for at most {self.max_seconds} s"
        if self.kind == "redirect":
            return f"redirect {self.status} to {self.target.url}"
        return self.kind


def status(code, headers=(), body=None, forward=False):
    """Respond with HTTP status code instead of the upstream's response.

    body None sends a distribution-style error document whose message does
    not repeat the status, so a test can check that the client names it.
    forward=True sends the request upstream first and discards its response.
    """
    if body is None:
        body = error_document(_ERROR_CODES.get(code, "UNKNOWN"), INJECTED_MESSAGE)
        headers = (("Content-Type", "application/json; charset=utf-8"), *headers)
    return Fault("status", status=code, headers=tuple(headers), body=body, forward=forward)


def too_many_requests(retry_after=None):
    """Respond 429 TOOMANYREQUESTS as Docker Hub does, with Retry-After seconds when given."""
    headers = [("Content-Type", "application/json; charset=utf-8")]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    return Fault("status", status=429, headers=tuple(headers),
                 body=error_document("TOOMANYREQUESTS", RATE_LIMIT_MESSAGE))


def reset(after_bytes=None, forward=False):
    """Reset the connection (TCP RST).

    With after_bytes, the request is forwarded and the response headers and
    after_bytes body bytes reach the client first. Without it, nothing is
    sent back. forward=True still sends the request upstream, so the
    upstream acts and the client never learns the outcome.
    """
    if after_bytes is not None and after_bytes < 0:
        raise ValueError(f"after_bytes must be at least 0, not {after_bytes}")
    return Fault("reset", after_bytes=after_bytes, forward=forward or after_bytes is not None)


def truncate(after_bytes):
    """Send the headers with the full Content-Length but only after_bytes body bytes, then close."""
    if after_bytes < 0:
        raise ValueError(f"after_bytes must be at least 0, not {after_bytes}")
    return Fault("truncate", after_bytes=after_bytes, forward=True)


def flip_byte(offset=0, mask=0xFF):
    """XOR the response body byte at offset with mask (1 to 255)."""
    if offset < 0 or not 1 <= mask <= 0xFF:
        raise ValueError(f"flip_byte needs offset >= 0 and mask from 1 to 255, not "
                         f"offset={offset}, mask={mask}")
    return Fault("flip", offset=offset, mask=mask, forward=True)


def expired_token():
    """Respond 401 with the upstream's own challenge for this path."""
    return Fault("expired_token", status=401)


def drip(bytes_per_second, max_seconds=5.0):
    """Send the response body at bytes_per_second, and the rest at full speed after max_seconds."""
    if bytes_per_second < 1 or max_seconds < 0:
        raise ValueError(f"drip needs bytes_per_second >= 1 and max_seconds >= 0, not "
                         f"{bytes_per_second} and {max_seconds}")
    return Fault("drip", bytes_per_second=bytes_per_second, max_seconds=max_seconds,
                 forward=True)


def ignore_range():
    """Forward the request without its Range header, so the upstream sends the whole body."""
    return Fault("ignore_range", forward=True)


def redirect(target, code=307):
    """Redirect the request to a RedirectTarget, which serves it from the same upstream."""
    if code not in (301, 302, 303, 307, 308):
        raise ValueError(f"{code} is not a redirect status")
    return Fault("redirect", status=code, target=target)


# Rules and records.

@dataclasses.dataclass
class Rule:
    """A fault and the requests it applies to, with counts of requests matched and faulted."""
    fault: Fault
    method: str = None
    path: str = ".*"
    nth: int = None
    times: int = 1
    headers: dict = None
    matched: int = 0
    applied: int = 0

    def __post_init__(self):
        self._path = re.compile(self.path)
        self._headers = {name: re.compile(pattern)
                         for name, pattern in (self.headers or {}).items()}
        if self.nth is not None and self.nth < 1:
            raise ValueError(f"nth counts from 1, not {self.nth}")
        if self.times is not None and self.times < 0:
            raise ValueError(f"times must be None or at least 0, not {self.times}")

    def matches(self, method, path, headers):
        if self.method is not None and method != self.method:
            return False
        if not self._path.fullmatch(path):
            return False
        return all(pattern.fullmatch(headers.get(name) or "")
                   for name, pattern in self._headers.items())

    def fires(self):
        """Return whether the request just counted in matched is one this rule applies to."""
        if self.nth is not None:
            return self.matched == self.nth
        return self.times is None or self.applied < self.times


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """One request as the proxy handled it.

    headers are the request headers as (name, value) pairs, with each
    Authorization value cut to its scheme and "<redacted>". status is 0 when
    no response was sent (a reset). started and ended are time.monotonic()
    values of this process.
    """
    method: str
    path: str
    query: str
    status: int
    fault: str
    headers: tuple
    request_bytes: int
    response_bytes: int
    started: float
    ended: float

    def header(self, name):
        """Return the first value of a request header, or None."""
        lower = name.lower()
        return next((value for key, value in self.headers if key.lower() == lower), None)

    @property
    def has_authorization(self):
        return self.header("Authorization") is not None

    def query_values(self, name):
        return urllib.parse.parse_qs(self.query).get(name, [])


def redact_headers(headers):
    """Return headers as (name, value) pairs with Authorization values cut to the scheme."""
    pairs = []
    for name, value in headers.items():
        if name.lower() == "authorization":
            value = f"{value.split(' ', 1)[0]} <redacted>"
        pairs.append((name, value))
    return tuple(pairs)


def parse_upstream(upstream):
    """Return (host, port) of an upstream given as "HOST:PORT", a URL, or an object with .host.

    Only loopback upstreams are accepted.
    """
    text = upstream if isinstance(upstream, str) else upstream.host
    if "://" not in text:
        text = f"http://{text}"
    parts = urllib.parse.urlsplit(text)
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        raise ValueError(f"the upstream must be http://HOST:PORT, not '{upstream}'")
    if not parts.hostname.startswith("127."):
        raise ValueError(f"the fault proxy forwards to loopback only, not '{parts.hostname}'")
    return parts.hostname, parts.port


class _Exchange:
    """What was sent back for one request, filled in while it is handled."""

    def __init__(self):
        self.status = 0
        self.response_bytes = 0


class _Server(relay.ProxyServer):
    """A ProxyServer that can end a connection with a TCP RST."""

    def __init__(self, address, handler_class, log):
        super().__init__(address, handler_class, log)
        self._lock = threading.Lock()
        self._to_reset = set()

    def mark_for_reset(self, connection):
        """Close this connection with a TCP RST once its handler returns."""
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._lock:
            self._to_reset.add(connection)

    def shutdown_request(self, request):
        with self._lock:
            reset_now = request in self._to_reset
            self._to_reset.discard(request)
        if reset_now:
            # shutdown() would send a FIN first, but close() with a zero
            # linger time sends only the RST.
            request.close()
            return
        super().shutdown_request(request)


class _Recorder:
    """Records and an in-flight count shared by FaultProxy and RedirectTarget."""

    def __init__(self):
        self._condition = threading.Condition()
        self._records = []
        self._in_flight = 0

    def begin(self):
        with self._condition:
            self._in_flight += 1

    def end(self, record):
        with self._condition:
            self._records.append(record)
            self._in_flight -= 1
            self._condition.notify_all()

    def records(self):
        """Return the records by start time, after waiting briefly for requests in flight."""
        with self._condition:
            self._condition.wait_for(lambda: self._in_flight == 0,
                                     timeout=RECORDS_IDLE_TIMEOUT_SECONDS)
            # A handler adds its record after the response is sent, so a
            # client's next request can be recorded first.
            return sorted(self._records, key=lambda record: record.started)

    def clear(self):
        with self._condition:
            self._records = []


class _Listener:
    """Lifecycle and logging shared by FaultProxy and RedirectTarget."""

    def __init__(self, log_dir, name, listen_host):
        self.log_dir = log_dir
        self.name = name
        self.listen_host = listen_host
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.port = None
        self.logger = None
        self._log_handler = None
        self._server = None
        self._thread = None
        self._recorder = _Recorder()

    @property
    def host(self):
        return f"{self.listen_host}:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    def start(self):
        self.logger, self._log_handler = runtime.open_logger(
            f"harness.faultproxy.{self.name}.{id(self):x}", self.log_path)
        self._server = _Server((self.listen_host, 0), self._handler_class(), self.logger.error)
        self.port = self._server.server_address[1]
        self._thread = runtime.serve_in_thread(self._server, f"{self.name}-{self.port}")
        self.logger.info("listening on %s, forwarding to http://%s:%d", self.url,
                         *self.upstream)
        return self

    def stop(self):
        if self._server is not None:
            runtime.stop_serving(self._server, self._thread)
            self._server = None
            self.logger.info("stopped")
        if self._log_handler is not None:
            runtime.close_logger(self.logger, self._log_handler)
            self._log_handler = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def records(self):
        """Return every RequestRecord so far, in the order the requests arrived."""
        return self._recorder.records()

    def requests(self, method=None, path=None):
        """Return the records with this method whose path fully matches the regex path."""
        pattern = re.compile(path) if path is not None else None
        return [record for record in self.records
                if (method is None or record.method == method)
                and (pattern is None or pattern.fullmatch(record.path))]

    def clear_records(self):
        self._recorder.clear()


class FaultProxy(_Listener):
    """Fault-injecting reverse proxy on 127.0.0.1 in front of one loopback upstream.

    upstream is "127.0.0.1:PORT", "http://127.0.0.1:PORT" or a started
    harness server with a `host` attribute. preserve_host=True forwards the
    client's Host header unchanged, which a SigV4-signed request needs (the
    signature covers Host); otherwise Host names the upstream, which then
    builds its Location headers for itself and the proxy rewrites them.
    """

    def __init__(self, log_dir, upstream, name="faultproxy", preserve_host=False):
        super().__init__(log_dir, name, runtime.LOOPBACK)
        self.upstream = parse_upstream(upstream)
        self.preserve_host = preserve_host
        self._lock = threading.Lock()
        self._rules = []
        self._url_rewrites = []

    @property
    def upstream_url(self):
        return "http://{}:{}".format(*self.upstream)

    def start(self):
        super().start()
        self.rewrite_url(self.upstream_url, self.url)
        return self

    # Rules.

    def add_rule(self, fault, method=None, path=".*", nth=None, times=1, headers=None):
        """Add a rule that applies fault to matching requests and return it.

        The module docstring describes how method, path, nth, times and
        headers select requests.
        """
        rule = Rule(fault, method, path, nth, times, headers)
        with self._lock:
            self._rules.append(rule)
        self.logger.info("rule added: %s on %s %s, %s", fault.describe(), method or "any method",
                         path, f"request {nth}" if nth is not None
                         else "every request" if times is None else f"next {times}")
        return rule

    def clear_rules(self):
        with self._lock:
            self._rules = []

    def reset(self):
        """Remove every rule and record."""
        self.clear_rules()
        self.clear_records()

    def select_fault(self, method, path, headers):
        """Count the request against every matching rule and return the first fault that fires."""
        chosen = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, headers):
                    continue
                rule.matched += 1
                if chosen is None and rule.fires():
                    rule.applied += 1
                    chosen = rule.fault
        return chosen

    # URL rewriting.

    def rewrite_url(self, old, new):
        """Replace the absolute URL prefix old with new in URL-bearing response headers."""
        # The lookahead keeps http://127.0.0.1:5000 from matching inside
        # http://127.0.0.1:50001.
        pattern = re.compile(re.escape(old.rstrip("/")) + r"(?=[/\"?#,;>\s]|$)")
        with self._lock:
            self._url_rewrites.append((pattern, new.rstrip("/")))

    def rewrite_urls(self, value):
        with self._lock:
            rewrites = list(self._url_rewrites)
        for pattern, replacement in rewrites:
            value = pattern.sub(replacement, value)
        return value

    def _handler_class(self):
        return _make_proxy_handler(self)


class RedirectTarget(_Listener):
    """A second listener that redirected requests land on, standing in for a CDN.

    It listens on listen_host (127.0.0.2 by default: another host name, so
    an HTTP client must not send the registry's Authorization there) and
    serves GET and HEAD /r/KEY by fetching the path registered under KEY
    from the upstream. The upstream request carries the Authorization of
    the request that was redirected, as a signed CDN URL carries its own
    permission, and the client's Range header. Every request's headers are
    recorded, Authorization values redacted.
    """

    def __init__(self, log_dir, upstream, name="redirect-target", listen_host=REDIRECT_HOST):
        if not listen_host.startswith("127."):
            raise ValueError(f"the redirect target listens on loopback only, not '{listen_host}'")
        super().__init__(log_dir, name, listen_host)
        self.upstream = parse_upstream(upstream)
        self._lock = threading.Lock()
        self._routes = {}

    def register(self, path_and_query, authorization):
        """Return a URL on this listener that serves path_and_query from the upstream."""
        key = secrets.token_hex(8)
        with self._lock:
            self._routes[key] = (path_and_query, authorization)
        return f"{self.url}/r/{key}"

    def route(self, key):
        with self._lock:
            return self._routes.get(key)

    def _handler_class(self):
        return _make_redirect_handler(self)


class _Handler(relay.RelayHandler):
    """Response helpers for both listeners, which forward to the owner's upstream."""

    owner = None  # the FaultProxy or RedirectTarget, set by the subclass
    url_headers = _URL_HEADERS

    def setup(self):
        super().setup()
        # Without Nagle's algorithm, bytes written before a reset leave at
        # once instead of waiting for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def upstream_address(self):
        return self.owner.upstream

    # Sending responses.

    def _send_simple(self, exchange, code, headers, body):
        self.send_response_only(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.headers_sent = True
        exchange.status = code
        if self.command != "HEAD" and body:
            self.wfile.write(body)
            exchange.response_bytes += len(body)

    def _relay(self, response, exchange, fault=None, rewrite=None):
        """Send the upstream's response to the client, streaming its body through fault."""
        has_body, chunked = self.send_relayed_head(response, rewrite)
        exchange.status = response.status
        if not has_body:
            response.read()
            return
        self._stream_body(response, exchange, fault, chunked)

    def _stream_body(self, response, exchange, fault, chunked):
        kind = fault.kind if fault is not None else None
        limit = fault.after_bytes if kind in ("reset", "truncate") else None
        piece_size = COPY_CHUNK_BYTES
        drip_until = None
        if kind == "drip":
            piece_size = max(1, int(fault.bytes_per_second * DRIP_INTERVAL_SECONDS))
            drip_until = time.monotonic() + fault.max_seconds

        sent = 0
        while True:
            size = piece_size
            if drip_until is not None and time.monotonic() >= drip_until:
                size = COPY_CHUNK_BYTES
            if limit is not None:
                size = min(size, limit - sent)
                if size == 0:
                    break
            data = response.read(size)
            if not data:
                break
            if kind == "flip" and sent <= fault.offset < sent + len(data):
                changed = bytearray(data)
                changed[fault.offset - sent] ^= fault.mask
                data = bytes(changed)
            self.write_body_piece(data, chunked)
            sent += len(data)
            exchange.response_bytes = sent
            if drip_until is not None and time.monotonic() < drip_until:
                time.sleep(DRIP_INTERVAL_SECONDS)

        if limit is not None:
            # The rest of the upstream body is never read, so that
            # connection cannot be reused.
            self.close_upstream()
            if kind == "reset":
                self._reset_connection()
            else:
                self.close_connection = True
            return
        if chunked:
            self.wfile.write(relay.LAST_CHUNK)

    def _reset_connection(self):
        """End the client connection with a TCP RST instead of a FIN.

        A close with a zero linger time drops whatever the client has not
        acknowledged yet, so this first waits (at most
        RESET_FLUSH_TIMEOUT_SECONDS) until the client has acknowledged every
        byte sent.
        """
        deadline = time.monotonic() + RESET_FLUSH_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self._unacknowledged_bytes() > 0:
            time.sleep(0.002)
        self.close_connection = True
        self.server.mark_for_reset(self.connection)

    def _unacknowledged_bytes(self):
        # TIOCOUTQ (SIOCOUTQ) returns the bytes of a Linux TCP socket's send
        # queue that the peer has not acknowledged.
        raw = fcntl.ioctl(self.connection.fileno(), termios.TIOCOUTQ, b"\0" * 4)
        return struct.unpack("i", raw)[0]


def _make_proxy_handler(proxy):
    class FaultProxyHandler(_Handler):
        owner = proxy
        server_version = "ecr-sync-test-faultproxy"

        def _forward_headers(self, with_authorization=True, with_range=True):
            drop = {"content-length"}
            headers = []
            if not proxy.preserve_host:
                drop.add("host")
                headers.append(("Host", "{}:{}".format(*proxy.upstream)))
            if not with_authorization:
                drop.add("authorization")
            if not with_range:
                drop.add("range")
            return headers + relay.forwarded_headers(self.headers, drop)

        def _handle(self):
            started = time.monotonic()
            url = urllib.parse.urlsplit(self.path)
            body = relay.RequestBody(self.rfile, self.headers, COPY_CHUNK_BYTES)
            exchange = _Exchange()
            fault = proxy.select_fault(self.command, url.path, self.headers)
            proxy._recorder.begin()
            try:
                if not body.valid:
                    self.close_connection = True
                    self._send_simple(exchange, 400, (), error_document(
                        "UNSUPPORTED", "invalid Content-Length"))
                elif fault is None:
                    response = self.forward(self.command, self.path, self._forward_headers(),
                                            body)
                    self._relay(response, exchange, rewrite=proxy.rewrite_urls)
                else:
                    self._apply(fault, body, exchange)
            except (OSError, http.client.HTTPException) as error:
                self.abandon(error, url.path, proxy.logger)
                if not self.headers_sent:
                    try:
                        self._send_simple(exchange, 502, (), error_document(
                            "UNAVAILABLE", f"forwarding failed: {error}"))
                    except OSError:
                        pass
            finally:
                ended = time.monotonic()
                description = fault.describe() if fault is not None else None
                proxy.logger.info("%s %s%s status=%d fault=%s request_bytes=%d "
                                  "response_bytes=%d seconds=%.3f", self.command, url.path,
                                  f"?{url.query}" if url.query else "", exchange.status,
                                  description or "-", body.received, exchange.response_bytes,
                                  ended - started)
                proxy._recorder.end(RequestRecord(
                    self.command, url.path, url.query, exchange.status, description,
                    redact_headers(self.headers), body.received, exchange.response_bytes,
                    started, ended))

        def _apply(self, fault, body, exchange):
            if fault.kind == "status":
                self._discard_or_forward(fault, body)
                self._send_simple(exchange, fault.status, fault.headers, fault.body)
            elif fault.kind == "reset" and fault.after_bytes is None:
                self._discard_or_forward(fault, body)
                self._reset_connection()
            elif fault.kind == "expired_token":
                body.drain()
                self._send_challenge(exchange)
            elif fault.kind == "redirect":
                body.drain()
                location = fault.target.register(self.path, self.headers.get("Authorization"))
                self._send_simple(exchange, fault.status, (("Location", location),), b"")
            else:
                headers = self._forward_headers(with_range=fault.kind != "ignore_range")
                response = self.forward(self.command, self.path, headers, body)
                self._relay(response, exchange, fault, rewrite=proxy.rewrite_urls)

        def _discard_or_forward(self, fault, body):
            if not fault.forward:
                body.drain()
                return
            response = self.forward(self.command, self.path, self._forward_headers(), body)
            while response.read(COPY_CHUNK_BYTES):
                pass

        def _send_challenge(self, exchange):
            # An unauthenticated HEAD changes nothing at the upstream, whatever
            # the original method, and gets the challenge for this path.
            response = self.forward("HEAD", self.path,
                                    self._forward_headers(with_authorization=False))
            response.read()
            challenges = [("WWW-Authenticate", proxy.rewrite_urls(value))
                          for name, value in response.getheaders()
                          if name.lower() == "www-authenticate"]
            if response.status != 401 or not challenges:
                proxy.logger.warning("the upstream returned HTTP %d without a challenge to an "
                                     "unauthenticated HEAD %s", response.status, self.path)
            headers = [("Content-Type", "application/json; charset=utf-8"), *challenges]
            self._send_simple(exchange, 401, headers, error_document(
                "UNAUTHORIZED", "authentication required"))

    return FaultProxyHandler


def _make_redirect_handler(target):
    class RedirectTargetHandler(_Handler):
        owner = target
        server_version = "ecr-sync-test-redirect-target"

        def _handle(self):
            started = time.monotonic()
            url = urllib.parse.urlsplit(self.path)
            body = relay.RequestBody(self.rfile, self.headers, COPY_CHUNK_BYTES)
            exchange = _Exchange()
            target._recorder.begin()
            try:
                body.drain()
                route = target.route(url.path[len("/r/"):]) if url.path.startswith("/r/") \
                    else None
                if self.command not in ("GET", "HEAD") or route is None:
                    self._send_simple(exchange, 404, (), b"")
                else:
                    path_and_query, authorization = route
                    headers = [("Host", "{}:{}".format(*target.upstream))]
                    if authorization:
                        headers.append(("Authorization", authorization))
                    for name in ("Range", "Accept", "User-Agent"):
                        if self.headers.get(name) is not None:
                            headers.append((name, self.headers[name]))
                    response = self.forward(self.command, path_and_query, headers)
                    self._relay(response, exchange)
            except (OSError, http.client.HTTPException) as error:
                self.abandon(error, url.path, target.logger)
            finally:
                ended = time.monotonic()
                target.logger.info("%s %s status=%d authorization=%s range=%s "
                                   "response_bytes=%d", self.command, url.path, exchange.status,
                                   "present" if self.headers.get("Authorization") else "absent",
                                   self.headers.get("Range") or "-", exchange.response_bytes)
                target._recorder.end(RequestRecord(
                    self.command, url.path, url.query, exchange.status, None,
                    redact_headers(self.headers), body.received, exchange.response_bytes,
                    started, ended))

    return RedirectTargetHandler
