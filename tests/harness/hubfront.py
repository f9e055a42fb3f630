# SPDX-License-Identifier: Apache-2.0
"""A reverse proxy that makes the source registry behave like Docker Hub.

HubFront listens on 127.0.0.1 in front of a docker-registry that uses the
harness token server, and adds the two things Docker Hub does that
docker-registry 2.8 does not:

- tags/list pagination. docker-registry 2.8 ignores `n` and `last` and
  returns every tag unsorted. The front fetches the full list, sorts it,
  returns at most min(n, page_size) tags after `last`, and adds
  `Link: </v2/NAME/tags/list?n=N&last=LAST>; rel="next"` while more remain.
  `n` above relay.MAX_TAGS_PAGE, negative or not a number gets 400
  PAGINATION_NUMBER_INVALID.
- pull rate limits. With a limit set, every manifest GET and HEAD response
  carries `ratelimit-limit: LIMIT;w=WINDOW`, `ratelimit-remaining:
  REMAINING;w=WINDOW` and `docker-ratelimit-source: 127.0.0.1`. Manifest
  GETs count against the limit and HEADs do not. Once nothing remains, a
  manifest GET gets 429 TOOMANYREQUESTS with a Retry-After header. A GET
  without an Authorization header is forwarded even then, so that the
  client still gets the backend's 401 challenge first.

Everything else passes through unchanged and streamed in
relay.COPY_CHUNK_BYTES pieces, including chunked request bodies, so blobs
of any size never sit in memory. The client's Authorization header is
forwarded, so the backend's 401 challenges (with the token server's realm)
reach the client as they are.
Location headers that point at the backend are rewritten to the front's
address, except on blob GET and HEAD responses, whose redirects stand for a
CDN and pass unchanged.

Each request is logged to NAME.log in the log folder, without credentials.
"""

import dataclasses
import http.client
import json
import logging
import math
import os
import re
import threading
import time
import urllib.parse

from . import relay, runtime
from .relay import paginate_tags, parse_page_size

DEFAULT_PAGE_SIZE = 100
DEFAULT_WINDOW_SECONDS = 21600
RATE_LIMIT_MESSAGE = (
    "You have reached your pull rate limit. You may increase the limit by authenticating "
    "and upgrading: https://www.docker.com/increase-rate-limit")

# Request headers the front sets itself when it forwards a request.
_SET_ON_FORWARD = frozenset({"host", "content-length"})

_ROUTE = re.compile(
    r"^/v2/(?P<name>.+?)/(?:"
    r"manifests/(?P<reference>[^/]+)"
    r"|blobs/uploads/(?P<upload>[^/]*)"
    r"|blobs/(?P<digest>[^/]+)"
    r"|(?P<tags>tags/list)"
    r")$")


@dataclasses.dataclass
class Counters:
    """Request counts for one repository or for the whole front.

    manifest_gets counts every manifest GET received, including those
    rejected with 429 (also counted in rate_limited) and those the backend
    rejected. pulls counts the manifest GETs charged against the rate limit,
    which are the ones the backend returned a 2xx status for. upload_requests counts requests under
    blobs/uploads/ and upload_bytes the request body bytes they carried.
    """
    requests: int = 0
    manifest_gets: int = 0
    manifest_heads: int = 0
    pulls: int = 0
    rate_limited: int = 0
    blob_gets: int = 0
    blob_heads: int = 0
    tags_lists: int = 0
    upload_requests: int = 0
    upload_bytes: int = 0

    def add(self, field_name, amount=1):
        setattr(self, field_name, getattr(self, field_name) + amount)


@dataclasses.dataclass(frozen=True)
class TagsRequest:
    """One tags/list request: n and last as sent (None when absent), and the outcome."""
    repository: str
    n: str
    last: str
    status: int
    tags_returned: int
    link: str


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """A snapshot of the rate limit state. limit None means unlimited."""
    limit: int
    window: int
    remaining: int
    retry_after: int


