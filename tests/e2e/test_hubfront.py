# SPDX-License-Identifier: Apache-2.0
"""Checks of the Docker Hub-like front (harness/hubfront.py) without ecr-sync.

The front runs over the session's token-auth source registry. Requests go
out as raw HTTP with anonymous pull tokens from the token server, and through
skopeo, which follows Link headers and streams blobs, so a failure here
points at the harness and not at the product.
"""

import base64
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import time
import urllib.parse

import pytest

import harness
from harness import environment, fixtures
from harness.bigrepo import numbered_tag, push_many_tags, semver_tag
from harness.client import DOCKER_MANIFEST, OCI_MANIFEST, RegistryClient, sha256_digest
from harness.hubfront import DEFAULT_WINDOW_SECONDS, Counters, HubFront

SKOPEO = "/usr/bin/skopeo"
SKOPEO_TIMEOUT_SECONDS = 120
MANY_TAGS_REPOSITORY = "hubfront/many-tags"
MANY_TAGS_COUNT = 1050
MANY_TAGS_BUDGET_SECONDS = 20
SCHEMA2_REPOSITORY = "fixtures/schema2"
PUSH_CREDENTIALS = f"{environment.SOURCE_USER}:{environment.SOURCE_PASSWORD}"
ACCEPT_MANIFESTS = ", ".join(harness.client.ALL_MANIFEST_MEDIA_TYPES)


@pytest.fixture(scope="module")
def front(servers, log_dir):
    with HubFront(log_dir, servers.source) as started:
        yield started


@pytest.fixture(scope="module")
def many_tags(front):
    """A repository with MANY_TAGS_COUNT tags t-0001 ..., pushed through the front."""
    client = RegistryClient(front.host, environment.SOURCE_USER, environment.SOURCE_PASSWORD)
    return push_many_tags(client, MANY_TAGS_REPOSITORY, MANY_TAGS_COUNT)


@pytest.fixture
def hub(front):
    """The front with default settings and zeroed counters."""
    front.page_size = 100
    front.set_rate_limit(None, window=DEFAULT_WINDOW_SECONDS)
    front.set_retry_after(None)
    front.reset()
    return front


def pull_token(token_server, repository, credentials=None, actions="pull"):
    """Fetch a token for repository, anonymous unless credentials are given."""
    query = urllib.parse.urlencode({"service": token_server.service,
                                    "scope": f"repository:{repository}:{actions}"})
    headers = {}
    if credentials is not None:
        encoded = base64.b64encode(":".join(credentials).encode()).decode()
        headers["Authorization"] = f"Basic {encoded}"
    connection = http.client.HTTPConnection("127.0.0.1", token_server.port, timeout=10)
    try:
        connection.request("GET", f"/token?{query}", headers=headers)
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())["token"]
    finally:
        connection.close()


def send(front, method, path, token=None, headers=None, body=None):
    """Send one request to the front and return (status, headers, body bytes)."""
    request_headers = dict(headers or {})
    if token is not None:
        request_headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=request_headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def tags_page(front, token, query=""):
    """GET one tags/list page of MANY_TAGS_REPOSITORY and return (status, headers, document)."""
    path = f"/v2/{MANY_TAGS_REPOSITORY}/tags/list" + (f"?{query}" if query else "")
    status, headers, body = send(front, "GET", path, token)
    return status, headers, json.loads(body)


def next_link(headers):
    """Return the URL path of a `Link: <...>; rel="next"` header, or None."""
    value = headers.get("Link")
    if value is None:
        return None
    target, _, parameters = value.partition(";")
    assert parameters.strip() == 'rel="next"'
    assert target.startswith("<")
    assert target.endswith(">")
    return target[1:-1]


def error_codes(body):
    return [error["code"] for error in json.loads(body)["errors"]]


def run_skopeo(*arguments):
    result = subprocess.run([SKOPEO, *arguments], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=SKOPEO_TIMEOUT_SECONDS)
    assert result.returncode == 0, f"skopeo {' '.join(arguments)}: {result.stderr}"
    return result.stdout


