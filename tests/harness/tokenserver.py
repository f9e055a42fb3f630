# SPDX-License-Identifier: Apache-2.0
"""A token server that behaves like Docker Hub's auth.docker.io.

It issues RS256 JWTs for docker-registry's `auth: token` mode. The JWT header
carries the signing certificate in `x5c`, and the same certificate is written
to `cert_path` for the registry's `rootcertbundle`. Anonymous requests get
`pull` only; requests with the configured Basic credentials get whatever they
request among pull, push and `*`; wrong credentials get 401.

Both forms of the token endpoint are served:
- GET /token?service=S&scope=A&scope=B&account=U, with optional Basic auth;
- POST /token with an OAuth2 form (grant_type password or refresh_token).
"""

import base64
import binascii
import datetime
import http.server
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from . import runtime

TOKEN_LIFETIME_SECONDS = 60
GRANTABLE_ACTIONS = ("pull", "push", "*")
ANONYMOUS_ACTIONS = ("pull",)


def parse_scope(scope):
    """Split `TYPE:NAME:ACTIONS` into (type, name, [actions]).

    NAME may contain a `host:port`, so the type ends at the first colon and
    the actions start after the last one. Returns None for a malformed scope.
    """
    type_and_name, separator, actions = scope.rpartition(":")
    if not separator:
        return None
    resource_type, separator, name = type_and_name.partition(":")
    if not separator or not resource_type or not name:
        return None
    return resource_type, name, [action for action in actions.split(",") if action]


def _make_signing_identity():
    """Create an RSA key and a self-signed certificate for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecr-sync test token signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


class TokenServer:
    """Docker Hub-like token server on 127.0.0.1.

    users maps user names to passwords. The counters (`requests`,
    `tokens_issued`, `rejected`) and `grants` are safe to read from tests
    while the server runs; no password or token is stored in them.
    """

    def __init__(self, log_dir, users, service="ecr-sync-test-registry",
                 issuer="ecr-sync-test-token-server", name="tokenserver"):
        self.log_dir = log_dir
        self.users = dict(users)
        self.service = service
        self.issuer = issuer
        self.name = name
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self._log = runtime.LineLog(self.log_path)
        self.port = None
        self.cert_path = None
        self._temp_dir = None
        self._server = None
        self._thread = None
        self._lock = threading.Lock()
        self._refresh_tokens = {}
        self.requests = 0
        self.tokens_issued = 0
        self.rejected = 0
        self.grants = []

    @property
    def realm(self):
        return f"http://{runtime.LOOPBACK}:{self.port}/token"

    def start(self):
        self._temp_dir = tempfile.mkdtemp(prefix=f"ecr-sync-{self.name}-")
        self._key, self._certificate = _make_signing_identity()
        self.cert_path = os.path.join(self._temp_dir, "token-signer.pem")
        with open(self.cert_path, "wb") as cert_file:
            cert_file.write(self._certificate.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(
            self._certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")
        self._private_pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

        self._log.open()
        self._server = runtime.LoggingHTTPServer((runtime.LOOPBACK, 0), _make_handler(self),
                                                 self.log)
        self.port = self._server.server_address[1]
        self._thread = runtime.serve_in_thread(self._server, self.name)
        self.log(f"listening on {runtime.LOOPBACK}:{self.port} service={self.service}")
        return self

    def stop(self):
        if self._server is not None:
            runtime.stop_serving(self._server, self._thread)
            self._server = None
            self.log("stopped")
        self._log.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def log(self, message):
        self._log.write(message)

    def public_key(self):
        """Return the public key that verifies issued tokens."""
        return self._key.public_key()

    def stats(self):
        """Return a snapshot of the counters as a dict."""
        with self._lock:
            return {"requests": self.requests, "tokens_issued": self.tokens_issued,
                    "rejected": self.rejected}

    def _authenticate(self, username, password):
        expected = self.users.get(username)
        return expected is not None and secrets.compare_digest(expected, password)

    def _grant(self, account, scopes):
        """Return the access claim entries that account may have for scopes."""
        allowed = GRANTABLE_ACTIONS if account else ANONYMOUS_ACTIONS
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            resource_type, name, actions = parsed
            granted = [action for action in actions if action in allowed]
            if granted:
                access.append({"type": resource_type, "name": name, "actions": granted})
        return access

    def _issue(self, account, scopes, audience, with_refresh_token):
        """Sign a token for account and return the JSON response body."""
        now = int(time.time())
        access = self._grant(account, scopes)
        claims = {
            "iss": self.issuer,
            "sub": account,
            "aud": audience,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        token = jwt.encode(claims, self._private_pem, algorithm="RS256",
                           headers={"x5c": [self._x5c]})
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        body = {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        granted_scopes = [
            f"{entry['type']}:{entry['name']}:{','.join(entry['actions'])}" for entry in access]
        with self._lock:
            self.tokens_issued += 1
            self.grants.append({"account": account, "scopes": granted_scopes})
            if with_refresh_token and account:
                refresh_token = secrets.token_urlsafe(24)
                self._refresh_tokens[refresh_token] = account
                body["refresh_token"] = refresh_token
        return body, granted_scopes

    def _account_for_refresh_token(self, refresh_token):
        with self._lock:
            return self._refresh_tokens.get(refresh_token)


def _basic_credentials(header):
    """Decode a Basic Authorization header into (user, password) or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    if not separator:
        return None
    return username, password


