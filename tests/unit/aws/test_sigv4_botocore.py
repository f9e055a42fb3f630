# SPDX-License-Identifier: Apache-2.0
"""Cross-check src/aws/sigv4.c against botocore's SigV4 signers.

Generates requests from a fixed seed, signs each one with botocore
(SigV4Auth, S3SigV4Auth, or SigV4Auth with payload signing turned off) and
with sigv4-tool, the meson-built driver around es_sigv4_sign(), and compares
canonical requests, strings to sign, signatures and the added headers. It
also signs AWS's SigV4 test suite with botocore and checks that botocore
departs from the suite in exactly the cases listed in
BOTOCORE_SUITE_DIFFERENCES.

meson runs it as the test aws/test_sigv4_botocore. To run it directly, with
Debian's interpreter and python3-botocore:

    ES_SIGV4_TOOL=build/tests/unit/sigv4-tool \\
        /usr/bin/python3 -m pytest -p no:cacheprovider tests/unit/aws/test_sigv4_botocore.py

ES_SIGV4_SUITE overrides the test suite location (by default
../shared/testdata/aws-sigv4-test-suite next to the repository).
"""

import contextlib
import datetime
import difflib
import functools
import hashlib
import json
import os
import pathlib
import random
import subprocess
import types
import unittest.mock

import botocore
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SEED = 20150830
CASE_COUNT = 400

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]
DEFAULT_TOOL = REPOSITORY / "build" / "tests" / "unit" / "sigv4-tool"
DEFAULT_SUITE = REPOSITORY.parent / "shared" / "testdata" / "aws-sigv4-test-suite"

UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

# Path segments: reserved and unsafe ASCII, non-ASCII text, escapes already
# on the wire, and dot and empty segments for normalization.
PATH_SEGMENTS = [
    "a", "images", "v2", "library", "nginx", "manifests", "sha256:abc", "-._~",
    "with space", "plus+sign", "semi;colon", "comma,list", "eq=ual", "at@sign",
    "bang!", "dollar$", "amp&", "quote'", "paren()", "star*", "back\\slash",
    "[brackets]", "pipe|", "caret^", '"dq"', "{brace}", "<lt>", "`tick`",
    "caf\u00e9", "\u65e5\u672c\u8a9e", "stra\u00dfe", "smile\U0001F600",
    "%2F", "%20", "%41", "100%25", "%e2%82%ac", ".", "..", "", "...", ".hidden",
]

# Query names and values, before encoding.
QUERY_TEXTS = [
    "a", "Param1", "value", "", "x y", "a+b", "1=2", "&amp", "100%", "~tilde",
    "-._", "caf\u00e9", "\u65e5\u672c", "slash/", "q?", "hash#", "colon:",
    "at@", "comma,", "star*", "bang!", "quote'", "paren()", "semi;", "dollar$",
    "MixedCase", "UPPER", "lower", "0", "9z", "%41", "tab\tinside",
]

HEADER_NAMES = [
    "Content-Type", "X-Amz-Target", "X-Custom-Header", "Accept", "If-None-Match",
    "x-amz-meta-note", "Cache-Control", "X-Repeated", "Range", "X-Empty",
]

HEADER_VALUES = [
    "application/x-amz-json-1.1", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
    "  leading and trailing  ", "inner   runs   of   spaces", "tabs\tand \t spaces",
    '"quoted   value"', "", "MiXeD CaSe", "caf\u00e9 \u65e5\u672c", "a,b,c",
    "first line\r\n  second line", "one\n\ttwo\n   three", "bytes=0-1023", "*/*",
]

HOSTS = [
    "example.amazonaws.com", "api.ecr.us-east-1.amazonaws.com", "Bucket.S3.Amazonaws.COM",
    "127.0.0.1", "[::1]", "localhost",
]

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
SERVICES = ["ecr", "sts", "service", "execute-api", "secretsmanager"]
METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]

