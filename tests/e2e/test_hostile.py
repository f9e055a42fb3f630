# SPDX-License-Identifier: Apache-2.0
"""ecr-sync against hostile registries: each bad response is rejected clearly.

A HostileStub (harness/hostile.py) on 127.0.0.1 serves the hostile
responses. Every case must end with exit status 1 (2 for invalid usage) and
a message that names the problem, within a few seconds, and without a
signal or a sanitizer report. Run the file with
ECR_SYNC=build-asan/ecr-sync ECR_SYNC_SANITIZED=1 to check the last.
"""

import http.client
import itertools
import json
import re
import time

import pytest

from harness import hostile
from harness.client import OCI_INDEX, RegistryClient, sha256_digest
from harness.dockerconfig import basic_auth_entry, write_docker_config
from harness.hostile import EndlessTags, HostileStub, UploadTarget

RUN_TIMEOUT_SECONDS = 60
FEW_SECONDS = 10
SANITIZER_REPORT = re.compile(
    r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")
MANIFEST_LIMIT = 4 * 1024 * 1024
REPOSITORY = "hostile/app"
STUB_USER = "hostile-user"
STUB_PASSWORD = "hostile-stub-password-5d1f"

_stub_numbers = itertools.count(1)


@pytest.fixture
def hostile_stub(log_dir):
    with HostileStub(log_dir, name=f"hostile-{next(_stub_numbers)}") as started:
        yield started


@pytest.fixture
def other_stub(log_dir):
    """A second stub, the "other host" that must never see the registry's credentials."""
    with HostileStub(log_dir, name=f"hostile-other-{next(_stub_numbers)}") as started:
        yield started


@pytest.fixture
def run(ecr_sync):
    """Run ecr-sync with a bounded time; the result also carries `elapsed` seconds."""
    def run_bounded(*args, env=None):
        started = time.monotonic()
        result = ecr_sync(*args, env=env, timeout=RUN_TIMEOUT_SECONDS)
        result.elapsed = time.monotonic() - started
        return result
    return run_bounded


def assert_clean_exit(result):
    assert result.returncode >= 0, f"ecr-sync was killed by signal {-result.returncode}"
    assert not SANITIZER_REPORT.search(result.stderr), "a sanitizer report is on stderr"
    assert result.elapsed < FEW_SECONDS, f"the run took {result.elapsed:.1f} s"


def assert_rejected(result, pattern, status=1):
    """Check a run ended cleanly with status and a stderr message matching pattern."""
    assert_clean_exit(result)
    assert result.returncode == status, f"expected exit status {status}"
    assert re.search(pattern, result.stderr), f"stderr does not match {pattern!r}"
    assert not result.stdout.startswith("copied ")


def copy_from_stub(run, stub, target, unique_repository, reference="1"):
    separator = "@" if reference.startswith("sha256:") else ":"
    return run("copy", f"{stub.host}/{REPOSITORY}{separator}{reference}",
               f"{target.host}/{unique_repository('hostile')}:1")


def manifest_gets(stub):
    return stub.requests_to(rf"/v2/{re.escape(REPOSITORY)}/manifests/.+", method="GET")


# The harness itself: these checks fail when the stub cannot show what the
# product tests rely on.

def test_stub_omits_content_length(hostile_stub):
    body = hostile.oversized_manifest(MANIFEST_LIMIT + 1)
    hostile_stub.serve_manifest(REPOSITORY, "1", body, omit_content_length=True)

    connection = http.client.HTTPConnection("127.0.0.1", hostile_stub.port, timeout=10)
    try:
        connection.request("GET", f"/v2/{REPOSITORY}/manifests/1")
        response = connection.getresponse()
        received = response.read()
    finally:
        connection.close()

    assert response.getheader("Content-Length") is None
    assert response.getheader("Transfer-Encoding") is None
    assert received == body


def test_stub_records_authorization(other_stub):
    connection = http.client.HTTPConnection("127.0.0.1", other_stub.port, timeout=10)
    try:
        connection.request("GET", "/v2/", headers={"Authorization": "Basic c2VlbjpoZXJl"})
        connection.getresponse().read()
    finally:
        connection.close()

    assert other_stub.authorization_values() == ["Basic c2VlbjpoZXJl"]


# Manifests.

MANIFEST_CASES = {
    "over-4-mib": (lambda: hostile.oversized_manifest(MANIFEST_LIMIT + 1),
                   r"4 MiB|larger than|too large"),
    "nested-100-deep": (lambda: hostile.nested_manifest(100), r"(?i)nest|deep"),
    "nul-byte": (hostile.manifest_with_nul, r"NUL"),
    "digest-too-short": (lambda: hostile.oci_manifest(config_digest="sha256:abc123"),
                         r"sha256:abc123.*(64 hex|hex digits)"),
    "digest-too-long": (lambda: hostile.oci_manifest(layer_digest="sha256:" + "a" * 65),
                        r"64 hex digits"),
    "digest-uppercase": (lambda: hostile.oci_manifest(layer_digest="sha256:" + "AB" * 32),
                         r"lowercase"),
    "digest-unknown-algorithm": (
        lambda: hostile.oci_manifest(config_digest="md5:d41d8cd98f00b204e9800998ecf8427e"),
        r"unknown algorithm \"md5\""),
    "digest-without-algorithm": (lambda: hostile.oci_manifest(layer_digest="a" * 64),
                                 r"invalid digest"),
    "size-negative": (lambda: hostile.oci_manifest(layer_size=-1), r"size.*-1"),
    "size-2-pow-63": (lambda: hostile.oci_manifest(layer_size=2 ** 63),
                      r"size|too big integer.*9223372036854775808"),
    "size-2-pow-64": (lambda: hostile.oci_manifest(config_size=2 ** 64),
                      r"size|too big integer.*18446744073709551616"),
    "size-fraction": (lambda: hostile.oci_manifest(layer_size="1.5"), r"size"),
}


@pytest.mark.parametrize("case", MANIFEST_CASES)
def test_hostile_manifest_rejected(case, hostile_stub, target, run, unique_repository):
    build, expected = MANIFEST_CASES[case]
    hostile_stub.serve_manifest(REPOSITORY, "1", build())
    mark = target.mark()

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, expected)
    assert target.count_requests("PUT", r"/v2/.+/manifests/.+", since=mark) == 0