def _split_scopes(values):
    """Flatten scope parameters; a single value may hold space-separated scopes."""
    scopes = []
    for value in values:
        scopes.extend(part for part in value.split(" ") if part)
    return scopes


def _make_handler(server):
    class TokenHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ecr-sync-test-token-server"

        def log_message(self, format, *args):
            # _log_request writes each request to the server's log file
            # instead of stderr, without the query string.
            pass

        def _send_json(self, status, body, extra_headers=()):
            # Count before sending the response, so that counters read right
            # after the response already include this request.
            if status >= 400:
                with server._lock:
                    server.rejected += 1
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _log_request(self, status, account, detail):
            path = urllib.parse.urlsplit(self.path).path
            server.log(f'{self.command} {path} status={status} account="{account}" {detail}')

        def _start_request(self):
            """Count the request and return its split URL, or send 404 and return None.

            The token endpoint is the only path served.
            """
            with server._lock:
                server.requests += 1
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/token":
                return url
            self._send_json(404, {"details": "not found"})
            self._log_request(404, "", "unknown path")
            return None

        def _reject_credentials(self, account):
            self._send_json(401, {"details": "incorrect username or password"},
                            [("WWW-Authenticate", f'Basic realm="{server.realm}"')])
            self._log_request(401, account, "rejected: incorrect username or password")

        def do_GET(self):
            url = self._start_request()
            if url is None:
                return
            query = urllib.parse.parse_qs(url.query)
            service = query.get("service", [server.service])[0]
            if service != server.service:
                self._send_json(400, {"details": f"unknown service '{service}'"})
                self._log_request(400, "", f"unknown service '{service}'")
                return

            account = ""
            credentials = _basic_credentials(self.headers.get("Authorization"))
            if self.headers.get("Authorization") is not None:
                if credentials is None or not server._authenticate(*credentials):
                    self._reject_credentials(credentials[0] if credentials else "")
                    return
                account = credentials[0]

            scopes = _split_scopes(query.get("scope", []))
            offline = query.get("offline_token", ["false"])[0] == "true"
            body, granted = server._issue(account, scopes, service, offline)
            self._send_json(200, body)
            self._log_request(200, account, f"requested={scopes} granted={granted}")

        def do_POST(self):
            if self._start_request() is None:
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))

            def field(name, default=""):
                return form.get(name, [default])[0]

            service = field("service", server.service)
            if service != server.service:
                self._send_json(400, {"error": "invalid_request",
                                      "error_description": f"unknown service '{service}'"})
                self._log_request(400, "", f"unknown service '{service}'")
                return

            grant_type = field("grant_type")
            if grant_type == "password":
                account = field("username")
                if not server._authenticate(account, field("password")):
                    self._reject_credentials(account)
                    return
            elif grant_type == "refresh_token":
                account = server._account_for_refresh_token(field("refresh_token"))
                if account is None:
                    self._send_json(401, {"error": "invalid_grant"})
                    self._log_request(401, "", "rejected: unknown refresh token")
                    return
            else:
                self._send_json(400, {"error": "unsupported_grant_type"})
                self._log_request(400, "", f"unsupported grant_type '{grant_type}'")
                return

            scopes = _split_scopes(form.get("scope", []))
            offline = field("access_type") == "offline"
            body, granted = server._issue(account, scopes, service, offline)
            body["scope"] = " ".join(granted)
            self._send_json(200, body)
            self._log_request(200, account, f"grant_type={grant_type} granted={granted}")

    return TokenHandler
