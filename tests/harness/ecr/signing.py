# SPDX-License-Identifier: Apache-2.0
"""Verify and create AWS Signature Version 4 headers with botocore.

The emulator does not reimplement the signing algorithm. It rebuilds the
incoming request as a botocore AWSRequest and calls botocore's SigV4Auth to
compute the canonical request, the string to sign and the signature, with
the request's own X-Amz-Date and the secret of the access key id it names.

Only the headers the client listed in SignedHeaders take part. So headers
added on the way (User-Agent, Accept-Encoding) cannot break a valid
signature, and a client that signs User-Agent is checked correctly, although
botocore never signs that header itself.
"""

import dataclasses
import datetime
import hashlib
import hmac
import re

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS rejects a request whose X-Amz-Date is more than 15 minutes off.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_AUTHORIZATION_FIELD = re.compile(r"\s*(?P<key>[A-Za-z]+)=(?P<value>[^,\s]*)\s*")


@dataclasses.dataclass(frozen=True)
class TestCredentials:
    """An access key pair (and session token, for temporary credentials)."""
    __test__ = False  # not a pytest test class despite the name

    access_key_id: str
    secret_access_key: str
    session_token: str = None

    def botocore_credentials(self):
        return Credentials(self.access_key_id, self.secret_access_key, self.session_token)


@dataclasses.dataclass(frozen=True)
class SignedIdentity:
    """Who signed a verified request, and for which region and service."""
    access_key_id: str
    region: str
    service: str
    timestamp: str


class SignatureError(Exception):
    """A request failed authentication.

    error_type is the AWS error code (`InvalidSignatureException`,
    `UnrecognizedClientException`, ...) and status the HTTP status to return.
    access_key_id and region are those of the credential scope, once parsed.
    """

    def __init__(self, error_type, message, status=403):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status
        self.access_key_id = None
        self.region = None


class _ListedHeadersSigV4(SigV4Auth):
    """SigV4Auth that signs exactly the listed headers and a fixed timestamp."""

    def __init__(self, credentials, service_name, region_name, header_names=None):
        super().__init__(credentials, service_name, region_name)
        self._header_names = header_names

    def headers_to_sign(self, request):
        if self._header_names is None:
            return super().headers_to_sign(request)
        selected = HTTPHeaders()
        for name in self._header_names:
            for value in request.headers.get_all(name) or []:
                selected[name] = value
        return selected

    def compute(self, request, timestamp):
        """Return the hex signature of request as signed at timestamp."""
        request.context["timestamp"] = timestamp
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        return self.signature(string_to_sign, request)


def _parse_authorization(header):
    """Split an AWS4-HMAC-SHA256 Authorization header into its three fields."""
    if not header.startswith(ALGORITHM + " "):
        raise SignatureError(
            "IncompleteSignatureException",
            f"Authorization header must start with '{ALGORITHM} '", status=400)
    fields = {}
    for part in header[len(ALGORITHM) + 1:].split(","):
        match = _AUTHORIZATION_FIELD.fullmatch(part)
        if match is None:
            raise SignatureError("IncompleteSignatureException",
                                 f"Authorization header field '{part.strip()}' is malformed",
                                 status=400)
        fields[match.group("key")] = match.group("value")
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in fields]
    if missing:
        raise SignatureError(
            "IncompleteSignatureException",
            f"Authorization header is missing {', '.join(missing)}", status=400)
    return fields


def _check_clock_skew(timestamp, now):
    try:
        signed_at = datetime.datetime.strptime(timestamp, SIGV4_TIMESTAMP).replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise SignatureError("IncompleteSignatureException",
                             f"X-Amz-Date '{timestamp}' is not in the form YYYYMMDDTHHMMSSZ",
                             status=400) from None
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {timestamp} is now earlier or later than "
            f"{now.strftime(SIGV4_TIMESTAMP)} by more than "
            f"{int(MAX_CLOCK_SKEW.total_seconds() // 60)} min.")