def test_manifest_of_exactly_4_mib_accepted(hostile_stub, target, run, unique_repository):
    # The limit itself is allowed: the copy gets past the manifest and fails
    # only because the stub has none of the blobs.
    hostile_stub.serve_manifest(REPOSITORY, "1", hostile.oversized_manifest(MANIFEST_LIMIT))

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, r"blob")
    assert not re.search(r"4 MiB|larger than|too large", result.stderr)
    assert hostile_stub.requests_to(rf"/v2/{re.escape(REPOSITORY)}/blobs/.+", method="GET")


def test_oversized_manifest_without_length(hostile_stub, target, run, unique_repository):
    body = hostile.oversized_manifest(2 * MANIFEST_LIMIT)
    hostile_stub.serve_manifest(REPOSITORY, "1", body, omit_content_length=True)

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, r"4 MiB|larger than|too large")


def test_index_listing_itself_by_digest(hostile_stub, target, run, unique_repository):
    # No index can contain its own digest, so the bytes served for the
    # requested digest cannot match it: ecr-sync must see the mismatch.
    claimed = sha256_digest(b"the digest this index claims to have")
    body = hostile.oci_index([(claimed, 512)])
    hostile_stub.serve_manifest(REPOSITORY, claimed, body, media_type=OCI_INDEX, digest=claimed)

    result = copy_from_stub(run, hostile_stub, target, unique_repository, reference=claimed)

    assert_rejected(result, r"digest")
    assert claimed in result.stderr
    # A manifest whose bytes miss its digest is fetched again, up to 3 times.
    assert len(manifest_gets(hostile_stub)) <= 3


