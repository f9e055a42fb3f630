# SPDX-License-Identifier: Apache-2.0
"""Checks of the test harness itself: servers, token server, fixtures, stub.

These run without ecr-sync, so a failure here points at the harness and not
at the product.
"""

import base64
import http.client
import json
import urllib.parse

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import harness
from harness import environment, fixtures
from harness.client import DOCKER_SCHEMA1_SIGNED, RegistryClient, RegistryError
from harness.tokenserver import parse_scope


def token_request(token_server, query, credentials=None, method="GET", form=None):
    """Send one request to the token server; returns (status, parsed JSON body)."""
    headers = {}
    if credentials is not None:
        encoded = base64.b64encode(":".join(credentials).encode()).decode()
        headers["Authorization"] = f"Basic {encoded}"
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", token_server.port, timeout=10)
    try:
        path = "/token" + (f"?{urllib.parse.urlencode(query, doseq=True)}" if query else "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def verify_token(token_server, token):
    """Verify a JWT against the certificate in its x5c header; returns the claims."""
    header = jwt.get_unverified_header(token)
    certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    with open(token_server.cert_path, "rb") as cert_file:
        bundle = x509.load_pem_x509_certificate(cert_file.read())
    assert certificate == bundle
    return jwt.decode(token, certificate.public_key(), algorithms=["RS256"],
                      audience=token_server.service, issuer=token_server.issuer)


@pytest.mark.parametrize("kind", fixtures.DEFAULT_KINDS)
def test_fixture_readable_at_source(kind, images, source):
    image = images[kind]

    raw = harness.skopeo_raw(image.reference(source.host))

    assert harness.sha256_digest(raw) == image.digest
    assert raw == image.manifest
    for child in image.children:
        child_raw = harness.skopeo_raw(f"{source.host}/{image.repository}@{child.digest}")
        assert harness.sha256_digest(child_raw) == child.digest
    anonymous = RegistryClient(source.host)
    for digest in image.blobs + image.foreign_blobs:
        assert anonymous.blob_exists(image.repository, digest), digest


def test_fixture_media_types(images, source):
    client = RegistryClient(source.host)
    expected = {
        "multiarch": harness.client.OCI_INDEX,
        "dockerlist": harness.client.DOCKER_MANIFEST_LIST,
        "schema2": harness.client.DOCKER_MANIFEST,
        "oci": harness.client.OCI_MANIFEST,
        "artifact": harness.client.OCI_MANIFEST,
        "zstd": harness.client.OCI_MANIFEST,
        "foreign": harness.client.DOCKER_MANIFEST,
    }
    for kind, media_type in expected.items():
        manifest = client.get_manifest(images[kind].repository, images[kind].tag)
        assert manifest.media_type == media_type, kind
        assert manifest.json()["mediaType"] == media_type, kind


def test_multiarch_fixture_has_attestations(images):
    index = json.loads(images["multiarch"].manifest)
    platforms = [entry["platform"] for entry in index["manifests"]]
    assert platforms[:2] == [{"architecture": "amd64", "os": "linux"},
                             {"architecture": "arm64", "os": "linux", "variant": "v8"}]
    attestations = index["manifests"][2:]
    assert [entry["platform"] for entry in attestations] == [
        {"architecture": "unknown", "os": "unknown"}] * 2
    for image_entry, attestation in zip(index["manifests"][:2], attestations):
        annotations = attestation["annotations"]
        assert annotations["vnd.docker.reference.type"] == "attestation-manifest"
        assert annotations["vnd.docker.reference.digest"] == image_entry["digest"]
    for child in images["multiarch"].children[2:]:
        layers = json.loads(child.manifest)["layers"]
        assert {layer["mediaType"] for layer in layers} == {fixtures.IN_TOTO}
        assert all("in-toto.io/predicate-type" in layer["annotations"] for layer in layers)


def test_fixtures_share_base_layer(images):
    base = set(images["schema2"].blobs) & set(images["oci"].blobs)
    assert len(base) == 1
    assert base <= set(images["multiarch"].children[0].blobs)
    assert base <= set(images["dockerlist"].children[0].blobs)


def test_artifact_fixture_points_at_oci_image(images, source):
    manifest = json.loads(images["artifact"].manifest)
    assert manifest["artifactType"] == fixtures.SBOM_ARTIFACT_TYPE
    assert manifest["config"] == {"mediaType": fixtures.OCI_EMPTY,
                                  "digest": fixtures.OCI_EMPTY_DIGEST, "size": 2}
    assert harness.sha256_digest(fixtures.OCI_EMPTY_DATA) == fixtures.OCI_EMPTY_DIGEST
    assert manifest["subject"]["digest"] == images["oci"].digest
    status, _ = RegistryClient(source.host).head_manifest(images["artifact"].repository,
                                                          images["oci"].digest)
    assert status == 200


def test_zstd_fixture_layers_are_zstd(images, source):
    image = images["zstd"]
    layers = json.loads(image.manifest)["layers"]
    assert {layer["mediaType"] for layer in layers} == {fixtures.OCI_LAYER_ZSTD}
    blob = RegistryClient(source.host).get_blob(image.repository, layers[0]["digest"])
    assert blob[:4] == b"\x28\xb5\x2f\xfd"


def test_foreign_fixture_layer_has_urls(images, source):
    image = images["foreign"]
    layers = json.loads(image.manifest)["layers"]
    foreign = [layer for layer in layers if layer["mediaType"] == fixtures.DOCKER_FOREIGN_LAYER]
    assert len(foreign) == 1
    assert foreign[0]["urls"] == [fixtures.FOREIGN_LAYER_URL]
    assert foreign[0]["digest"] == image.foreign_blobs[0]
    assert foreign[0]["digest"] not in image.blobs


def test_fixtures_are_deterministic(images, servers):
    pushed_again = harness.push_default_fixtures(servers.source_client())
    for kind, image in images.items():
        assert pushed_again[kind].digest == image.digest, kind


def test_source_rejects_anonymous_push(source):
    anonymous = RegistryClient(source.host)
    mark = source.mark()

    with pytest.raises(RegistryError) as raised:
        anonymous.push_blob("fixtures/anonymous", b"anonymous push attempt")

    assert raised.value.status == 401
    assert source.count_requests("POST", r"/v2/fixtures/anonymous/blobs/uploads/",
                                 since=mark) == 2
    assert source.count_requests("PUT", r"/v2/fixtures/anonymous/blobs/uploads/.*",
                                 since=mark) == 0


def test_source_allows_anonymous_pull(images, source):
    status, _ = RegistryClient(source.host).head_manifest(images["schema2"].repository, "1")
    assert status == 200


def test_token_server_rejects_wrong_password(token_server, source):
    rejected_before = token_server.stats()["rejected"]
    client = RegistryClient(source.host, environment.SOURCE_USER, "wrong-password")

    with pytest.raises(RegistryError) as raised:
        client.head_manifest("fixtures/schema2", "1")

    assert raised.value.status == 401
    assert "/token" in raised.value.url
    assert token_server.stats()["rejected"] == rejected_before + 1


def test_token_grants_push_to_user(token_server):
    scopes = ["repository:fixtures/oci:pull,push", "repository:127.0.0.1:5000/team/app:pull,push",
              "registry:catalog:*"]

    status, body = token_request(
        token_server, {"service": token_server.service, "scope": scopes,
                       "account": environment.SOURCE_USER},
        (environment.SOURCE_USER, environment.SOURCE_PASSWORD))

    assert status == 200
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 60
    assert body["issued_at"].endswith("Z")
    claims = verify_token(token_server, body["token"])
    assert claims["sub"] == environment.SOURCE_USER
    assert claims["exp"] - claims["iat"] == 60
    assert claims["jti"]
    assert claims["access"] == [
        {"type": "repository", "name": "fixtures/oci", "actions": ["pull", "push"]},
        {"type": "repository", "name": "127.0.0.1:5000/team/app", "actions": ["pull", "push"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]


def test_token_grants_pull_to_anonymous(token_server):
    issued_before = token_server.stats()["tokens_issued"]

    status, body = token_request(token_server, {"service": token_server.service,
                                                "scope": "repository:fixtures/oci:pull,push"})

    assert status == 200
    claims = verify_token(token_server, body["token"])
    assert claims["sub"] == ""
    assert claims["access"] == [{"type": "repository", "name": "fixtures/oci",
                                 "actions": ["pull"]}]
    assert token_server.stats()["tokens_issued"] == issued_before + 1
    assert token_server.grants[-1] == {"account": "",
                                       "scopes": ["repository:fixtures/oci:pull"]}


def test_token_server_oauth_form(token_server):
    status, body = token_request(token_server, None, method="POST", form={
        "grant_type": "password", "username": environment.SOURCE_USER,
        "password": environment.SOURCE_PASSWORD, "service": token_server.service,
        "client_id": "ecr-sync-tests", "access_type": "offline",
        "scope": "repository:fixtures/oci:pull repository:fixtures/zstd:push"})

    assert status == 200
    assert body["scope"] == "repository:fixtures/oci:pull repository:fixtures/zstd:push"
    assert verify_token(token_server, body["access_token"])["sub"] == environment.SOURCE_USER

    status, refreshed = token_request(token_server, None, method="POST", form={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
        "service": token_server.service, "scope": "repository:fixtures/oci:pull"})

    assert status == 200
    assert verify_token(token_server, refreshed["access_token"])["sub"] == environment.SOURCE_USER


def test_token_server_oauth_form_wrong_password(token_server):
    status, _ = token_request(token_server, None, method="POST", form={
        "grant_type": "password", "username": environment.SOURCE_USER, "password": "wrong",
        "service": token_server.service, "scope": "repository:fixtures/oci:pull"})
    assert status == 401


def test_token_server_rejects_unknown_service(token_server):
    status, _ = token_request(token_server, {"service": "some-other-registry",
                                             "scope": "repository:fixtures/oci:pull"})
    assert status == 400


@pytest.mark.parametrize("scope, expected", [
    ("repository:library/nginx:pull", ("repository", "library/nginx", ["pull"])),
    ("repository:127.0.0.1:5000/a/b:pull,push", ("repository", "127.0.0.1:5000/a/b",
                                                 ["pull", "push"])),
    ("registry:catalog:*", ("registry", "catalog", ["*"])),
    ("repository:name-only", None),
    ("nothing", None),
])
def test_parse_scope(scope, expected):
    assert parse_scope(scope) == expected


def test_basic_target_requires_credentials(basic_target):
    assert RegistryClient(basic_target.host).ping() == 401
    client = RegistryClient(basic_target.host, environment.TARGET_USER,
                            environment.TARGET_PASSWORD)
    assert client.ping() == 200
    wrong = RegistryClient(basic_target.host, environment.TARGET_USER, "wrong")
    assert wrong.ping() == 401


def test_registry_counts_uploads(target):
    client = RegistryClient(target.host)
    mark = target.mark()

    digest = client.push_blob("harness/count", b"one blob for the upload counter")

    assert target.count_requests("POST", r"/v2/harness/count/blobs/uploads/", since=mark) == 1
    puts = target.requests("PUT", r"/v2/harness/count/blobs/uploads/.*", since=mark)
    assert [entry.query_values("digest") for entry in puts] == [[digest]]
    assert [entry.status for entry in puts] == [201]


def test_big_fixture_streams_layer(target):
    size = 3 * 1024 * 1024 + 123
    client = RegistryClient(target.host)
    mark = target.mark()

    image = harness.push_big_fixture(client, repository="harness/big", size=size)

    layer_digest = image.blobs[1]
    assert harness.sha256_digest(client.get_blob("harness/big", layer_digest)) == layer_digest
    assert image.blob_sizes[layer_digest] == 512 + size + (-size % 512) + 1024
    assert target.count_requests("PATCH", r"/v2/harness/big/blobs/uploads/.*", since=mark) >= 2
    raw = harness.skopeo_raw(image.reference(target.host))
    assert harness.sha256_digest(raw) == image.digest


def test_stub_serves_signed_schema1(stub):
    client = RegistryClient(stub.host)

    response = client.request("GET", "/v2/legacy/app/manifests/1", expected=(200,))

    assert response.headers["Content-Type"] == DOCKER_SCHEMA1_SIGNED
    document = json.loads(response.body)
    assert document["schemaVersion"] == 1
    assert document["fsLayers"] and document["history"]
    signature = document["signatures"][0]
    protected = json.loads(base64.urlsafe_b64decode(signature["protected"] + "=="))
    tail = base64.urlsafe_b64decode(protected["formatTail"] + "==")
    payload = response.body[:protected["formatLength"]] + tail
    assert harness.sha256_digest(payload) == response.headers["Docker-Content-Digest"]
    assert "signatures" not in json.loads(payload)

    jwk = signature["header"]["jwk"]
    public_key = ec.EllipticCurvePublicNumbers(
        int.from_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="), "big"),
        int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "=="), "big"),
        ec.SECP256R1()).public_key()
    raw_signature = base64.urlsafe_b64decode(signature["signature"] + "==")
    encoded_payload = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    public_key.verify(
        encode_dss_signature(int.from_bytes(raw_signature[:32], "big"),
                             int.from_bytes(raw_signature[32:], "big")),
        f"{signature['protected']}.{encoded_payload}".encode(), ec.ECDSA(hashes.SHA256()))


def test_stub_serves_schema1_by_digest(stub):
    client = RegistryClient(stub.host)
    by_tag = client.request("GET", "/v2/legacy/app/manifests/2", expected=(200,))
    digest = by_tag.headers["Docker-Content-Digest"]

    by_digest = client.request("HEAD", f"/v2/legacy/app/manifests/{digest}", expected=(200,))

    assert by_digest.headers["Docker-Content-Digest"] == digest
    assert client.request("GET", "/v2/legacy/app/manifests/sha256:" + "0" * 64).status == 404


def test_stub_accepts_canned_routes(stub):
    stub.add_route("GET", r"/v2/canned/manifests/.*",
                   harness.StubResponse(429, {"Retry-After": "1"}, b"slow down"))

    response = RegistryClient(stub.host).request("GET", "/v2/canned/manifests/1")

    assert response.status == 429
    assert response.headers["Retry-After"] == "1"
    assert ("GET", "/v2/canned/manifests/1") in stub.requests