# Where botocore 1.29 departs from AWS's test suite, with the reason. The
# test fails when this list is wrong in either direction.
BOTOCORE_SUITE_DIFFERENCES = {
    # SigV4Auth always removes dot segments and duplicate slashes, but the
    # suite's "normalize": false cases keep them. S3SigV4Auth keeps them too,
    # but it also skips the second encoding that the suite applies.
    "get-relative-relative-unnormalized": "always normalizes the path",
    "get-relative-unnormalized": "always normalizes the path",
    "get-slash-dot-slash-unnormalized": "always normalizes the path",
    "get-slash-pointless-dot-unnormalized": "always normalizes the path",
    "get-slash-unnormalized": "always normalizes the path",
    "get-slashes-unnormalized": "always normalizes the path",
    # A query string taken from the URL is sorted but not encoded, so raw
    # UTF-8 stays raw where the suite expects %E1%88%B4.
    "get-vanilla-utf8-query": "does not percent-encode a raw query from the URL",
    # SigV4Auth always signs X-Amz-Security-Token, but this suite case leaves it unsigned.
    "post-sts-header-after": "always signs the session token",
}


def tool_path():
    path = pathlib.Path(os.environ.get("ES_SIGV4_TOOL", DEFAULT_TOOL))
    if not path.is_file():
        pytest.fail(
            f"sigv4-tool not found at {path}: build it with ninja and set ES_SIGV4_TOOL "
            "to its path (meson test sets it)"
        )
    return path


def suite_path():
    path = pathlib.Path(os.environ.get("ES_SIGV4_SUITE", DEFAULT_SUITE))
    if not (path / "get-vanilla" / "context.json").is_file():
        pytest.fail(f"AWS SigV4 test suite not found at {path}: set ES_SIGV4_SUITE")
    return path


def percent_encode(text, rng=None):
    """Encode each UTF-8 byte as %XX, in upper or lower case hex when rng is given."""
    escapes = []
    for byte in text.encode("utf-8"):
        escape = f"%{byte:02X}"
        if rng is not None and rng.random() < 0.3:
            escape = escape.lower()
        escapes.append(escape)
    return "".join(escapes)


def encode_query_text(rng, text, is_value):
    """Write a query name or value in one of the many spellings a URL may use.

    Every spelling decodes to the same text, so every one must give the same
    canonical query.
    """
    out = []
    for char in text:
        if char == " ":
            out.append(rng.choice(["+", "%20"]))
        elif char == "=" and is_value and rng.random() < 0.5:
            out.append("=")
        elif char in "&=#%+" or ord(char) < 0x20:
            out.append(percent_encode(char, rng))
        elif char in UNRESERVED:
            out.append(char if rng.random() < 0.9 else percent_encode(char, rng))
        else:
            out.append(char if rng.random() < 0.5 else percent_encode(char, rng))
    return "".join(out)


def canonical_query_text(text):
    return "".join(c if c in UNRESERVED else percent_encode(c) for c in text)


def generate_path(rng, signer):
    if signer != "s3" and rng.random() < 0.05:
        return ""
    segments = [rng.choice(PATH_SEGMENTS) for _ in range(rng.randint(0, 6))]
    path = "/" + "/".join(segments)
    if rng.random() < 0.3:
        path += "/"
    return path


def generate_query(rng):
    """Return (botocore params or None, query text for the C signer's URL)."""
    mode = rng.choice(["none", "params", "params", "url"])
    if mode == "none":
        return None, ""

    pairs = []
    for _ in range(rng.randint(1, 6)):
        if pairs and rng.random() < 0.25:
            name = rng.choice(pairs)[0]
        else:
            name = rng.choice(QUERY_TEXTS)
        pairs.append((name, rng.choice(QUERY_TEXTS)))

    if mode == "params":
        parts = []
        for name, value in pairs:
            encoded_name = encode_query_text(rng, name, False)
            # A name without '=' has an empty value; "" alone would be an empty segment.
            if value == "" and name != "" and rng.random() < 0.5:
                parts.append(encoded_name)
            else:
                parts.append(f"{encoded_name}={encode_query_text(rng, value, True)}")
            if rng.random() < 0.1:
                parts.append("")
        return pairs, "&".join(parts)

    # botocore sorts a query taken from the URL without re-encoding it, so the
    # URL carries canonical names and values in shuffled order.
    parts = []
    for name, value in pairs:
        if value == "" and name != "" and rng.random() < 0.5:
            parts.append(canonical_query_text(name))
        else:
            parts.append(f"{canonical_query_text(name)}={canonical_query_text(value)}")
    rng.shuffle(parts)
    return None, "&".join(parts)