def test_index_listing_itself_by_tag(hostile_stub, target, run, unique_repository):
    # The tag's Docker-Content-Digest header claims the digest the index lists.
    claimed = sha256_digest(b"the digest this index claims to have")
    body = hostile.oci_index([(claimed, 512)])
    hostile_stub.serve_manifest(REPOSITORY, "1", body, media_type=OCI_INDEX, digest=claimed)
    hostile_stub.serve_manifest(REPOSITORY, claimed, body, media_type=OCI_INDEX, digest=claimed)

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, r"digest")
    assert len(manifest_gets(hostile_stub)) <= 3


def test_child_bytes_differ_from_descriptor(hostile_stub, target, run, unique_repository):
    child = hostile.oci_manifest()
    served = hostile.oci_manifest(extra_members=',"annotations":{"swapped":"yes"}')
    hostile_stub.serve_manifest(REPOSITORY, "1",
                                hostile.oci_index([(sha256_digest(child), len(child))]),
                                media_type=OCI_INDEX)
    hostile_stub.serve_manifest(REPOSITORY, sha256_digest(child), served,
                                digest=sha256_digest(child))

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, r"digest")
    assert sha256_digest(child) in result.stderr


def test_child_size_differs_from_descriptor(hostile_stub, target, run, unique_repository):
    child = hostile.oci_manifest()
    hostile_stub.serve_manifest(REPOSITORY, "1",
                                hostile.oci_index([(sha256_digest(child), len(child) + 7)]),
                                media_type=OCI_INDEX)
    hostile_stub.serve_manifest(REPOSITORY, sha256_digest(child), child)

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, rf"{len(child)} bytes.*{len(child) + 7}")


# Tag lists, read by `plan`.

def write_plan_config(tmp_path, target, stub, repository=REPOSITORY):
    path = tmp_path / "hostile.yaml"
    path.write_text(f"target:\n  registry: {target.host}\n  repository_prefix: hostile\n"
                    f"images:\n  - source: {stub.host}/{repository}\n    tags: {{}}\n")
    return path


def tags_requests(stub):
    return stub.requests_to(rf"/v2/{re.escape(REPOSITORY)}/tags/list", method="GET")


def test_tag_list_linking_to_itself(hostile_stub, target, run, tmp_path):
    hostile_stub.serve_tags(REPOSITORY, EndlessTags(REPOSITORY, same_page=True))

    result = run("plan", "--config", write_plan_config(tmp_path, target, hostile_stub))

    assert_rejected(result, r"same page")
    assert len(tags_requests(hostile_stub)) <= 2


def test_endless_tag_list_bounded(hostile_stub, target, run, tmp_path):
    pages = EndlessTags(REPOSITORY)
    hostile_stub.serve_tags(REPOSITORY, pages)

    result = run("plan", "--config", write_plan_config(tmp_path, target, hostile_stub))

    assert_rejected(result, r"more than \d+ pages")
    assert pages.pages <= 10000


def test_link_without_rel_ends_list(hostile_stub, target, run, tmp_path):
    hostile_stub.serve_tags(REPOSITORY, hostile.tag_page(
        REPOSITORY, ["1"], f"</v2/{REPOSITORY}/tags/list?n=1000&last=1>"))

    result = run("plan", "--config", write_plan_config(tmp_path, target, hostile_stub),
                 "--format", "json")

    assert_clean_exit(result)
    assert result.returncode == 0
    assert [item["tag"] for item in json.loads(result.stdout)["items"]] == ["1"]
    assert len(tags_requests(hostile_stub)) == 1


LINK_CASES = {
    "next-without-target": ('; rel="next"', r"invalid Link header.*expected '<'"),
    "next-with-empty-target": ('<>; rel="next"', r"invalid Link header.*empty target"),
    "unterminated-target": (f'</v2/{REPOSITORY}/tags/list?last=1; rel="next"',
                            r"invalid Link header.*missing '>'"),
    "unterminated-quote": (f'</v2/{REPOSITORY}/tags/list?last=1>; rel="next',
                           r"invalid Link header.*unterminated"),
    "non-http-scheme": ('<file:///etc/hostname>; rel="next"', r"http or https|another host"),
}