def write_oci_layout(path, tag, layer_size):
    """Write an OCI layout with one image of one random layer and return (manifest, layer)."""
    layer = fixtures.gzip_layer(fixtures.make_tar([
        ("data", None),
        ("data/random.bin", os.urandom(layer_size)),
    ]))
    config = fixtures.image_config("amd64", "linux", [layer])
    manifest = fixtures.encode_json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": fixtures.descriptor(fixtures.OCI_CONFIG, config),
        "layers": [fixtures.descriptor(fixtures.OCI_LAYER_GZIP, layer.data)],
    })
    blob_dir = path / "blobs" / "sha256"
    blob_dir.mkdir(parents=True)
    for data in (config, layer.data, manifest):
        (blob_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [fixtures.descriptor(
        OCI_MANIFEST, manifest, annotations={"org.opencontainers.image.ref.name": tag})]}
    (path / "index.json").write_text(json.dumps(index))
    return manifest, layer


# Many tags and pagination.

def test_push_many_tags_duration(many_tags, measurement):
    measurement(f"hubfront: {MANY_TAGS_COUNT} tags pushed through the front in "
                f"{many_tags.seconds:.1f} s")

    assert len(many_tags.tags) == MANY_TAGS_COUNT
    assert many_tags.seconds < MANY_TAGS_BUDGET_SECONDS


def test_tag_makers():
    semver = [semver_tag(index) for index in range(MANY_TAGS_COUNT)]

    assert numbered_tag(0) == "t-0001"
    assert numbered_tag(1049) == "t-1050"
    assert semver[0] == "1.0.0"
    assert semver[11] == "1.1.1"
    assert semver[-1] == "11.4.9"
    assert len(set(semver)) == MANY_TAGS_COUNT


def test_tags_first_page_default_size(hub, many_tags, token_server):
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)

    status, headers, document = tags_page(hub, token)

    assert status == 200
    assert document["name"] == MANY_TAGS_REPOSITORY
    assert document["tags"] == sorted(many_tags.tags)[:100]
    assert headers["Link"] == (f"</v2/{MANY_TAGS_REPOSITORY}/tags/list?n=100&last=t-0100>; "
                               'rel="next"')


def test_tags_pages_follow_links(hub, many_tags, token_server):
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)
    collected = []
    page_sizes = []
    path = f"/v2/{MANY_TAGS_REPOSITORY}/tags/list?n=100"

    while path is not None:
        status, headers, body = send(hub, "GET", path, token)
        assert status == 200, body
        page = json.loads(body)["tags"]
        collected.extend(page)
        page_sizes.append(len(page))
        path = next_link(headers)

    assert collected == sorted(many_tags.tags)
    assert page_sizes == [100] * 10 + [50]
    records = hub.tags_requests
    assert [(record.n, record.last) for record in records] == (
        [("100", None)] + [("100", f"t-{index:04d}") for index in range(100, 1001, 100)])
    assert records[-1].link is None
    assert hub.counters(MANY_TAGS_REPOSITORY).tags_lists == 11


def test_tags_n_smaller_than_page(hub, many_tags, token_server):
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)

    status, headers, document = tags_page(hub, token, "n=7&last=t-0010")

    assert status == 200
    assert document["tags"] == [f"t-{index:04d}" for index in range(11, 18)]
    assert headers["Link"] == (f"</v2/{MANY_TAGS_REPOSITORY}/tags/list?n=7&last=t-0017>; "
                               'rel="next"')


def test_tags_n_capped_by_page_size(hub, many_tags, token_server):
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)

    status, headers, document = tags_page(hub, token, "n=1000")

    assert status == 200
    assert len(document["tags"]) == 100
    assert "n=100&last=t-0100" in headers["Link"]


def test_tags_larger_page_size(hub, many_tags, token_server):
    hub.page_size = 1000
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)

    status, headers, first = tags_page(hub, token, "n=1000")
    second_status, second_headers, second = send(hub, "GET", next_link(headers), token)

    assert status == 200
    assert len(first["tags"]) == 1000
    assert second_status == 200
    assert json.loads(second)["tags"] == sorted(many_tags.tags)[1000:]
    assert "Link" not in second_headers