def generate_headers(rng, host):
    headers = []
    for _ in range(rng.randint(0, 6)):
        if headers and rng.random() < 0.25:
            name = rng.choice(headers)[0]
        else:
            name = rng.choice(HEADER_NAMES)
        name = "".join(c.upper() if rng.random() < 0.3 else c for c in name)
        headers.append((name, rng.choice(HEADER_VALUES)))
    if rng.random() < 0.2:
        headers.insert(rng.randint(0, len(headers)), ("Host", host))
    return headers


def generate_token(rng, length):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(alphabet) for _ in range(length)) + "=="


def generate_case(rng, index):
    signer = rng.choices(["sigv4", "s3", "unsigned"], weights=[7, 2, 1])[0]
    method = rng.choice(METHODS)
    scheme = rng.choice(["https", "https", "http"])
    host = rng.choice(HOSTS)
    port = rng.choice(["", "", ":443", ":80", ":8443"])
    base = f"{scheme}://{host}{port}{generate_path(rng, signer)}"

    # botocore takes decoded parameters in params; the C signer takes them in the URL.
    params, query = generate_query(rng)
    if params is not None:
        url, botocore_url = f"{base}?{query}", base
    elif query or rng.random() < 0.1:
        url = botocore_url = f"{base}?{query}"
    else:
        url = botocore_url = base

    body = {
        "none": None,
        "empty": b"",
        "text": "Action=ListUsers&Version=2010-05-08 caf\u00e9".encode("utf-8"),
        "binary": bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))),
    }[rng.choice(["none", "empty", "text", "binary"])]

    key_id_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return {
        "id": f"{index:03d}-{signer}-{method.lower()}",
        "signer": signer,
        "method": method,
        "url": url,
        "botocore_url": botocore_url,
        "params": params,
        "headers": generate_headers(rng, host.lower() + port),
        "header_separator": rng.choice([":", ": "]),
        "body": body,
        "region": rng.choice(REGIONS),
        "service": "s3" if signer == "s3" else rng.choice(SERVICES),
        "timestamp": rng.randint(1262304000, 2082758399),  # 2010 to 2035
        "access_key_id": "AKIA" + "".join(rng.choice(key_id_alphabet) for _ in range(16)),
        "secret_access_key": generate_token(rng, 38),
        "session_token": generate_token(rng, rng.randint(100, 300)) if rng.random() < 0.5 else None,
    }


@functools.lru_cache(maxsize=None)
def generated_cases():
    rng = random.Random(SEED)
    return tuple(generate_case(rng, index) for index in range(CASE_COUNT))


class _Recording:
    """Keep the canonical request and string to sign that botocore computes."""

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.recorded_string_to_sign


class RecordingSigV4Auth(_Recording, botocore.auth.SigV4Auth):
    pass


class RecordingS3SigV4Auth(_Recording, botocore.auth.S3SigV4Auth):
    pass


@contextlib.contextmanager
def frozen_clock(timestamp):
    """Make botocore.auth read `timestamp` as the current time.

    botocore 1.29 calls datetime.datetime.utcnow(). now() is frozen as well
    in case another version calls that instead.
    """
    aware = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return aware.replace(tzinfo=None)

        @classmethod
        def now(cls, tz=None):
            return aware if tz is not None else aware.replace(tzinfo=None)

    fake = types.SimpleNamespace(datetime=FrozenDatetime, timezone=datetime.timezone)
    with unittest.mock.patch.object(botocore.auth, "datetime", fake):
        yield