@pytest.mark.parametrize("case", LINK_CASES)
def test_odd_link_header_rejected(case, hostile_stub, target, run, tmp_path):
    link, expected = LINK_CASES[case]
    hostile_stub.serve_tags(REPOSITORY, hostile.tag_page(REPOSITORY, ["1"], link))

    result = run("plan", "--config", write_plan_config(tmp_path, target, hostile_stub))

    assert_rejected(result, expected)
    assert len(tags_requests(hostile_stub)) == 1


def test_link_to_other_host_not_followed(hostile_stub, other_stub, target, run, tmp_path):
    other_stub.serve_tags(REPOSITORY, hostile.tag_page(REPOSITORY, ["2"]))
    hostile_stub.serve_tags(REPOSITORY, hostile.tag_page(
        REPOSITORY, ["1"],
        f'<http://localhost:{other_stub.port}/v2/{REPOSITORY}/tags/list?last=1>; rel="next"'))

    result = run("plan", "--config", write_plan_config(tmp_path, target, hostile_stub))

    assert_rejected(result, r"another host")
    assert other_stub.received == []


# Authentication challenges, sent to `copy` from the stub.

def realm(stub):
    return f"http://127.0.0.1:{stub.port}/token"


def challenge_case(name, build, expected):
    return pytest.param(build, expected, id=name)


# Each case: a function of (stub, tmp_path) returning the header value, and
# the regex that stderr must match.
CHALLENGE_CASES = [
    challenge_case("empty", lambda stub, tmp: "", r"WWW-Authenticate"),
    challenge_case("only-scheme", lambda stub, tmp: "Bearer", r"realm"),
    challenge_case("unterminated-quote", lambda stub, tmp: f'Bearer realm="{realm(stub)}',
                   r"unterminated quoted string"),
    challenge_case("unknown-scheme", lambda stub, tmp: 'Digest realm="x", nonce="abc"',
                   r"no Bearer or Basic"),
    challenge_case("token68-only", lambda stub, tmp: "Negotiate YII=", r"no Bearer or Basic"),
    challenge_case("param-without-scheme", lambda stub, tmp: 'realm="x"',
                   r"WWW-Authenticate.*without a scheme"),
    challenge_case("realm-file-scheme",
                   lambda stub, tmp: f'Bearer realm="file://{tmp}/token.json",service="x"',
                   r"token realm.*http or https"),
    challenge_case("realm-ftp-scheme",
                   lambda stub, tmp: f'Bearer realm="ftp://127.0.0.1:{stub.port}/token"',
                   r"token realm.*http or https"),
    challenge_case("realm-relative", lambda stub, tmp: 'Bearer realm="/token",service="x"',
                   r"token realm"),
    challenge_case("quoted-value-16-kib",
                   lambda stub, tmp: f'Bearer realm="{realm(stub)}",service="{"s" * 16384}"',
                   r"8 KiB"),
    challenge_case("header-200-kib",
                   lambda stub, tmp: f'Bearer realm="{realm(stub)}",service={"s" * 200_000}',
                   r"(?i)header"),
    challenge_case("65-challenges", lambda stub, tmp: ", ".join(["Basic"] * 65),
                   r"more than 64 challenges"),
]


@pytest.mark.parametrize(("build", "expected"), CHALLENGE_CASES)
def test_odd_challenge_rejected(build, expected, hostile_stub, target, run, unique_repository,
                                tmp_path):
    # A realm read from a file would give this token: no request may carry it.
    (tmp_path / "token.json").write_text(json.dumps({"token": "token-read-from-a-file"}))
    hostile_stub.add_route(("GET", "HEAD"), r"/v2/.*",
                           hostile.challenge(build(hostile_stub, tmp_path)))

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, expected)
    assert not any("token-read-from-a-file" in value
                   for value in hostile_stub.authorization_values())


# Token endpoint responses.