def test_tags_n_zero_is_empty(hub, many_tags, token_server):
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)

    status, headers, document = tags_page(hub, token, "n=0")

    assert status == 200
    assert document["tags"] == []
    assert "Link" not in headers


def test_tags_last_after_every_tag(hub, many_tags, token_server):
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)

    status, headers, document = tags_page(hub, token, "last=zzz")

    assert status == 200
    assert document["tags"] == []
    assert "Link" not in headers


@pytest.mark.parametrize("n", ["1001", "5000", "-1", "ten", "", "1.5"])
def test_tags_invalid_n_rejected(hub, many_tags, token_server, n):
    token = pull_token(token_server, MANY_TAGS_REPOSITORY)

    status, _, body = send(hub, "GET", f"/v2/{MANY_TAGS_REPOSITORY}/tags/list?"
                           + urllib.parse.urlencode({"n": n}), token)

    assert status == 400
    assert error_codes(body) == ["PAGINATION_NUMBER_INVALID"]
    assert hub.tags_requests[-1].n == n
    assert hub.tags_requests[-1].status == 400


def test_tags_without_token_challenged(hub, many_tags, token_server):
    status, headers, body = send(hub, "GET", f"/v2/{MANY_TAGS_REPOSITORY}/tags/list?n=10")

    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'realm="{token_server.realm}"' in challenge
    assert f'scope="repository:{MANY_TAGS_REPOSITORY}:pull"' in challenge
    assert error_codes(body) == ["UNAUTHORIZED"]


def test_tags_unknown_repository(hub, token_server):
    token = pull_token(token_server, "hubfront/no-such-repository")

    status, _, body = send(hub, "GET", "/v2/hubfront/no-such-repository/tags/list", token)

    assert status == 404
    assert error_codes(body) == ["NAME_UNKNOWN"]


def test_skopeo_lists_every_tag(hub, many_tags):
    output = run_skopeo("list-tags", "--tls-verify=false", "--no-creds",
                        f"docker://{hub.host}/{MANY_TAGS_REPOSITORY}")

    listed = json.loads(output)["Tags"]
    assert sorted(listed) == sorted(many_tags.tags)
    assert len(listed) == MANY_TAGS_COUNT
    successful = [record for record in hub.tags_requests if record.status == 200]
    assert len(successful) == 11
    assert [record.tags_returned for record in successful] == [100] * 10 + [50]


# Rate limits.

def get_manifest(front, token, reference="1", method="GET", repository=SCHEMA2_REPOSITORY):
    return send(front, method, f"/v2/{repository}/manifests/{reference}", token,
                {"Accept": ACCEPT_MANIFESTS})


def test_no_ratelimit_headers_without_limit(hub, images, token_server):
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    status, headers, body = get_manifest(hub, token)

    assert status == 200
    assert sha256_digest(body) == images["schema2"].digest
    assert headers["Content-Type"] == DOCKER_MANIFEST
    for name in ("ratelimit-limit", "ratelimit-remaining", "docker-ratelimit-source"):
        assert name not in headers
    assert hub.counters(SCHEMA2_REPOSITORY).pulls == 1


def test_ratelimit_header_format(hub, images, token_server):
    hub.set_rate_limit(100, window=21600)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    head_status, head_headers, _ = get_manifest(hub, token, method="HEAD")
    get_status, get_headers, _ = get_manifest(hub, token)

    assert head_status == 200
    assert head_headers["ratelimit-limit"] == "100;w=21600"
    assert head_headers["ratelimit-remaining"] == "100;w=21600"
    assert head_headers["docker-ratelimit-source"] == "127.0.0.1"
    assert head_headers["Docker-Content-Digest"] == images["schema2"].digest
    assert get_status == 200
    assert get_headers["ratelimit-limit"] == "100;w=21600"
    assert get_headers["ratelimit-remaining"] == "99;w=21600"
    assert get_headers["docker-ratelimit-source"] == "127.0.0.1"