def amz_date(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime(
        "%Y%m%dT%H%M%SZ"
    )


def sign_with_botocore(case):
    credentials = Credentials(
        case["access_key_id"], case["secret_access_key"], case["session_token"]
    )
    auth_class = RecordingS3SigV4Auth if case["signer"] == "s3" else RecordingSigV4Auth
    auth = auth_class(credentials, case["service"], case["region"])
    request = AWSRequest(
        method=case["method"],
        url=case["botocore_url"],
        data=case["body"],
        params=case["params"],
    )
    for name, value in case["headers"]:
        request.headers[name] = value
    if case["signer"] == "unsigned":
        request.context["payload_signing_enabled"] = False

    with frozen_clock(case["timestamp"]):
        auth.add_auth(request)

    # A clock that was not frozen would make every signature differ, so check it first.
    assert request.headers["X-Amz-Date"] == amz_date(case["timestamp"]), "clock not frozen"
    authorization = request.headers["Authorization"]
    return {
        "canonical_request": auth.recorded_canonical_request,
        "string_to_sign": auth.recorded_string_to_sign,
        "signature": authorization.rsplit("Signature=", 1)[1],
        "authorization": authorization,
        "security_token": request.headers.get("X-Amz-Security-Token"),
        "content_sha256": request.headers.get("X-Amz-Content-SHA256"),
    }


def tool_request(case):
    s3 = case["signer"] == "s3"
    body = case["body"] or b""
    return {
        "method": case["method"],
        "url": case["url"],
        "headers": [f"{name}{case['header_separator']}{value}" for name, value in case["headers"]],
        "body_hex": body.hex(),
        "payload_hash": "UNSIGNED-PAYLOAD" if case["signer"] == "unsigned" else None,
        "region": case["region"],
        "service": case["service"],
        "timestamp": case["timestamp"],
        "normalize_path": not s3,
        "encode_path": not s3,
        "sign_session_token": True,
        "add_content_sha256": case["signer"] in ("s3", "unsigned"),
        "access_key_id": case["access_key_id"],
        "secret_access_key": case["secret_access_key"],
        "session_token": case["session_token"],
    }


def run_tool(requests):
    lines = "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in requests)
    completed = subprocess.run(
        [str(tool_path())], input=lines.encode("ascii"), capture_output=True, timeout=120
    )
    assert completed.returncode == 0, (
        f"sigv4-tool exited with {completed.returncode}: {completed.stderr.decode(errors='replace')}"
    )
    replies = [json.loads(line) for line in completed.stdout.decode("ascii").splitlines()]
    assert len(replies) == len(requests), f"sigv4-tool answered {len(replies)} of {len(requests)}"
    return replies


@functools.lru_cache(maxsize=None)
def tool_replies():
    return tuple(run_tool([tool_request(case) for case in generated_cases()]))


def describe_mismatch(case, field, expected, actual):
    diff = "\n".join(
        difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), "botocore", "es_sigv4_sign", lineterm=""
        )
    )
    return (
        f"{field} differs for case {case['id']}\n"
        f"url: {case['url']!r}\nheaders: {case['headers']!r}\nparams: {case['params']!r}\n"
        f"--- botocore {field}:\n{expected!r}\n--- es_sigv4_sign {field}:\n{actual!r}\n{diff}"
    )


def header_value(line):
    return None if line is None else line.split(": ", 1)[1]


@pytest.mark.parametrize("index", range(CASE_COUNT), ids=lambda i: generated_cases()[i]["id"])
def test_matches_botocore(index):
    case = generated_cases()[index]
    expected = sign_with_botocore(case)
    actual = tool_replies()[index]

    assert "error" not in actual, f"case {case['id']}: es_sigv4_sign failed: {actual}"
    for field in ("canonical_request", "string_to_sign", "signature", "authorization"):
        assert actual[field] == expected[field], describe_mismatch(
            case, field, expected[field], actual[field]
        )
    assert header_value(actual["security_token_header"]) == expected["security_token"]
    assert header_value(actual["content_sha256_header"]) == expected["content_sha256"]


