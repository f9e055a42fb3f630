# SPDX-License-Identifier: Apache-2.0
"""Loopback mock servers for the AWS credential sources.

Each mock is a ThreadingHTTPServer on a free port of 127.0.0.1, started with
`with StsMock() as sts:` (or start()/stop()), and records every request in
`calls`. Every credential it issues is new (distinct access key ids) and
expires `lifetime` seconds after issue. `secrets()` returns every secret a
mock issued or accepted, so a test can check that none reaches the output
of the program under test.

- StsMock: the STS query API. AssumeRole must be SigV4-signed (service
  "sts", the mock's region) with known credentials; the signature is
  recomputed with botocore's SigV4Auth from Debian's python3-botocore.
  AssumeRoleWithWebIdentity must be unsigned and carry a known token.
  Responses and errors are XML shaped like AWS's.
- SsoMock: IAM Identity Center's GetRoleCredentials
  (GET /federation/credentials with x-amz-sso_bearer_token).
- ContainerMock: the ECS / EKS Pod Identity credentials endpoint, checking
  the Authorization header when a token is configured.
- ImdsMock: IMDSv2. A session token from PUT /latest/api/token is required
  for every GET.
"""

import dataclasses
import datetime
import hashlib
import http.server
import json
import re
import secrets as random_secrets
import threading
import urllib.parse
import uuid
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOOPBACK = "127.0.0.1"
STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
# Largest clock difference between a signature's X-Amz-Date and the mock, as STS allows.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)
AUTHORIZATION_PATTERN = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<headers>[a-z0-9;-]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$")