def test_ratelimit_window_in_header(hub, images, token_server):
    hub.set_rate_limit(10, window=3600)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    _, headers, _ = get_manifest(hub, token)

    assert headers["ratelimit-limit"] == "10;w=3600"
    assert headers["ratelimit-remaining"] == "9;w=3600"


def test_heads_not_counted_gets_counted(hub, images, token_server):
    hub.set_rate_limit(10)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)
    digest = images["schema2"].digest

    for _ in range(5):
        status, _, _ = get_manifest(hub, token, method="HEAD")
        assert status == 200
    after_heads = hub.rate_limit().remaining
    for reference in ("1", digest, "1"):
        status, _, _ = get_manifest(hub, token, reference)
        assert status == 200
    after_gets = hub.rate_limit().remaining

    assert after_heads == 10
    assert after_gets == 7
    counters = hub.counters(SCHEMA2_REPOSITORY)
    assert counters.manifest_heads == 5
    assert counters.manifest_gets == 3
    assert counters.pulls == 3
    assert counters.rate_limited == 0


def test_exhausted_limit_returns_429(hub, images, token_server):
    hub.set_rate_limit(2)
    hub.set_retry_after(30)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    first = get_manifest(hub, token)
    second = get_manifest(hub, token)
    third_status, third_headers, third_body = get_manifest(hub, token)
    head_status, head_headers, _ = get_manifest(hub, token, method="HEAD")

    assert first[0] == 200
    assert first[1]["ratelimit-remaining"] == f"1;w={DEFAULT_WINDOW_SECONDS}"
    assert second[0] == 200
    assert second[1]["ratelimit-remaining"] == f"0;w={DEFAULT_WINDOW_SECONDS}"
    assert third_status == 429
    assert third_headers["Retry-After"] == "30"
    assert third_headers["ratelimit-remaining"] == f"0;w={DEFAULT_WINDOW_SECONDS}"
    assert error_codes(third_body) == ["TOOMANYREQUESTS"]
    assert json.loads(third_body)["errors"][0]["message"].startswith(
        "You have reached your pull rate limit")
    assert head_status == 200
    assert head_headers["ratelimit-remaining"] == f"0;w={DEFAULT_WINDOW_SECONDS}"
    counters = hub.counters(SCHEMA2_REPOSITORY)
    assert counters.manifest_gets == 3
    assert counters.pulls == 2
    assert counters.rate_limited == 1


def test_blobs_not_limited(hub, images, token_server):
    hub.set_rate_limit(0)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)
    digest = images["schema2"].blobs[-1]

    status, headers, body = send(hub, "GET", f"/v2/{SCHEMA2_REPOSITORY}/blobs/{digest}", token)

    assert status == 200
    assert sha256_digest(body) == digest
    assert "ratelimit-remaining" not in headers
    assert hub.counters(SCHEMA2_REPOSITORY).blob_gets == 1


def test_retry_after_defaults_to_window_left(hub, images, token_server):
    hub.set_rate_limit(0, window=120)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    status, headers, _ = get_manifest(hub, token)

    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= 120


def test_window_end_restores_allowance(hub, images, token_server):
    hub.set_rate_limit(1, window=1)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    first, _, _ = get_manifest(hub, token)
    second, _, _ = get_manifest(hub, token)
    time.sleep(1.1)
    third, headers, _ = get_manifest(hub, token)

    assert first == 200
    assert second == 429
    assert third == 200
    assert headers["ratelimit-remaining"] == "0;w=1"


def test_set_remaining_at_runtime(hub, images, token_server):
    hub.set_rate_limit(100)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    hub.set_remaining(1)
    first, first_headers, _ = get_manifest(hub, token)
    second, _, _ = get_manifest(hub, token)
    hub.reset()
    third, third_headers, _ = get_manifest(hub, token)

    assert first == 200
    assert first_headers["ratelimit-limit"] == f"100;w={DEFAULT_WINDOW_SECONDS}"
    assert first_headers["ratelimit-remaining"] == f"0;w={DEFAULT_WINDOW_SECONDS}"
    assert second == 429
    assert third == 200
    assert third_headers["ratelimit-remaining"] == f"99;w={DEFAULT_WINDOW_SECONDS}"