class HubFront:
    """Docker Hub-like reverse proxy on 127.0.0.1 in front of one registry.

    backend is a started harness Registry (normally the token-auth source)
    or StubRegistry: anything with `host` and `port` on 127.0.0.1. page_size
    is the largest tags/list page, also used when the client sends no `n`.
    limit is the manifest GET allowance per window (None: no rate limit and
    no ratelimit headers), window its length in seconds, and retry_after the
    Retry-After value of a 429 (None: the seconds left in the window). The
    window is fixed: it starts at start(), set_rate_limit() or reset(), and
    when it ends, remaining returns to limit.

    page_size may be assigned while the front runs. The rate limit is changed
    with set_rate_limit(), set_remaining() and set_retry_after(). Counters and
    tags_requests are safe to read from tests while requests are in flight.
    """

    def __init__(self, log_dir, backend, name="hubfront", page_size=DEFAULT_PAGE_SIZE,
                 limit=None, window=DEFAULT_WINDOW_SECONDS, retry_after=None):
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self.log_dir = log_dir
        self.backend = backend
        self.name = name
        self.page_size = page_size
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.port = None
        self.logger = None
        self._log_handler = None
        self._lock = threading.Lock()
        self._limit = None
        self._window = DEFAULT_WINDOW_SECONDS
        self._remaining = 0
        self._retry_after = None
        self._window_start = time.monotonic()
        self.set_rate_limit(limit, window)
        self._retry_after = retry_after
        self._total = Counters()
        self._per_repository = {}
        self._tags_requests = []
        self._server = None
        self._thread = None

    # Lifecycle.

    @property
    def host(self):
        return f"{runtime.LOOPBACK}:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    def start(self):
        self.logger, self._log_handler = runtime.open_logger(
            f"harness.hubfront.{self.name}.{id(self):x}", self.log_path)
        self._server = relay.ProxyServer((runtime.LOOPBACK, 0), _make_handler(self),
                                         self.logger.error)
        self.port = self._server.server_address[1]
        self._thread = runtime.serve_in_thread(self._server, f"{self.name}-{self.port}")
        with self._lock:
            self._window_start = time.monotonic()
        self.logger.info("listening on %s, forwarding to http://%s, page_size=%d, %s", self.url,
                         self.backend.host, self.page_size, self._describe_limit())
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

    def _log(self, level, message, *arguments):
        if self.logger is not None:
            self.logger.log(level, message, *arguments)

    # Rate limit.

    def set_rate_limit(self, limit, window=None, remaining=None):
        """Set the manifest GET allowance and start a new window.

        limit None removes the rate limit and its headers. window keeps its
        current value when None, and remaining starts at limit when None.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be None or at least 0, not {limit}")
        if window is not None and window < 1:
            raise ValueError(f"window must be at least 1 second, not {window}")
        with self._lock:
            self._limit = limit
            if window is not None:
                self._window = window
            self._remaining = (limit or 0) if remaining is None else remaining
            self._window_start = time.monotonic()
        self._log(logging.INFO, "rate limit set: %s", self._describe_limit())

    def set_remaining(self, remaining):
        """Set the pulls left in the current window without restarting it."""
        if remaining < 0:
            raise ValueError(f"remaining must be at least 0, not {remaining}")
        with self._lock:
            self._remaining = remaining
        self._log(logging.INFO, "rate limit remaining set to %d", remaining)

    def set_retry_after(self, seconds):
        """Set the Retry-After of 429 responses: seconds, or None for the rest of the window."""
        if seconds is not None and seconds < 0:
            raise ValueError(f"retry_after must be None or at least 0, not {seconds}")
        with self._lock:
            self._retry_after = seconds

    def rate_limit(self):
        """Return a RateLimit snapshot."""
        with self._lock:
            self._roll_window()
            return RateLimit(self._limit, self._window, self._remaining,
                             self._retry_after_seconds())

    def _describe_limit(self):
        with self._lock:
            if self._limit is None:
                return "no rate limit"
            return (f"limit={self._limit} window={self._window}s remaining={self._remaining} "
                    f"retry_after={self._retry_after}")

    def _roll_window(self):
        # Called with the lock held.
        if self._limit is not None and time.monotonic() - self._window_start >= self._window:
            self._window_start = time.monotonic()
            self._remaining = self._limit

    def _retry_after_seconds(self):
        # Called with the lock held.
        if self._retry_after is not None:
            return self._retry_after
        left = self._window - (time.monotonic() - self._window_start)
        return max(1, math.ceil(left))

    def _headers_locked(self):
        if self._limit is None:
            return []
        return [("ratelimit-limit", f"{self._limit};w={self._window}"),
                ("ratelimit-remaining", f"{self._remaining};w={self._window}"),
                ("docker-ratelimit-source", runtime.LOOPBACK)]

    def _reserve_pull(self):
        """Take one pull from the allowance and return "unlimited", "reserved" or "exhausted"."""
        with self._lock:
            self._roll_window()
            if self._limit is None:
                return "unlimited"
            if self._remaining <= 0:
                return "exhausted"
            self._remaining -= 1
            return "reserved"

    def _refund_pull(self):
        with self._lock:
            if self._limit is not None:
                self._remaining += 1

    def _rate_limit_headers(self):
        with self._lock:
            self._roll_window()
            return self._headers_locked()

    def _too_many_requests(self):
        with self._lock:
            headers = self._headers_locked()
            headers.append(("Retry-After", str(self._retry_after_seconds())))
        return relay.ErrorResponse(429, "TOOMANYREQUESTS", RATE_LIMIT_MESSAGE, headers)

    # Counters.

    def _count(self, repository, field_name, amount=1):
        with self._lock:
            self._total.add(field_name, amount)
            if repository:
                self._per_repository.setdefault(repository, Counters()).add(field_name, amount)

    def counters(self, repository=None):
        """Return a Counters snapshot for one repository, or for all requests when None.

        The totals also count requests outside any repository, such as GET /v2/.
        """
        with self._lock:
            source = self._total if repository is None else self._per_repository.get(
                repository, Counters())
            return dataclasses.replace(source)

    def repositories(self):
        """Return the names of the repositories that requests have named so far."""
        with self._lock:
            return sorted(self._per_repository)

    @property
    def tags_requests(self):
        """Return the TagsRequest records so far, oldest first."""
        with self._lock:
            return list(self._tags_requests)

    def _record_tags_request(self, record):
        with self._lock:
            self._tags_requests.append(record)

    def reset_counters(self):
        """Set every counter to zero and forget the recorded tags/list requests."""
        with self._lock:
            self._total = Counters()
            self._per_repository = {}
            self._tags_requests = []

    def reset(self):
        """Reset the counters and start a new rate limit window with the whole allowance."""
        self.reset_counters()
        with self._lock:
            self._remaining = self._limit or 0
            self._window_start = time.monotonic()
        self._log(logging.INFO, "counters and rate limit window reset: %s",
                  self._describe_limit())

    # Forwarding helpers used by the handler.

    def rewrite_location(self, value):
        """Point an absolute URL at the backend to the front instead."""
        backend_url = f"http://{self.backend.host}"
        if value.startswith(backend_url + "/"):
            return self.url + value[len(backend_url):]
        return value


def _make_handler(front):
    class HubFrontHandler(relay.RelayHandler):
        server_version = "ecr-sync-test-hubfront"
        bad_gateway_message = "forwarding to the backend failed"

        def upstream_address(self):
            return runtime.LOOPBACK, front.backend.port

        def _forward(self, body, method=None, path=None):
            """Send a request to the backend and return its response.

            body None sends an empty body with Content-Length 0, for requests
            the front makes itself.
            """
            headers = [("Host", front.backend.host),
                       *relay.forwarded_headers(self.headers, _SET_ON_FORWARD)]
            return self.forward(method or self.command, path or self.path, headers, body,
                                b"" if body is None else None)

        # Handling one request.

        def _handle(self):
            started = time.monotonic()
            url = urllib.parse.urlsplit(self.path)
            route = _ROUTE.match(url.path)
            repository = route.group("name") if route else ""
            body = relay.RequestBody(self.rfile, self.headers)
            front._count(repository, "requests")
            try:
                self.check_body(body)
                status = self._dispatch(route, repository, url, body)
            except relay.ErrorResponse as error:
                self.reject(error, body, url.path, front.logger)
                return
            except (OSError, http.client.HTTPException) as error:
                self.abandon(error, url.path, front.logger)
                if not self.headers_sent:
                    self.send_bad_gateway(error)
                return
            front._log(logging.INFO, "%s %s%s status=%d request_bytes=%d seconds=%.3f",
                       self.command, url.path, f"?{url.query}" if url.query else "", status,
                       body.received, time.monotonic() - started)

        def _dispatch(self, route, repository, url, body):
            if route is not None and route.group("tags") and self.command in ("GET", "HEAD"):
                body.drain()
                return self._tags_list(repository, url.query)
            if route is not None and route.group("reference") is not None:
                if self.command == "GET":
                    front._count(repository, "manifest_gets")
                    return self._manifest_get(repository, body)
                if self.command == "HEAD":
                    front._count(repository, "manifest_heads")
                    response = self._forward(body)
                    self.relay(response, front.rewrite_location, front._rate_limit_headers())
                    return response.status
            is_blob = route is not None and route.group("digest") is not None
            is_upload = route is not None and route.group("upload") is not None
            if is_blob and self.command == "GET":
                front._count(repository, "blob_gets")
            elif is_blob and self.command == "HEAD":
                front._count(repository, "blob_heads")
            elif is_upload:
                front._count(repository, "upload_requests")
            response = self._forward(body)
            if is_upload:
                front._count(repository, "upload_bytes", body.received)
            # Blob redirects stand for a CDN, so their Location passes unchanged.
            if is_blob and self.command in ("GET", "HEAD"):
                self.relay(response)
            else:
                self.relay(response, front.rewrite_location)
            return response.status

        def _manifest_get(self, repository, body):
            outcome = front._reserve_pull()
            if outcome == "exhausted" and self.headers.get("Authorization"):
                front._count(repository, "rate_limited")
                raise front._too_many_requests()
            response = self._forward(body)
            succeeded = 200 <= response.status < 300
            if outcome == "exhausted" and succeeded:
                # Only a backend without authentication gets here: the
                # manifest is discarded and the 429 sent in its place.
                response.read()
                front._count(repository, "rate_limited")
                raise front._too_many_requests()
            if outcome == "reserved" and not succeeded:
                # NOTE: whether Docker Hub charges a failed manifest GET is
                # not documented, so this front charges only 2xx responses.
                front._refund_pull()
            if succeeded and outcome != "exhausted":
                front._count(repository, "pulls")
            self.relay(response, front.rewrite_location, front._rate_limit_headers())
            return response.status

        def _tags_list(self, repository, query):
            front._count(repository, "tags_lists")
            parameters = urllib.parse.parse_qs(query, keep_blank_values=True)
            n_text = parameters.get("n", [None])[0]
            last = parameters.get("last", [None])[0]

            # The backend returns every tag and ignores n and last, so it is
            # asked for the whole list, with the client's Authorization.
            response = self._forward(None, "GET", f"/v2/{repository}/tags/list")
            if response.status != 200:
                front._record_tags_request(TagsRequest(repository, n_text, last, response.status,
                                                       0, None))
                self.relay(response, front.rewrite_location)
                return response.status

            try:
                document = json.loads(response.read())
            except ValueError as error:
                raise relay.ErrorResponse(
                    502, "UNAVAILABLE", f"the backend returned an invalid tags/list body: {error}")
            try:
                count = parse_page_size(n_text, front.page_size)
            except relay.ErrorResponse as error:
                front._record_tags_request(TagsRequest(repository, n_text, last, error.status,
                                                       0, None))
                raise

            tags = sorted(document.get("tags") or [])
            page, link = paginate_tags(repository, tags, count, last or None)
            headers = [("Link", link)] if link is not None else []
            front._record_tags_request(TagsRequest(repository, n_text, last, 200, len(page),
                                                   link))
            document = {"name": document.get("name", repository), "tags": page}
            self.send_json(200, json.dumps(document).encode("utf-8"), headers)
            return 200

    return HubFrontHandler