def verify_request(method, path, headers, body, credential_store, expected_service, now=None):
    """Verify the SigV4 signature of one received request.

    headers is the received http.client.HTTPMessage (or any mapping with
    get_all); credential_store maps access key ids to TestCredentials.
    Returns a SignedIdentity, or raises SignatureError with the error AWS
    returns in that case.
    """
    scope = {}
    try:
        return _verify(method, path, headers, body, credential_store, expected_service,
                       now or datetime.datetime.now(datetime.timezone.utc), scope)
    except SignatureError as error:
        error.access_key_id = scope.get("access_key_id")
        error.region = scope.get("region")
        raise


def _verify(method, path, headers, body, credential_store, expected_service, now, scope_out):
    authorization = headers.get("Authorization")
    if not authorization:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    fields = _parse_authorization(authorization)

    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise SignatureError(
            "IncompleteSignatureException",
            "Credential must have the form ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request",
            status=400)
    access_key_id, scope_date, region, service, _ = scope
    scope_out.update(access_key_id=access_key_id, region=region)

    timestamp = headers.get("X-Amz-Date")
    if not timestamp:
        raise SignatureError("IncompleteSignatureException",
                             "the request has no X-Amz-Date header", status=400)
    _check_clock_skew(timestamp, now)
    if scope_date != timestamp[:8]:
        raise SignatureError(
            "InvalidSignatureException",
            f"Date in Credential scope does not match YYYYMMDD from X-Amz-Date: "
            f"'{scope_date}' != '{timestamp[:8]}'")
    if service != expected_service:
        raise SignatureError("InvalidSignatureException",
                             f"Credential should be scoped to correct service: "
                             f"'{expected_service}'.")

    credentials = credential_store.get(access_key_id)
    if credentials is None:
        raise SignatureError("UnrecognizedClientException",
                             "The security token included in the request is invalid.")
    if headers.get("X-Amz-Security-Token") != credentials.session_token:
        raise SignatureError("UnrecognizedClientException",
                             "The security token included in the request is invalid.")

    content_sha256 = headers.get("X-Amz-Content-SHA256")
    if content_sha256 not in (None, UNSIGNED_PAYLOAD):
        if content_sha256 != hashlib.sha256(body).hexdigest():
            raise SignatureError(
                "InvalidSignatureException",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                status=400)

    signed_names = [name for name in fields["SignedHeaders"].split(";") if name]
    if "host" not in signed_names:
        raise SignatureError("InvalidSignatureException",
                             "'Host' must be a signed header.")
    request_headers = HTTPHeaders()
    for name in signed_names:
        values = headers.get_all(name)
        if not values:
            raise SignatureError("InvalidSignatureException",
                                 f"Signed header '{name}' is not in the request.")
        for value in values:
            request_headers[name] = value
    request = AWSRequest(method=method, url=f"http://{headers.get('Host')}{path}", data=body)
    request.headers = request_headers

    signer = _ListedHeadersSigV4(credentials.botocore_credentials(), service, region,
                                 signed_names)
    expected = signer.compute(request, timestamp)
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.")
    return SignedIdentity(access_key_id, region, service, timestamp)


def sign_headers(method, url, body, headers, credentials, region, service, timestamp=None):
    """Return headers plus X-Amz-Date, Authorization and any session token, signed.

    timestamp is a datetime (default: now); tests use it to send a request
    signed in the past. Every header passed in, and Host, is signed.
    """
    moment = timestamp or datetime.datetime.now(datetime.timezone.utc)
    amz_date = moment.strftime(SIGV4_TIMESTAMP)
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    request.headers["X-Amz-Date"] = amz_date
    if credentials.session_token:
        request.headers["X-Amz-Security-Token"] = credentials.session_token
    signer = _ListedHeadersSigV4(credentials.botocore_credentials(), service, region)
    if "host" not in {name.lower() for name in request.headers.keys()}:
        request.headers["Host"] = signer.headers_to_sign(request)["host"]
    signature = signer.compute(request, amz_date)
    signed_names = signer.signed_headers(signer.headers_to_sign(request))
    request.headers["Authorization"] = (
        f"{ALGORITHM} Credential={signer.scope(request)}, "
        f"SignedHeaders={signed_names}, Signature={signature}")
    return dict(request.headers.items())