def test_failed_gets_not_charged(hub, images, token_server):
    hub.set_rate_limit(5)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)

    unknown_status, unknown_headers, unknown_body = get_manifest(hub, token, "no-such-tag")
    anonymous_status, anonymous_headers, _ = get_manifest(hub, None)

    assert unknown_status == 404
    assert error_codes(unknown_body) == ["MANIFEST_UNKNOWN"]
    assert unknown_headers["ratelimit-remaining"] == f"5;w={DEFAULT_WINDOW_SECONDS}"
    assert anonymous_status == 401
    assert "WWW-Authenticate" in anonymous_headers
    assert hub.rate_limit().remaining == 5
    counters = hub.counters(SCHEMA2_REPOSITORY)
    assert counters.manifest_gets == 2
    assert counters.pulls == 0


def test_exhausted_still_challenges_anonymous(hub, images, token_server):
    hub.set_rate_limit(0)

    status, headers, _ = get_manifest(hub, None)

    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer ")
    assert hub.counters(SCHEMA2_REPOSITORY).rate_limited == 0


def test_rate_limit_setters_reject_bad_values(hub):
    with pytest.raises(ValueError):
        hub.set_rate_limit(-1)
    with pytest.raises(ValueError):
        hub.set_rate_limit(10, window=0)
    with pytest.raises(ValueError):
        hub.set_remaining(-1)
    with pytest.raises(ValueError):
        hub.set_retry_after(-5)


def test_page_size_must_be_positive(log_dir, source):
    with pytest.raises(ValueError):
        HubFront(log_dir, source, page_size=0)


# Counters.

def test_counters_per_repository(hub, images, token_server):
    schema2_token = pull_token(token_server, SCHEMA2_REPOSITORY)
    oci = images["oci"]
    oci_token = pull_token(token_server, oci.repository)

    send(hub, "GET", "/v2/", schema2_token)
    get_manifest(hub, schema2_token)
    get_manifest(hub, schema2_token, method="HEAD")
    get_manifest(hub, oci_token, repository=oci.repository)
    get_manifest(hub, oci_token, repository=oci.repository, method="HEAD")
    get_manifest(hub, oci_token, repository=oci.repository, method="HEAD")
    send(hub, "HEAD", f"/v2/{oci.repository}/blobs/{oci.blobs[0]}", oci_token)
    for digest in oci.blobs:
        send(hub, "GET", f"/v2/{oci.repository}/blobs/{digest}", oci_token)

    schema2 = hub.counters(SCHEMA2_REPOSITORY)
    oci_counters = hub.counters(oci.repository)
    total = hub.counters()
    assert (schema2.requests, schema2.manifest_gets, schema2.manifest_heads) == (2, 1, 1)
    assert schema2.blob_gets == 0
    assert oci_counters.requests == 4 + len(oci.blobs)
    assert oci_counters.manifest_gets == 1
    assert oci_counters.manifest_heads == 2
    assert oci_counters.blob_heads == 1
    assert oci_counters.blob_gets == len(oci.blobs)
    assert total.requests == 1 + schema2.requests + oci_counters.requests
    assert total.manifest_gets == 2
    assert total.manifest_heads == 3
    assert total.blob_gets == len(oci.blobs)
    assert hub.repositories() == sorted([SCHEMA2_REPOSITORY, oci.repository])


def test_reset_counters_keeps_limit(hub, images, token_server):
    hub.set_rate_limit(10)
    token = pull_token(token_server, SCHEMA2_REPOSITORY)
    get_manifest(hub, token)

    hub.reset_counters()

    assert hub.counters() == Counters()
    assert hub.tags_requests == []
    assert hub.rate_limit().remaining == 9


# Pass-through: blobs, uploads, Location headers.