TOKEN_CASES = {
    "no-token": ({"expires_in": 60}, r"no usable token"),
    "empty-token": ({"token": "", "access_token": ""}, r"no usable token"),
    "token-with-crlf": ({"token": "abc\r\nX-Injected: yes"}, r"no usable token"),
    "token-with-space": ({"token": "abc def"}, r"no usable token"),
    "token-not-a-string": ({"token": 42}, r"no usable token"),
    "not-json": (b"<html>login</html>", r"not a JSON object"),
    "json-array": (b'["token"]', r"not a JSON object"),
    "token-100-kib": ({"token": "t" * 100_000}, r"no usable token"),
    "response-300-kib": ({"token": "t" * 300_000}, r"larger than \d+ bytes"),
}


@pytest.mark.parametrize("case", TOKEN_CASES)
def test_bad_token_response_rejected(case, hostile_stub, target, run, unique_repository):
    document, expected = TOKEN_CASES[case]
    hostile_stub.add_route(("GET", "HEAD"), r"/v2/.*", hostile.challenge(
        f'Bearer realm="{realm(hostile_stub)}",service="hostile"'))
    hostile_stub.add_route(("GET", "POST"), r"/token", hostile.json_token_response(document))

    result = copy_from_stub(run, hostile_stub, target, unique_repository)

    assert_rejected(result, expected)
    for entry in hostile_stub.received:
        assert entry.header("X-Injected") is None
        assert "X-Injected" not in (entry.header("Authorization") or "")


# Upload Location headers, for a push to the stub.

def upload_locations(stub, other):
    """Return {case: location(session_id, repository)} for the Location forms under test."""
    return {
        "absolute-path": lambda session, repository: (
            f"/v2/{repository}/blobs/uploads/{session}?_state=abc%3D%3D"),
        "path-relative": lambda session, repository: f"{session}?_state=abc",
        "absolute-url": lambda session, repository: (
            f"http://127.0.0.1:{stub.port}/v2/{repository}/blobs/uploads/{session}"),
        "other-host": lambda session, repository: (
            f"http://localhost:{other.port}/v2/{repository}/blobs/uploads/{session}?_state=abc"),
    }


def push_to_stub(run, stub, images, source, repository, tmp_path):
    config = write_docker_config(tmp_path / "docker",
                                 {stub.host: basic_auth_entry(STUB_USER, STUB_PASSWORD)})
    return run("copy", images["schema2"].reference(source.host), f"{stub.host}/{repository}:1",
               env={"DOCKER_CONFIG": config})


@pytest.mark.parametrize("case", ["absolute-path", "path-relative", "absolute-url"])
def test_upload_location_followed(case, hostile_stub, other_stub, images, source, run,
                                  unique_repository, tmp_path):
    image = images["schema2"]
    repository = unique_repository("location")
    upload = UploadTarget(upload_locations(hostile_stub, other_stub)[case],
                          credentials=(STUB_USER, STUB_PASSWORD))
    upload.install(hostile_stub)

    result = push_to_stub(run, hostile_stub, images, source, repository, tmp_path)

    assert_clean_exit(result)
    assert result.returncode == 0
    body, _ = upload.manifests[(repository, "1")]
    assert sha256_digest(body) == image.digest
    stored = sorted(digest for name, digest in upload.blobs if name == repository)
    assert stored == sorted(image.blobs)
    assert upload.sessions == {}
    # The session's query is sent back byte for byte, and digest= is added to it.
    session_path = rf"/v2/{re.escape(repository)}/blobs/uploads/session-\d+"
    for entry in hostile_stub.requests_to(session_path):
        if case != "absolute-url":
            assert entry.query.startswith("_state=abc"), f"{entry.method} lost the session state"
        if entry.method == "PUT":
            assert re.search(r"(^|&)digest=sha256(:|%3A)[0-9a-f]{64}$", entry.query)
    if case == "absolute-path":
        assert all(entry.query.startswith("_state=abc%3D%3D")
                   for entry in hostile_stub.requests_to(session_path))