def test_generated_cases_cover_features():
    """The seed must produce every feature the cross-check is meant to exercise."""
    cases = generated_cases()

    def count(predicate):
        return sum(1 for case in cases if predicate(case))

    def header_names(case):
        return [name.lower() for name, _ in case["headers"]]

    features = {
        "session token": count(lambda c: c["session_token"]),
        "no session token": count(lambda c: not c["session_token"]),
        "S3 signer": count(lambda c: c["signer"] == "s3"),
        "unsigned payload": count(lambda c: c["signer"] == "unsigned"),
        "non-ASCII path": count(lambda c: any(ord(ch) > 127 for ch in c["url"].split("?")[0])),
        "dot segment": count(lambda c: "/../" in c["url"] or "/./" in c["url"]),
        "repeated query name": count(
            lambda c: c["params"] and len({n for n, _ in c["params"]}) < len(c["params"])
        ),
        "empty query value": count(lambda c: c["params"] and any(v == "" for _, v in c["params"])),
        "URL-form query": count(lambda c: c["params"] is None and "?" in c["url"]),
        "repeated header": count(lambda c: len(set(header_names(c))) < len(header_names(c))),
        "folded header": count(lambda c: any("\n" in v for _, v in c["headers"])),
        "runs of spaces": count(lambda c: any("   " in v for _, v in c["headers"])),
        "binary body": count(lambda c: c["body"] and any(b > 127 for b in c["body"])),
        "explicit host": count(lambda c: "host" in header_names(c)),
    }
    thin = {name: n for name, n in features.items() if n < 10}
    assert not thin, f"features with fewer than 10 generated cases: {thin}"


def test_tool_reports_errors():
    request = tool_request(generated_cases()[0])
    request["headers"] = ["Header-Without-Colon"]
    missing_region = dict(tool_request(generated_cases()[0]), region=None)

    replies = run_tool([request, missing_region])

    assert replies[0]["code"] == 1, replies[0]
    assert "missing ':' after the name" in replies[0]["error"]
    assert replies[1]["code"] == 1, replies[1]
    assert "missing region" in replies[1]["error"]


def read_suite_request(directory):
    """Split request.txt into method, target, headers and body like the C test does."""
    raw = (directory / "request.txt").read_bytes()
    head, _, body = raw.partition(b"\n\n")
    lines = head.decode("utf-8").split("\n")
    method, rest = lines[0].split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line)
        else:
            name, value = line.split(":", 1)
            headers.append((name, value))
    return method, target, headers, body


def sign_suite_case_with_botocore(directory):
    context = json.loads((directory / "context.json").read_text())
    method, target, headers, body = read_suite_request(directory)
    host = next(value for name, value in headers if name.lower() == "host")
    credentials = Credentials(
        context["credentials"]["access_key_id"],
        context["credentials"]["secret_access_key"],
        context["credentials"].get("token"),
    )
    auth = RecordingSigV4Auth(credentials, context["service"], context["region"])
    request = AWSRequest(method=method, url=f"https://{host.strip()}{target}", data=body)
    for name, value in headers:
        request.headers[name] = value
    if context["sign_body"]:
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()

    timestamp = datetime.datetime.strptime(context["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    with frozen_clock(timestamp.replace(tzinfo=datetime.timezone.utc).timestamp()):
        auth.add_auth(request)
    return auth.recorded_canonical_request, request.headers["Authorization"]


def test_botocore_differences_from_suite():
    """botocore departs from AWS's test suite only where BOTOCORE_SUITE_DIFFERENCES says."""
    suite = suite_path()
    differing = {}
    for directory in sorted(p for p in suite.iterdir() if (p / "context.json").is_file()):
        canonical_request, authorization = sign_suite_case_with_botocore(directory)
        expected = (directory / "header-canonical-request.txt").read_text()
        signature = (directory / "header-signature.txt").read_text()
        if canonical_request != expected or not authorization.endswith("Signature=" + signature):
            differing[directory.name] = canonical_request

    unexpected = sorted(set(differing) - set(BOTOCORE_SUITE_DIFFERENCES))
    vanished = sorted(set(BOTOCORE_SUITE_DIFFERENCES) - set(differing))
    assert not unexpected, "botocore also differs in: " + "; ".join(
        f"{name}:\n{differing[name]}" for name in unexpected
    )
    assert not vanished, f"botocore now matches the suite in: {vanished}"