def test_upload_location_points_at_front(hub, token_server):
    token = pull_token(token_server, "hubfront/uploads",
                       (environment.SOURCE_USER, environment.SOURCE_PASSWORD), "pull,push")

    status, headers, _ = send(hub, "POST", "/v2/hubfront/uploads/blobs/uploads/", token,
                              {"Content-Length": "0"}, b"")

    assert status == 202
    assert headers["Location"].startswith(f"{hub.url}/v2/hubfront/uploads/blobs/uploads/")
    location = urllib.parse.urlsplit(headers["Location"])
    upload_status, upload_headers, _ = send(hub, "GET", f"{location.path}?{location.query}",
                                            token)
    assert upload_status == 204
    assert upload_headers["Location"].startswith(f"{hub.url}/v2/hubfront/uploads/")


def test_chunked_upload_through_front(hub, servers, token_server):
    repository = "hubfront/chunked"
    token = pull_token(token_server, repository,
                       (environment.SOURCE_USER, environment.SOURCE_PASSWORD), "pull,push")
    pieces = [os.urandom(300 * 1024) for _ in range(4)]
    data = b"".join(pieces)
    digest = sha256_digest(data)
    _, headers, _ = send(hub, "POST", f"/v2/{repository}/blobs/uploads/", token,
                         {"Content-Length": "0"}, b"")
    location = urllib.parse.urlsplit(headers["Location"])

    connection = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=30)
    try:
        connection.request("PATCH", f"{location.path}?{location.query}", body=iter(pieces),
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/octet-stream"},
                           encode_chunked=True)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 202
    assert response.headers["Range"] == f"0-{len(data) - 1}"
    patched = urllib.parse.urlsplit(response.headers["Location"])
    put_status, put_headers, _ = send(
        hub, "PUT", f"{patched.path}?{patched.query}&digest={urllib.parse.quote(digest)}",
        token, {"Content-Length": "0"}, b"")

    assert put_status == 201
    assert put_headers["Docker-Content-Digest"] == digest
    assert servers.source_client(push=False).get_blob(repository, digest) == data
    counters = hub.counters(repository)
    assert counters.upload_requests == 3
    assert counters.upload_bytes == len(data)


def test_client_chunks_through_front(hub, servers):
    repository = "hubfront/client-chunks"
    client = RegistryClient(hub.host, environment.SOURCE_USER, environment.SOURCE_PASSWORD)
    chunks = [os.urandom(1024 * 1024) for _ in range(3)]

    digest, size = client.push_blob_chunks(repository, iter(chunks))

    assert size == 3 * 1024 * 1024
    assert digest == sha256_digest(b"".join(chunks))
    assert client.get_blob(repository, digest) == b"".join(chunks)
    assert servers.source_client(push=False).blob_exists(repository, digest)
    assert hub.counters(repository).upload_bytes == size


def test_invalid_content_length_rejected(hub):
    connection = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
    try:
        connection.putrequest("PUT", "/v2/hubfront/bad/blobs/uploads/x")
        connection.putheader("Content-Length", "many")
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 400
    assert error_codes(body) == ["UNSUPPORTED"]


def test_location_rewrite_rules(hub, source):
    assert hub.rewrite_location(f"{source.url}/v2/a/blobs/uploads/1?_state=x") == (
        f"{hub.url}/v2/a/blobs/uploads/1?_state=x")
    assert hub.rewrite_location("/v2/a/blobs/uploads/1") == "/v2/a/blobs/uploads/1"
    assert hub.rewrite_location("https://cdn.example.invalid/blob") == (
        "https://cdn.example.invalid/blob")