def test_upload_location_other_host_gets_no_credentials(hostile_stub, other_stub, images, source,
                                                        run, unique_repository, tmp_path):
    # Credentials go only to the registry's origin (scheme, host and port).
    # Uploading to the other host without them, or refusing the Location with
    # a message that names it, are both right; sending them is not.
    repository = unique_repository("location-other-host")
    upload = UploadTarget(upload_locations(hostile_stub, other_stub)["other-host"],
                          credentials=(STUB_USER, STUB_PASSWORD))
    upload.install(hostile_stub)
    upload.install(other_stub, require_auth=False)

    result = push_to_stub(run, hostile_stub, images, source, repository, tmp_path)

    assert_clean_exit(result)
    assert other_stub.authorization_values() == []
    assert hostile_stub.authorization_values(), "the registry stub never received credentials"
    if result.returncode != 0:
        assert result.returncode == 1
        assert re.search(r"Location|another host|localhost", result.stderr)


# Blob redirects, for a pull from the stub.

def serve_redirected_image(stub, location):
    """Serve a small image whose blob GETs redirect to location(digest), behind Basic auth."""
    credentials = (STUB_USER, STUB_PASSWORD)
    stub.serve_ping(credentials)
    stub.serve_manifest(REPOSITORY, "1", hostile.oci_manifest(), credentials=credentials)
    stub.redirect_blobs(REPOSITORY, location, credentials=credentials)


def pull_from_stub(run, stub, target, repository, tmp_path):
    config = write_docker_config(tmp_path / "docker",
                                 {stub.host: basic_auth_entry(STUB_USER, STUB_PASSWORD)})
    return run("copy", f"{stub.host}/{REPOSITORY}:1", f"{target.host}/{repository}:1",
               env={"DOCKER_CONFIG": config})


def test_blob_redirect_other_host_gets_no_credentials(hostile_stub, other_stub, target, run,
                                                      unique_repository, tmp_path):
    repository = unique_repository("redirect")
    serve_redirected_image(hostile_stub, lambda digest: (
        f"http://localhost:{other_stub.port}/v2/{REPOSITORY}/blobs/{digest}?signature=abc"))
    for data in (hostile.CONFIG_BYTES, hostile.LAYER_BYTES):
        other_stub.serve_blob(REPOSITORY, data)

    result = pull_from_stub(run, hostile_stub, target, repository, tmp_path)

    assert_clean_exit(result)
    assert result.returncode == 0
    assert len(other_stub.requests_to(r"/v2/.+/blobs/.+", method="GET")) == 2
    assert other_stub.authorization_values() == []
    assert hostile_stub.authorization_values(), "the registry stub never received credentials"
    client = RegistryClient(target.host)
    for data in (hostile.CONFIG_BYTES, hostile.LAYER_BYTES):
        assert client.get_blob(repository, sha256_digest(data)) == data


def test_blob_redirect_to_file_rejected(hostile_stub, target, run, unique_repository,
                                        tmp_path):
    serve_redirected_image(hostile_stub, lambda digest: "file:///etc/hostname")

    result = pull_from_stub(run, hostile_stub, target, unique_repository("redirect"), tmp_path)

    assert_rejected(result, r"(?i)protocol.*file|file.*(protocol|scheme)")


def test_blob_redirect_loop_not_retried(hostile_stub, target, run, unique_repository, tmp_path):
    serve_redirected_image(hostile_stub, lambda digest: f"/v2/{REPOSITORY}/blobs/{digest}")

    result = pull_from_stub(run, hostile_stub, target, unique_repository("redirect"), tmp_path)

    # One GET and 10 redirects per blob; a second attempt is tolerated.
    blob_gets = hostile_stub.requests_to(r"/v2/.+/blobs/.+", method="GET")
    assert len(blob_gets) <= 2 * 2 * 11, f"{len(blob_gets)} blob GETs for 2 blobs"
    assert_rejected(result, r"redirects")


# References with `..` are invalid usage, rejected before any request.