@dataclasses.dataclass
class Call:
    """One request a mock received."""
    method: str
    path: str
    query: dict
    headers: dict  # lowercase name -> value
    body: bytes
    status: int = 0  # the status the mock responded with

    def form(self):
        """The body parsed as application/x-www-form-urlencoded, one value per key."""
        return {key: values[-1] for key, values in
                urllib.parse.parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclasses.dataclass
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime.datetime

    def expiration_text(self):
        return self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass
class Failure:
    """A canned error response for the next matching request."""
    status: int
    code: str
    message: str


def new_credentials(prefix, lifetime):
    """Fresh temporary credentials expiring lifetime seconds from now."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return IssuedCredentials(
        access_key_id=prefix + random_secrets.token_hex(8).upper(),
        secret_access_key=random_secrets.token_urlsafe(30),
        session_token="IQoJ" + random_secrets.token_urlsafe(90),
        expiration=now + datetime.timedelta(seconds=lifetime))


class MockServer:
    """Base class: a threaded loopback HTTP server that records calls.

    Subclasses implement handle(call) and return (status, headers, body).
    """

    def __init__(self, lifetime=3600):
        self.lifetime = lifetime
        self.calls = []
        self.issued = []
        self._failures = []
        self._lock = threading.RLock()
        self._server = None
        self._thread = None

    # Lifecycle

    def start(self):
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                call = Call(method=self.command, path=parsed.path,
                            query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                            headers={name.lower(): value for name, value in self.headers.items()},
                            body=body)
                try:
                    status, headers, payload = mock._dispatch(call)
                except Exception as error:  # report a mock bug as a 500, never hang the client
                    status, headers, payload = 500, {"Content-Type": "text/plain"}, \
                        f"mock error: {error!r}".encode()
                call.status = status
                with mock._lock:
                    mock.calls.append(call)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _serve

            def log_message(self, format, *args):
                pass

        self._server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    # Behaviour shared by the mocks

    def fail_next(self, status, code, message, count=1, after=0):
        """Respond to count requests with an error, after `after` normal responses."""
        with self._lock:
            self._failures.extend([None] * after + [Failure(status, code, message)] * count)

    def _take_failure(self):
        """The canned error for this request, or None for a normal response."""
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _issue(self, prefix):
        credentials = new_credentials(prefix, self.lifetime)
        with self._lock:
            self.issued.append(credentials)
        return credentials

    def _dispatch(self, call):
        return self.handle(call)

    def handle(self, call):
        raise NotImplementedError

    def secrets(self):
        """Every secret value this mock issued or accepted."""
        with self._lock:
            found = set()
            for credentials in self.issued:
                found.update((credentials.secret_access_key, credentials.session_token))
            return found

    def describe_calls(self):
        with self._lock:
            return "\n".join(f"{call.method} {call.path} -> {call.status}" for call in self.calls)


def _xml_response(status, text):
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": str(uuid.uuid4())}, \
        text.encode()


class StsMock(MockServer):
    """STS AssumeRole and AssumeRoleWithWebIdentity over the query API."""

    def __init__(self, region="us-east-1", lifetime=3600):
        super().__init__(lifetime)
        self.region = region
        self._keys = {}  # access key id -> (secret, session token or None)
        self._web_identity_tokens = set()
        self._role_failures = {}  # role ARN -> Failure

    def add_source_credentials(self, access_key_id, secret_access_key, session_token=None):
        """Accept AssumeRole calls signed with these credentials."""
        with self._lock:
            self._keys[access_key_id] = (secret_access_key, session_token)

    def accept_web_identity_token(self, token):
        with self._lock:
            self._web_identity_tokens.add(token)

    def deny_role(self, role_arn, message):
        """Reject AssumeRole of role_arn with 403 AccessDenied and message."""
        with self._lock:
            self._role_failures[role_arn] = Failure(403, "AccessDenied", message)

    def secrets(self):
        found = super().secrets()
        with self._lock:
            found.update(secret for secret, _ in self._keys.values())
            found.update(token for _, token in self._keys.values() if token)
            found.update(self._web_identity_tokens)
        return found

    def calls_of(self, action):
        with self._lock:
            return [call for call in self.calls if call.form().get("Action") == action]

    @staticmethod
    def _error(status, code, message):
        kind = "Receiver" if status >= 500 else "Sender"
        return _xml_response(status, (
            f'<ErrorResponse xmlns="{STS_NAMESPACE}">\n'
            f"  <Error>\n    <Type>{kind}</Type>\n    <Code>{escape(code)}</Code>\n"
            f"    <Message>{escape(message)}</Message>\n  </Error>\n"
            f"  <RequestId>{uuid.uuid4()}</RequestId>\n</ErrorResponse>\n"))

    def handle(self, call):
        if call.method != "POST" or call.path != "/":
            return self._error(404, "NotFound", f"no route for {call.method} {call.path}")
        if not call.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            return self._error(400, "InvalidParameterValue", "expected a form body")
        form = call.form()
        if form.get("Version") != "2011-06-15":
            return self._error(400, "InvalidParameterValue", "unsupported Version")
        for name in ("RoleArn", "RoleSessionName"):
            if not form.get(name):
                return self._error(400, "ValidationError", f"{name} is required")
        failure = self._take_failure()
        if failure:
            return self._error(failure.status, failure.code, failure.message)
        action = form.get("Action")
        if action == "AssumeRole":
            return self._assume_role(call, form)
        if action == "AssumeRoleWithWebIdentity":
            return self._assume_role_with_web_identity(call, form)
        return self._error(400, "InvalidAction", f"unknown action {action!r}")

    def _check_signature(self, call):
        """Return None when the SigV4 signature is right, else an error response."""
        match = AUTHORIZATION_PATTERN.match(call.headers.get("authorization", ""))
        if not match:
            return self._error(403, "IncompleteSignature", "missing or malformed Authorization")
        with self._lock:
            known = self._keys.get(match["key"])
        if known is None:
            return self._error(403, "InvalidClientTokenId",
                               "The security token included in the request is invalid.")
        secret, token = known
        if token is not None and call.headers.get("x-amz-security-token") != token:
            return self._error(403, "InvalidClientTokenId",
                               "The security token included in the request is invalid.")
        if match["service"] != "sts" or match["region"] != self.region:
            return self._error(403, "SignatureDoesNotMatch",
                               f"credential scope must be {self.region}/sts")
        amz_date = call.headers.get("x-amz-date", "")
        try:
            signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return self._error(403, "IncompleteSignature", "missing or malformed X-Amz-Date")
        if abs(datetime.datetime.now(datetime.timezone.utc) - signed_at) > MAX_CLOCK_SKEW:
            return self._error(403, "SignatureDoesNotMatch", "Signature expired")
        if match["date"] != amz_date[:8]:
            return self._error(403, "SignatureDoesNotMatch", "credential scope date mismatch")
        signed_names = match["headers"].split(";")
        if "host" not in signed_names or "x-amz-date" not in signed_names:
            return self._error(403, "SignatureDoesNotMatch", "host and x-amz-date must be signed")
        if token is not None and "x-amz-security-token" not in signed_names:
            return self._error(403, "SignatureDoesNotMatch", "the session token must be signed")
        missing = [name for name in signed_names if name not in call.headers]
        if missing:
            return self._error(403, "SignatureDoesNotMatch", f"signed headers missing: {missing}")

        # Recompute the signature with botocore over exactly the signed headers.
        request = AWSRequest(method=call.method, url=f"http://{call.headers['host']}{call.path}",
                             data=call.body,
                             headers={name: call.headers[name] for name in signed_names})
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(match["key"], secret, token), "sts", self.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != match["signature"]:
            return self._error(403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature "
                               "you provided.")
        return None

    def _credentials_xml(self, credentials):
        return (f"    <Credentials>\n"
                f"      <AccessKeyId>{credentials.access_key_id}</AccessKeyId>\n"
                f"      <SecretAccessKey>{escape(credentials.secret_access_key)}</SecretAccessKey>\n"
                f"      <SessionToken>{escape(credentials.session_token)}</SessionToken>\n"
                f"      <Expiration>{credentials.expiration_text()}</Expiration>\n"
                f"    </Credentials>\n")

    def _assumed_role_xml(self, role_arn, session_name):
        role_name = role_arn.rsplit("/", 1)[-1]
        return (f"    <AssumedRoleUser>\n"
                f"      <AssumedRoleId>AROA{hashlib.sha1(role_arn.encode()).hexdigest()[:16].upper()}"
                f":{escape(session_name)}</AssumedRoleId>\n"
                f"      <Arn>arn:aws:sts::123456789012:assumed-role/{escape(role_name)}/"
                f"{escape(session_name)}</Arn>\n"
                f"    </AssumedRoleUser>\n")

    def _assume_role(self, call, form):
        error = self._check_signature(call)
        if error:
            return error
        with self._lock:
            failure = self._role_failures.get(form["RoleArn"])
        if failure:
            return self._error(failure.status, failure.code, failure.message)
        duration = form.get("DurationSeconds")
        if duration is not None and not (duration.isdigit() and 900 <= int(duration) <= 43200):
            return self._error(400, "ValidationError", "DurationSeconds out of range")
        credentials = self._issue("ASIA")
        # Issued credentials may sign the next AssumeRole of a role chain.
        self.add_source_credentials(credentials.access_key_id, credentials.secret_access_key,
                                    credentials.session_token)
        return _xml_response(200, (
            f'<AssumeRoleResponse xmlns="{STS_NAMESPACE}">\n  <AssumeRoleResult>\n'
            f"{self._assumed_role_xml(form['RoleArn'], form['RoleSessionName'])}"
            f"{self._credentials_xml(credentials)}"
            f"    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>\n"
            f"  <ResponseMetadata>\n    <RequestId>{uuid.uuid4()}</RequestId>\n"
            f"  </ResponseMetadata>\n</AssumeRoleResponse>\n"))

    def _assume_role_with_web_identity(self, call, form):
        if "authorization" in call.headers:
            return self._error(400, "InvalidParameterValue",
                               "AssumeRoleWithWebIdentity must not be signed")
        with self._lock:
            accepted = form.get("WebIdentityToken") in self._web_identity_tokens
        if not accepted:
            return self._error(400, "InvalidIdentityToken",
                               "Couldn't retrieve verification key from your identity provider")
        credentials = self._issue("ASIA")
        return _xml_response(200, (
            f'<AssumeRoleWithWebIdentityResponse xmlns="{STS_NAMESPACE}">\n'
            f"  <AssumeRoleWithWebIdentityResult>\n"
            f"    <SubjectFromWebIdentityToken>system:serviceaccount:default:ecr-sync"
            f"</SubjectFromWebIdentityToken>\n"
            f"    <Audience>sts.amazonaws.com</Audience>\n"
            f"{self._assumed_role_xml(form['RoleArn'], form['RoleSessionName'])}"
            f"{self._credentials_xml(credentials)}"
            f"    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.example</Provider>\n"
            f"  </AssumeRoleWithWebIdentityResult>\n"
            f"  <ResponseMetadata>\n    <RequestId>{uuid.uuid4()}</RequestId>\n"
            f"  </ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n"))


class SsoMock(MockServer):
    """GetRoleCredentials of the IAM Identity Center portal."""

    def __init__(self, access_token, account_id="123456789012", role_name="ReadOnly",
                 lifetime=3600):
        super().__init__(lifetime)
        self.access_token = access_token
        self.account_id = account_id
        self.role_name = role_name

    def secrets(self):
        return super().secrets() | {self.access_token}

    @staticmethod
    def _error(status, error_type, message):
        return status, {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}, \
            json.dumps({"message": message}).encode()

    def handle(self, call):
        if call.method != "GET" or call.path != "/federation/credentials":
            return self._error(404, "NotFoundException", "no such route")
        failure = self._take_failure()
        if failure:
            return self._error(failure.status, failure.code, failure.message)
        if call.headers.get("x-amz-sso_bearer_token") != self.access_token:
            return self._error(401, "UnauthorizedException",
                               "Session token not found or invalid")
        role = call.query.get("role_name", [None])[-1]
        account = call.query.get("account_id", [None])[-1]
        if role != self.role_name or account != self.account_id:
            return self._error(403, "ForbiddenException", "No access")
        credentials = self._issue("ASIA")
        return 200, {"Content-Type": "application/json"}, json.dumps({"roleCredentials": {
            "accessKeyId": credentials.access_key_id,
            "secretAccessKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
            "expiration": int(credentials.expiration.timestamp() * 1000),
        }}).encode()


class ContainerMock(MockServer):
    """The ECS or EKS Pod Identity credentials endpoint at `path`.

    With authorization_tokens set, the Authorization header must be one of
    them (a set, so a test can rotate the token file between fetches).
    """

    def __init__(self, path="/v1/credentials", authorization_tokens=(), lifetime=3600):
        super().__init__(lifetime)
        self.path = path
        self.authorization_tokens = set(authorization_tokens)

    def secrets(self):
        return super().secrets() | self.authorization_tokens

    @staticmethod
    def _error(status, code, message):
        return status, {"Content-Type": "application/json"}, \
            json.dumps({"code": code, "message": message}).encode()

    def handle(self, call):
        if call.method != "GET" or call.path != self.path:
            return self._error(404, "NotFound", "no such path")
        if self.authorization_tokens and \
                call.headers.get("authorization") not in self.authorization_tokens:
            return self._error(401, "AccessDeniedException", "invalid authorization token")
        failure = self._take_failure()
        if failure:
            return self._error(failure.status, failure.code, failure.message)
        credentials = self._issue("ASIA")
        return 200, {"Content-Type": "application/json"}, json.dumps({
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token,
            "Expiration": credentials.expiration_text(),
            "RoleArn": "arn:aws:iam::123456789012:role/task",
        }).encode()


class ImdsMock(MockServer):
    """IMDSv2: session tokens from PUT /latest/api/token, required by every GET."""

    TOKEN_PATH = "/latest/api/token"
    CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"

    def __init__(self, role_name="ecr-sync-instance-role", lifetime=3600):
        super().__init__(lifetime)
        self.role_name = role_name  # None: no role attached (404)
        self.session_tokens = set()

    def secrets(self):
        with self._lock:
            return super().secrets() | set(self.session_tokens)

    @staticmethod
    def _plain(status, text):
        return status, {"Content-Type": "text/plain"}, text.encode()

    def handle(self, call):
        if "x-forwarded-for" in call.headers:
            return self._plain(403, "Forbidden")
        if call.path == self.TOKEN_PATH:
            if call.method != "PUT":
                return self._plain(405, "Method Not Allowed")
            ttl = call.headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self._plain(400, "Bad Request")
            token = random_secrets.token_urlsafe(40)
            with self._lock:
                self.session_tokens.add(token)
            return 200, {"Content-Type": "text/plain",
                         "X-aws-ec2-metadata-token-ttl-seconds": ttl}, token.encode()
        if call.method != "GET":
            return self._plain(405, "Method Not Allowed")
        with self._lock:
            valid = call.headers.get("x-aws-ec2-metadata-token") in self.session_tokens
        if not valid:
            return self._plain(401, "Unauthorized")
        failure = self._take_failure()
        if failure:
            return self._plain(failure.status, failure.message)
        if call.path == self.CREDENTIALS_PATH:
            if self.role_name is None:
                return self._plain(404, "Not Found")
            return self._plain(200, self.role_name)
        if self.role_name is not None and call.path == self.CREDENTIALS_PATH + self.role_name:
            credentials = self._issue("ASIA")
            now = datetime.datetime.now(datetime.timezone.utc)
            return 200, {"Content-Type": "text/plain"}, json.dumps({
                "Code": "Success",
                "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC",
                "AccessKeyId": credentials.access_key_id,
                "SecretAccessKey": credentials.secret_access_key,
                "Token": credentials.session_token,
                "Expiration": credentials.expiration_text(),
            }, indent=2).encode()
        return self._plain(404, "Not Found")