def test_blob_redirect_passes_unchanged(log_dir):
    with harness.StubRegistry(log_dir, name="hubfront-stub") as stub, \
            HubFront(log_dir, stub, name="hubfront-over-stub") as stub_front:
        stub_url = f"http://{stub.host}"
        blob_location = f"{stub_url}/cdn/blob-data"
        upload_location = f"{stub_url}/v2/a/blobs/uploads/7?_state=s"
        stub.add_route("GET", r"/v2/a/blobs/sha256:[0-9a-f]+",
                       harness.StubResponse(307, {"Location": blob_location}))
        stub.add_route("POST", r"/v2/a/blobs/uploads/",
                       harness.StubResponse(202, {"Location": upload_location}))

        blob_status, blob_headers, _ = send(stub_front, "GET", "/v2/a/blobs/sha256:" + "0" * 64)
        upload_status, upload_headers, _ = send(stub_front, "POST", "/v2/a/blobs/uploads/",
                                                headers={"Content-Length": "0"}, body=b"")

    assert blob_status == 307
    assert blob_headers["Location"] == blob_location
    assert upload_status == 202
    assert upload_headers["Location"] == f"{stub_front.url}/v2/a/blobs/uploads/7?_state=s"


def test_exhausted_backend_without_auth(log_dir):
    # The stub returns manifests without authentication, so the front
    # must replace the 200 with its 429.
    with harness.StubRegistry(log_dir, name="hubfront-open-stub") as stub, \
            HubFront(log_dir, stub, name="hubfront-open", limit=1, retry_after=7) as open_front:
        first, _, _ = get_manifest(open_front, None, repository="library/open")
        second, headers, body = get_manifest(open_front, None, repository="library/open")

    assert first == 200
    assert second == 429
    assert headers["Retry-After"] == "7"
    assert error_codes(body) == ["TOOMANYREQUESTS"]


# skopeo through the front.

def test_skopeo_copy_fixture_unchanged(hub, images):
    image = images["multiarch"]
    destination = f"{hub.host}/hubfront/copied-multiarch:1"

    run_skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false",
               "--dest-tls-verify=false", "--src-no-creds", "--dest-creds", PUSH_CREDENTIALS,
               f"docker://{image.reference(hub.host)}", f"docker://{destination}")

    raw = harness.skopeo_raw(destination)
    assert raw == image.manifest
    assert sha256_digest(raw) == image.digest
    for child in image.children:
        child_raw = harness.skopeo_raw(f"{hub.host}/hubfront/copied-multiarch@{child.digest}")
        assert sha256_digest(child_raw) == child.digest
    assert hub.counters(image.repository).manifest_gets >= image.manifest_count


def test_skopeo_pull_counts(hub, images, tmp_path):
    image = images["multiarch"]
    layout = tmp_path / "layout"

    run_skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--src-no-creds",
               f"docker://{image.reference(hub.host)}", f"oci:{layout}:1")

    for digest in image.blobs:
        blob_path = layout / "blobs" / "sha256" / digest.split(":", 1)[1]
        assert sha256_digest(blob_path.read_bytes()) == digest
    assert (layout / "blobs" / "sha256" / image.digest.split(":", 1)[1]).read_bytes() == (
        image.manifest)
    counters = hub.counters(image.repository)
    assert counters.manifest_gets == image.manifest_count
    assert counters.pulls == image.manifest_count
    assert counters.blob_gets == len(image.blobs)


def test_skopeo_push_streams_blobs(hub, servers, tmp_path):
    source_layout = tmp_path / "push"
    manifest, layer = write_oci_layout(source_layout, "1", 3 * 1024 * 1024)
    repository = f"hubfront/pushed-{secrets.token_hex(4)}"
    reference = f"{hub.host}/{repository}:1"

    run_skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds",
               PUSH_CREDENTIALS, f"oci:{source_layout}:1", f"docker://{reference}")
    run_skopeo("copy", "--preserve-digests", "--src-tls-verify=false", "--src-no-creds",
               f"docker://{reference}", f"oci:{tmp_path / 'pulled'}:1")

    assert harness.skopeo_raw(reference) == manifest
    backend = servers.source_client(push=False)
    assert backend.get_manifest(repository, "1").digest == sha256_digest(manifest)
    pulled_layer = tmp_path / "pulled" / "blobs" / "sha256" / layer.digest.split(":", 1)[1]
    assert pulled_layer.read_bytes() == layer.data
    counters = hub.counters(repository)
    assert counters.upload_bytes >= len(layer.data)
    assert counters.blob_gets >= 2