DOT_DOT_CASES = {
    "source-parent": lambda stub, target: [f"{stub.host}/../etc:1", f"{target.host}/e2e/x:1"],
    "source-middle": lambda stub, target: [f"{stub.host}/a/../b:1", f"{target.host}/e2e/x:1"],
    "source-end": lambda stub, target: [f"{stub.host}/a/..:1", f"{target.host}/e2e/x:1"],
    "source-single-dot": lambda stub, target: [f"{stub.host}/a/./b:1", f"{target.host}/e2e/x:1"],
    "source-encoded": lambda stub, target: [f"{stub.host}/a/%2e%2e/b:1",
                                            f"{target.host}/e2e/x:1"],
    "destination-middle": lambda stub, target: [f"{stub.host}/a/b:1",
                                                f"{target.host}/e2e/../x:1"],
}


@pytest.mark.parametrize("case", DOT_DOT_CASES)
def test_dot_dot_reference_is_usage_error(case, hostile_stub, target, run):
    arguments = DOT_DOT_CASES[case](hostile_stub, target)
    mark = target.mark()

    result = run("copy", *arguments)

    assert_rejected(result, r"invalid|repository", status=2)
    bad = next(argument for argument in arguments if "/." in argument or "%2e" in argument)
    assert bad.split("/", 1)[1].rsplit(":", 1)[0] in result.stderr
    assert hostile_stub.received == []
    assert target.count_requests(None, r"/v2/.+", since=mark) == 0


def test_dot_dot_in_config_is_usage_error(hostile_stub, target, run, tmp_path):
    config = tmp_path / "dotdot.yaml"
    config.write_text(f"target:\n  registry: {target.host}\nimages:\n"
                      f"  - source: {hostile_stub.host}/a/../b\n"
                      f"  - source: {hostile_stub.host}/c\n    target: c/../../d\n")

    result = run("plan", "--config", config)

    assert_rejected(result, r"dotdot\.yaml:4:\d+", status=2)
    assert re.search(r"dotdot\.yaml:6:\d+", result.stderr), "the bad target is not reported"
    assert hostile_stub.received == []


# Docker schema 1 in a sync: reported as unsupported, the other image is copied.

def test_schema1_unsupported_in_sync(hostile_stub, images, source, target, run,
                                     unique_repository, tmp_path):
    prefix = unique_repository("schema1-sync")
    legacy = "legacy/app"
    hostile_stub.serve_tags(legacy, hostile.tag_page(legacy, ["1"]))
    schema2 = images["schema2"]
    config = tmp_path / "schema1.yaml"
    config.write_text(f"target:\n  registry: {target.host}\n  repository_prefix: {prefix}\n"
                      f"images:\n  - source: {hostile_stub.host}/{legacy}\n"
                      f"  - source: {source.host}/{schema2.repository}\n"
                      f"    tags: {{include: ['^{schema2.tag}$']}}\n")
    report = tmp_path / "report.json"

    planned = run("plan", "--config", config, "--format", "json")
    synced = run("sync", "--config", config, "--report", report)

    assert_clean_exit(planned)
    assert planned.returncode == 0
    items = {item["source"].split("/", 1)[1]: item
             for item in json.loads(planned.stdout)["items"]}
    assert items[f"{legacy}:1"]["action"] == "unsupported"
    assert re.search(r"(?i)schema 1", items[f"{legacy}:1"]["reason"])
    assert items[f"{schema2.repository}:{schema2.tag}"]["action"] == "copy"

    assert_clean_exit(synced)
    assert synced.returncode == 0
    data = json.loads(report.read_text())
    assert [item["action"] for item in data["items"]
            if item["source"].endswith(f"{legacy}:1")] == ["unsupported"]
    assert data["totals"]["unsupported"] == 1
    copied = RegistryClient(target.host).get_manifest(f"{prefix}/{schema2.repository}",
                                                      schema2.tag)
    assert copied.digest == schema2.digest
    status, _ = RegistryClient(target.host).head_manifest(f"{prefix}/{legacy}", "1")
    assert status == 404
    assert "unsupported=1" in synced.stdout
