# SPDX-License-Identifier: Apache-2.0
"""ecr-sync under network and server faults, injected by harness.FaultProxy.

Each test puts fault proxies between ecr-sync and the servers it talks to:
the token-auth source registry, its token server, the plain target registry,
or the ECR emulator's control and data planes. It scripts one fault, runs
`ecr-sync copy` or `sync`, and checks the outcome independently. skopeo
reads the target directly (not through a proxy), the target registry's API
reports blob presence, and the proxies' records show what was sent and
retried. Measured attempts and waits are printed in the pytest summary.

"""

import dataclasses
import http.client
import json
import re
import time
import urllib.parse

import pytest

import harness
from harness import faultproxy
from harness.client import RegistryClient

SCHEMA2 = "schema2"
MANIFEST_PATH = r"/v2/{repository}/manifests/[^/]+"
BLOB_PATH = r"/v2/{repository}/blobs/sha256:[0-9a-f]{{64}}"
UPLOAD_START_PATH = r"/v2/{repository}/blobs/uploads/"
UPLOAD_SESSION_PATH = r"/v2/{repository}/blobs/uploads/[^/]+"
TOKEN_PATH = r"/token"
# Bytes of a blob body sent before a reset or a truncation. The number is
# below the size of the schema2 base layer (about 145 KiB).
BREAK_AFTER_BYTES = 30000
RATE_LIMIT_MESSAGE = re.compile(r"rate.limit", re.IGNORECASE)
AMZ_JSON = "application/x-amz-json-1.1"
AMZ_TARGET_PREFIX = r"AmazonEC2ContainerRegistry_V20150921\."
# A persistent fault must fail the run within this time. One request's
# retries back off for about 4 s in all.
FAILURE_TIME_LIMIT_SECONDS = 30


# Proxies.

@dataclasses.dataclass
class Proxies:
    """The fault proxies in front of the source, its token server and the target."""
    source: faultproxy.FaultProxy
    token: faultproxy.FaultProxy
    target: faultproxy.FaultProxy
    redirect_target: faultproxy.RedirectTarget

    def reset(self):
        for proxy in (self.source, self.token, self.target, self.redirect_target):
            if isinstance(proxy, faultproxy.FaultProxy):
                proxy.reset()
            else:
                proxy.clear_records()

    def side(self, name):
        return {"source": self.source, "token": self.token, "target": self.target}[name]


@pytest.fixture(scope="module")
def module_proxies(servers, log_dir):
    token_url = servers.token_server.realm.rsplit("/", 1)[0]
    with faultproxy.FaultProxy(log_dir, token_url, name="faults-token") as token, \
            faultproxy.FaultProxy(log_dir, servers.source, name="faults-source") as source, \
            faultproxy.FaultProxy(log_dir, servers.target, name="faults-target") as target, \
            faultproxy.RedirectTarget(log_dir, servers.source,
                                      name="faults-redirect-target") as redirect_target:
        # The source's challenges name the token server's realm, so rewriting
        # it sends the token requests through their own proxy.
        source.rewrite_url(token_url, token.url)
        yield Proxies(source, token, target, redirect_target)


@pytest.fixture
def proxies(module_proxies):
    """The module's proxies with no rules and no records."""
    module_proxies.reset()
    yield module_proxies
    module_proxies.reset()


@dataclasses.dataclass
class EcrProxies:
    api: faultproxy.FaultProxy
    data: faultproxy.FaultProxy

    def reset(self):
        self.api.reset()
        self.data.reset()


@pytest.fixture(scope="module")
def module_ecr_proxies(ecr_emulator, log_dir):
    # The control plane checks SigV4 signatures, which cover the Host
    # header, so that proxy forwards Host unchanged.
    with faultproxy.FaultProxy(log_dir, ecr_emulator.api_url, name="faults-ecr-api",
                               preserve_host=True) as api, \
            faultproxy.FaultProxy(log_dir, ecr_emulator.registry_host,
                                  name="faults-ecr-data") as data:
        yield EcrProxies(api, data)


@pytest.fixture
def ecr_proxies(module_ecr_proxies, ecr_emulator, monkeypatch):
    """Proxies in front of the ECR emulator, with registry traffic routed through one.

    GetAuthorizationToken returns the data plane proxy as proxyEndpoint for
    the length of the test.
    """
    module_ecr_proxies.reset()
    ecr_emulator.clear_calls()
    monkeypatch.setattr(ecr_emulator.api.ecr, "proxy_endpoint",
                        lambda: module_ecr_proxies.data.url)
    yield module_ecr_proxies
    module_ecr_proxies.reset()


@pytest.fixture
def ecr_run_environment(aws_environment, module_ecr_proxies):
    """Return the environment for an ecr-sync run whose ECR API calls go through the proxy."""
    api_url = module_ecr_proxies.api.url
    return aws_environment(AWS_ENDPOINT_URL=api_url, AWS_ENDPOINT_URL_ECR=api_url)


# Running and checking.

@dataclasses.dataclass
class Run:
    result: object
    seconds: float


def copy_through(ecr_sync, proxies, image, repository, *options, check=None):
    """Copy image from the source proxy to REPOSITORY:1 through the target proxy."""
    started = time.monotonic()
    result = ecr_sync("copy", *options, image.reference(proxies.source.host),
                      f"{proxies.target.host}/{repository}:1", check=check)
    return Run(result, time.monotonic() - started)


def target_digest(skopeo_raw, target, repository, tag="1"):
    """Return the digest of the target tag as skopeo reads it from the registry itself."""
    return harness.sha256_digest(skopeo_raw(f"{target.host}/{repository}:{tag}"))


def assert_copied(skopeo_raw, target, repository, image):
    assert target_digest(skopeo_raw, target, repository) == image.digest
    client = RegistryClient(target.host)
    missing = [digest for digest in image.blobs if not client.blob_exists(repository, digest)]
    assert not missing, f"blobs missing at {target.host}/{repository}: {missing}"


def assert_not_copied(target, repository, blob=None):
    client = RegistryClient(target.host)
    status, _ = client.head_manifest(repository, "1")
    assert status == 404, f"{repository}:1 exists at the target"
    if blob is not None:
        assert not client.blob_exists(repository, blob), f"{blob} is at the target"


def faulted(proxy):
    """Return the records of requests a fault was applied to."""
    return [record for record in proxy.records if record.fault is not None]


def committed_uploads(records):
    """Return {digest: count} of blob uploads completed with PUT ?digest= and 201."""
    counts = {}
    for record in records:
        if record.method == "PUT" and record.status == 201 and "/blobs/uploads/" in record.path:
            for digest in record.query_values("digest"):
                counts[digest] = counts.get(digest, 0) + 1
    return counts


def assert_no_commit_on(records, session):
    puts = [record for record in records
            if record.method == "PUT" and record.path == session and record.query_values("digest")]
    assert puts == [], f"the broken upload session {session} was committed"


def gap_after(records, index):
    """Return the seconds between the end of records[index] and the start of the next one."""
    return records[index + 1].started - records[index].ended


def largest_blob(image):
    return max(image.blob_sizes, key=image.blob_sizes.get)


def blob_path(image, digest):
    return f"/v2/{re.escape(image.repository)}/blobs/{re.escape(digest)}"


# The proxy itself: guards that its faults do what they claim.

def raw_get(proxy, path, headers=None):
    """Send GET path to the proxy with http.client and return (response, connection)."""
    connection = http.client.HTTPConnection(proxy.listen_host, proxy.port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    return connection.getresponse(), connection


def source_blob(servers, image, digest):
    return RegistryClient(servers.source.host).get_blob(image.repository, digest)


def anonymous_bearer(servers, image):
    """Return an Authorization header value with an anonymous pull token for image."""
    token_server = servers.token_server
    query = urllib.parse.urlencode({"service": token_server.service,
                                    "scope": f"repository:{image.repository}:pull"})
    connection = http.client.HTTPConnection(harness.runtime.LOOPBACK, token_server.port,
                                            timeout=10)
    connection.request("GET", f"/token?{query}")
    response = connection.getresponse()
    document = json.loads(response.read())
    connection.close()
    assert response.status == 200, document
    return f"Bearer {document.get('token') or document['access_token']}"


def test_proxy_passes_range_through(proxies, servers, images):
    image = images[SCHEMA2]
    digest = largest_blob(image)
    whole = source_blob(servers, image, digest)
    authorization = anonymous_bearer(servers, image)

    response, connection = raw_get(proxies.source, blob_path(image, digest),
                                   {"Range": "bytes=100-199", "Authorization": authorization})
    body = response.read()
    connection.close()

    assert response.status == 206
    assert response.getheader("Content-Range", "").startswith("bytes 100-199/")
    assert body == whole[100:200]
    assert proxies.source.records[-1].header("Range") == "bytes=100-199"


def test_proxy_rule_counts(proxies):
    proxy = proxies.source
    second = proxy.add_rule(faultproxy.status(503), "GET", r"/v2/", nth=2)
    every = proxy.add_rule(faultproxy.status(500), "HEAD", r"/v2/", times=None)

    statuses = []
    for method in ("GET", "GET", "GET", "HEAD", "HEAD"):
        connection = http.client.HTTPConnection(proxy.listen_host, proxy.port, timeout=10)
        connection.request(method, "/v2/")
        statuses.append(connection.getresponse().status)
        connection.close()

    assert statuses == [401, 503, 401, 500, 500]
    assert (second.matched, second.applied) == (3, 1)
    assert (every.matched, every.applied) == (2, 2)
    assert [record.fault for record in proxy.records] == [
        None, "status 503", None, "status 500", "status 500"]


def test_proxy_body_faults(proxies, servers, images):
    image = images[SCHEMA2]
    digest = largest_blob(image)
    whole = source_blob(servers, image, digest)
    headers = {"Authorization": anonymous_bearer(servers, image)}
    path = blob_path(image, digest)

    proxies.source.add_rule(faultproxy.reset(1000), "GET", path)
    response, connection = raw_get(proxies.source, path, headers)
    received = b""
    with pytest.raises(ConnectionResetError):
        while True:
            piece = response.read1(4096)
            assert piece, "the connection ended without a reset"
            received += piece
    connection.close()
    assert received == whole[:1000]

    proxies.source.add_rule(faultproxy.truncate(1000), "GET", path)
    response, connection = raw_get(proxies.source, path, headers)
    assert response.getheader("Content-Length") == str(len(whole))
    with pytest.raises(http.client.IncompleteRead) as truncated:
        response.read()
    assert len(truncated.value.partial) == 1000
    connection.close()

    proxies.source.add_rule(faultproxy.flip_byte(4321), "GET", path)
    response, connection = raw_get(proxies.source, path, headers)
    flipped = response.read()
    connection.close()
    differences = [index for index, (a, b) in enumerate(zip(whole, flipped)) if a != b]
    assert len(flipped) == len(whole)
    assert differences == [4321]


def test_redirect_target_records_authorization(proxies, servers, images):
    image = images[SCHEMA2]
    digest = largest_blob(image)
    path = blob_path(image, digest)
    proxies.source.add_rule(faultproxy.redirect(proxies.redirect_target), "GET", path)

    response, connection = raw_get(proxies.source, path,
                                   {"Authorization": anonymous_bearer(servers, image)})
    response.read()
    connection.close()
    location = urllib.parse.urlsplit(response.getheader("Location"))
    assert response.status == 307
    assert location.hostname == faultproxy.REDIRECT_HOST
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=10)
    connection.request("GET", location.path)
    redirected = connection.getresponse()
    body = redirected.read()
    connection.close()

    assert redirected.status == 200
    assert body == source_blob(servers, image, digest)
    assert [record.has_authorization for record in proxies.redirect_target.records] == [False]
    assert proxies.source.records[-1].has_authorization

    # A client that leaks the header is seen.
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=10)
    connection.request("HEAD", location.path, headers={"Authorization": "Bearer leaked"})
    connection.getresponse().read()
    connection.close()
    leaked = proxies.redirect_target.records[-1]
    assert leaked.has_authorization
    assert leaked.header("Authorization") == "Bearer <redacted>"


# Transient statuses: every request kind, one failure each, then success.

@dataclasses.dataclass(frozen=True)
class Operation:
    """A request kind of a copy: where it goes, its method and path pattern.

    new_session marks the non-replayable upload requests, which the copy
    engine retries as a whole new upload instead of sending them again.
    """
    name: str
    side: str
    method: str
    path: str
    new_session: bool = False

    def path_for(self, source_repository, target_repository):
        repository = source_repository if self.side == "source" else target_repository
        return self.path.format(repository=re.escape(repository))


OPERATIONS = [
    Operation("manifest-get", "source", "GET", MANIFEST_PATH),
    Operation("blob-get", "source", "GET", BLOB_PATH),
    Operation("blob-head", "target", "HEAD", BLOB_PATH),
    Operation("upload-post", "target", "POST", UPLOAD_START_PATH),
    Operation("upload-patch", "target", "PATCH", UPLOAD_SESSION_PATH, new_session=True),
    Operation("upload-put", "target", "PUT", UPLOAD_SESSION_PATH, new_session=True),
    Operation("manifest-put", "target", "PUT", MANIFEST_PATH),
    Operation("token", "token", "GET", TOKEN_PATH),
]
FAULTS = {
    "500": faultproxy.status(500),
    "502": faultproxy.status(502),
    "503": faultproxy.status(503),
    "reset": faultproxy.reset(),
}


def transient_cases():
    for operation in OPERATIONS:
        for fault_name in FAULTS:
            yield pytest.param(operation, fault_name, id=f"{operation.name}-{fault_name}")


@pytest.mark.parametrize(("operation", "fault_name"), list(transient_cases()))
def test_transient_fault_retried(operation, fault_name, proxies, images, target, ecr_sync,
                                 skopeo_raw, unique_repository, measurement):
    image = images[SCHEMA2]
    repository = unique_repository(f"transient-{operation.name}")
    proxy = proxies.side(operation.side)
    path = operation.path_for(image.repository, repository)
    proxy.add_rule(FAULTS[fault_name], operation.method, path)

    run = copy_through(ecr_sync, proxies, image, repository)

    assert run.result.returncode == 0, run.result.describe()
    assert_copied(skopeo_raw, target, repository, image)
    records = proxy.requests(operation.method, path)
    hits = [index for index, record in enumerate(records) if record.fault is not None]
    assert len(hits) == 1, f"the fault was applied {len(hits)} times: {records}"
    broken = records[hits[0]]
    later = records[hits[0] + 1:]
    if operation.new_session:
        # One more request than blobs: the blob was uploaded again.
        assert len(records) == len(image.blobs) + 1
        if operation.method == "PATCH":
            assert_no_commit_on(proxies.target.records, broken.path)
    else:
        assert [record.path for record in later].count(broken.path) >= 1, (
            f"{operation.method} {broken.path} was not sent again")
    measurement(f"fault {fault_name} on {operation.name}: {len(records)} {operation.method} "
                f"requests, copy took {run.seconds:.2f} s")


def test_final_put_reply_lost_checks_blob(proxies, images, target, ecr_sync, skopeo_raw,
                                          unique_repository):
    # The registry commits the blob but the reply never arrives, twice, so
    # that the second failure reaches ecr-sync even when libcurl sends the
    # request again by itself on a fresh connection.
    image = images[SCHEMA2]
    repository = unique_repository("put-reply-lost-twice")
    path = UPLOAD_SESSION_PATH.format(repository=re.escape(repository))
    proxies.target.add_rule(faultproxy.reset(forward=True), "PUT", path, times=2)

    run = copy_through(ecr_sync, proxies, image, repository, "--jobs", "1")

    assert run.result.returncode == 0, run.result.describe()
    assert_copied(skopeo_raw, target, repository, image)
    lost = faulted(proxies.target)
    assert len(lost) == 2
    digest = lost[-1].query_values("digest")[0]
    # The blob was found with a HEAD after the lost reply, not uploaded again.
    heads = [record for record in proxies.target.requests("HEAD", BLOB_PATH.format(
        repository=re.escape(repository))) if record.path.endswith(digest)]
    assert heads[-1].started > lost[-1].ended
    assert heads[-1].status == 200
    assert committed_uploads(proxies.target.records).get(digest) is None


def test_final_put_reply_lost_once(proxies, images, target, ecr_sync, skopeo_raw,
                                   unique_repository):
    image = images[SCHEMA2]
    repository = unique_repository("put-reply-lost")
    path = UPLOAD_SESSION_PATH.format(repository=re.escape(repository))
    proxies.target.add_rule(faultproxy.reset(forward=True), "PUT", path)

    run = copy_through(ecr_sync, proxies, image, repository, "--jobs", "1")

    assert run.result.returncode == 0, run.result.describe()
    assert_copied(skopeo_raw, target, repository, image)


@pytest.mark.parametrize("operation", [OPERATIONS[0], OPERATIONS[4]],
                         ids=lambda operation: operation.name)
def test_persistent_500_fails(operation, proxies, images, target, ecr_sync, unique_repository,
                              measurement):
    image = images[SCHEMA2]
    repository = unique_repository(f"persistent-{operation.name}")
    proxy = proxies.side(operation.side)
    path = operation.path_for(image.repository, repository)
    proxy.add_rule(faultproxy.status(500), operation.method, path, times=None)

    run = copy_through(ecr_sync, proxies, image, repository, check=1)

    assert "HTTP 500" in run.result.stderr
    assert run.seconds < FAILURE_TIME_LIMIT_SECONDS
    attempts = len(proxy.requests(operation.method, path))
    assert attempts >= 2, "the request was not retried"
    assert_not_copied(target, repository)
    measurement(f"persistent 500 on {operation.name}: {attempts} attempts, exit 1 after "
                f"{run.seconds:.2f} s")


# Rate limits.

def manifest_gets(proxies, image):
    return proxies.source.requests("GET", MANIFEST_PATH.format(
        repository=re.escape(image.repository)))


def test_retry_after_honoured(proxies, images, target, ecr_sync, skopeo_raw, unique_repository,
                              measurement):
    image = images[SCHEMA2]
    repository = unique_repository("retry-after")
    proxies.source.add_rule(faultproxy.too_many_requests(retry_after=1), "GET",
                            MANIFEST_PATH.format(repository=re.escape(image.repository)))

    copy_through(ecr_sync, proxies, image, repository, check=True)

    assert_copied(skopeo_raw, target, repository, image)
    gets = manifest_gets(proxies, image)
    assert [record.status for record in gets] == [429, 200]
    wait = gap_after(gets, 0)
    assert 0.95 <= wait < 3, f"waited {wait:.3f} s after Retry-After: 1"
    measurement(f"429 with Retry-After: 1 on manifest-get: waited {wait:.3f} s")


def test_429_without_retry_after_backoff(proxies, images, target, ecr_sync, skopeo_raw,
                                           unique_repository, measurement):
    image = images[SCHEMA2]
    repository = unique_repository("backoff")
    proxies.source.add_rule(faultproxy.too_many_requests(), "GET",
                            MANIFEST_PATH.format(repository=re.escape(image.repository)))

    copy_through(ecr_sync, proxies, image, repository, check=True)

    assert_copied(skopeo_raw, target, repository, image)
    gets = manifest_gets(proxies, image)
    assert [record.status for record in gets] == [429, 200]
    wait = gap_after(gets, 0)
    assert 0.2 <= wait < 10, f"waited {wait:.3f} s before retrying a 429"
    measurement(f"429 without Retry-After on manifest-get: waited {wait:.3f} s")


def test_long_retry_after_fails_copy_fast(proxies, images, target, ecr_sync, unique_repository,
                                          measurement):
    image = images[SCHEMA2]
    repository = unique_repository("retry-after-hour")
    proxies.source.add_rule(faultproxy.too_many_requests(retry_after=3600), "GET",
                            MANIFEST_PATH.format(repository=re.escape(image.repository)),
                            times=None)

    run = copy_through(ecr_sync, proxies, image, repository, check=1)

    assert run.seconds < 10
    assert "429" in run.result.stderr
    assert RATE_LIMIT_MESSAGE.search(run.result.stderr)
    assert len(manifest_gets(proxies, image)) == 1
    assert_not_copied(target, repository)
    measurement(f"429 with Retry-After: 3600 on manifest-get: exit 1 after {run.seconds:.2f} s")


def write_sync_config(tmp_path, target, prefix, images_yaml):
    path = tmp_path / "sync.yaml"
    path.write_text(f"target:\n  registry: {target.host}\n  repository_prefix: {prefix}\n"
                    f"images:\n{images_yaml}")
    return path


def sync_summary(stdout):
    line = next(line for line in stdout.splitlines() if line.startswith("synced "))
    return dict(token.split("=", 1) for token in line.split()[1:])


def test_sync_defers_on_long_retry_after(proxies, images, target, ecr_sync, tmp_path,
                                             unique_repository, measurement):
    image = images[SCHEMA2]
    prefix = unique_repository("sync-deferred")
    config = write_sync_config(tmp_path, target, prefix, (
        f"  - source: {proxies.source.host}/{image.repository}\n"
        "    tags: {include: ['^1$']}\n"))
    report = tmp_path / "report.json"
    proxies.source.add_rule(faultproxy.too_many_requests(retry_after=3600), "GET",
                            MANIFEST_PATH.format(repository=re.escape(image.repository)),
                            times=None)

    started = time.monotonic()
    result = ecr_sync("sync", "--config", config, "--report", report, check=3)
    seconds = time.monotonic() - started

    assert seconds < 10
    assert sync_summary(result.stdout)["deferred"] == "1"
    items = json.loads(report.read_text())["items"]
    assert [(item["tag"], item["action"]) for item in items] == [("1", "deferred")]
    assert len(manifest_gets(proxies, image)) == 1
    assert_not_copied(target, f"{prefix}/{image.repository}")
    measurement(f"sync with 429 Retry-After: 3600 on manifest-get: exit 3 after {seconds:.2f} s")


# Broken blob bodies.

@pytest.mark.parametrize("break_body", [faultproxy.reset, faultproxy.truncate],
                         ids=["reset", "truncate"])
def test_broken_blob_restarted_without_commit(break_body, proxies, images, target, ecr_sync,
                                              skopeo_raw, unique_repository):
    # The body breaks, and the resumed part is corrupted, so the blob's
    # digest is wrong and the copy engine must start the blob over in a new
    # upload session without committing the first one.
    image = images[SCHEMA2]
    repository = unique_repository(f"broken-body-{break_body.__name__}")
    digest = largest_blob(image)
    path = blob_path(image, digest)
    proxies.source.add_rule(break_body(BREAK_AFTER_BYTES), "GET", path, nth=1)
    proxies.source.add_rule(faultproxy.flip_byte(10), "GET", path, nth=2)

    copy_through(ecr_sync, proxies, image, repository, check=True)

    assert_copied(skopeo_raw, target, repository, image)
    gets = proxies.source.requests("GET", path)
    assert [record.header("Range") for record in gets] == [
        None, f"bytes={BREAK_AFTER_BYTES}-", None]
    target_records = proxies.target.records
    cancelled = [record.path for record in target_records if record.method == "DELETE"]
    assert len(cancelled) == 1
    assert_no_commit_on(target_records, cancelled[0])
    assert committed_uploads(target_records) == {blob: 1 for blob in image.blobs}


@pytest.mark.parametrize("break_body", [faultproxy.reset, faultproxy.truncate],
                         ids=["reset", "truncate"])
def test_broken_blob_body_resumed_with_range(break_body, proxies, images, target, ecr_sync,
                                             skopeo_raw, unique_repository, measurement):
    image = images[SCHEMA2]
    repository = unique_repository(f"range-{break_body.__name__}")
    digest = largest_blob(image)
    proxies.source.add_rule(break_body(BREAK_AFTER_BYTES), "GET", blob_path(image, digest))

    copy_through(ecr_sync, proxies, image, repository, check=True)

    assert_copied(skopeo_raw, target, repository, image)
    gets = proxies.source.requests("GET", blob_path(image, digest))
    assert len(gets) == 2
    assert gets[1].header("Range") == f"bytes={BREAK_AFTER_BYTES}-"
    assert gets[1].status == 206
    assert gets[1].response_bytes == image.blob_sizes[digest] - BREAK_AFTER_BYTES
    # The upload went on in the same session: one POST and one PATCH per blob.
    assert len(proxies.target.requests("POST")) == len(image.blobs)
    assert len(proxies.target.requests("PATCH")) == len(image.blobs)
    measurement(f"{break_body.__name__} after {BREAK_AFTER_BYTES} bytes of a blob GET: "
                f"resumed with Range: bytes={BREAK_AFTER_BYTES}-")


def test_resume_when_server_ignores_range(proxies, images, target, ecr_sync, skopeo_raw,
                                          unique_repository):
    image = images[SCHEMA2]
    repository = unique_repository("range-ignored")
    digest = largest_blob(image)
    path = blob_path(image, digest)
    proxies.source.add_rule(faultproxy.reset(BREAK_AFTER_BYTES), "GET", path, nth=1)
    proxies.source.add_rule(faultproxy.ignore_range(), "GET", path, nth=2)

    copy_through(ecr_sync, proxies, image, repository, check=True)

    assert_copied(skopeo_raw, target, repository, image)
    gets = proxies.source.requests("GET", path)
    assert [record.status for record in gets] == [200, 200]
    assert gets[1].header("Range") == f"bytes={BREAK_AFTER_BYTES}-"
    assert gets[1].response_bytes == image.blob_sizes[digest]


# Corrupted content.

def test_flipped_byte_once_retried(proxies, images, target, ecr_sync, skopeo_raw,
                                   unique_repository):
    image = images[SCHEMA2]
    repository = unique_repository("flip-once")
    digest = largest_blob(image)
    proxies.source.add_rule(faultproxy.flip_byte(1000), "GET", blob_path(image, digest))

    result = copy_through(ecr_sync, proxies, image, repository, check=True).result

    assert_copied(skopeo_raw, target, repository, image)
    assert "digest" in result.stderr
    assert len(proxies.source.requests("GET", blob_path(image, digest))) == 2
    target_records = proxies.target.records
    cancelled = [record.path for record in target_records if record.method == "DELETE"]
    assert len(cancelled) == 1
    assert_no_commit_on(target_records, cancelled[0])
    assert committed_uploads(target_records) == {blob: 1 for blob in image.blobs}


def test_flipped_byte_every_time_fails(proxies, images, target, ecr_sync, unique_repository,
                                       measurement):
    image = images[SCHEMA2]
    repository = unique_repository("flip-always")
    digest = largest_blob(image)
    proxies.source.add_rule(faultproxy.flip_byte(1000), "GET", blob_path(image, digest),
                            times=None)

    run = copy_through(ecr_sync, proxies, image, repository, check=1)

    assert "digest" in run.result.stderr
    assert run.seconds < FAILURE_TIME_LIMIT_SECONDS
    assert_not_copied(target, repository, blob=digest)
    target_records = proxies.target.records
    assert digest not in committed_uploads(target_records)
    assert proxies.target.requests("PUT", MANIFEST_PATH.format(
        repository=re.escape(repository))) == []
    attempts = len(proxies.source.requests("GET", blob_path(image, digest)))
    measurement(f"flipped byte on every blob GET: {attempts} attempts, exit 1 after "
                f"{run.seconds:.2f} s")


def test_flipped_byte_in_tagged_manifest(proxies, images, target, ecr_sync, skopeo_raw,
                                         unique_repository):
    image = images["multiarch"]
    repository = unique_repository("flip-manifest")
    # "linux" becomes "linuy": still valid JSON, so only a digest check can notice.
    offset = image.manifest.index(b'"linux"') + len(b'"linu')
    proxies.source.add_rule(faultproxy.flip_byte(offset, mask=0x01), "GET",
                            f"/v2/{re.escape(image.repository)}/manifests/{image.tag}")

    copy_through(ecr_sync, proxies, image, repository)

    assert target_digest(skopeo_raw, target, repository) == image.digest


# Authentication.

def test_expired_token_mid_copy_renewed(proxies, images, target, ecr_sync, skopeo_raw,
                                        unique_repository):
    image = images[SCHEMA2]
    repository = unique_repository("expired-token")
    path = BLOB_PATH.format(repository=re.escape(image.repository))
    proxies.source.add_rule(faultproxy.expired_token(), "GET", path, nth=2)

    copy_through(ecr_sync, proxies, image, repository, "--jobs", "1", check=True)

    assert_copied(skopeo_raw, target, repository, image)
    gets = proxies.source.requests("GET", path)
    assert [record.status for record in gets] == [200, 401, 200, 200]
    assert gets[2].path == gets[1].path
    tokens = proxies.token.requests("GET", TOKEN_PATH)
    assert [record.status for record in tokens] == [200, 200]
    # The proxy may note the 401's end a moment after the client has read it.
    assert tokens[1].started > gets[1].started
    assert tokens[1].started < gets[2].started


# Slow and redirected downloads.

def test_slow_drip_completes(proxies, images, target, ecr_sync, skopeo_raw, unique_repository,
                             measurement):
    image = images[SCHEMA2]
    repository = unique_repository("drip")
    digest = largest_blob(image)
    # About 1.5 s at 20,000 bytes/s, then the rest at full speed.
    proxies.source.add_rule(faultproxy.drip(20000, max_seconds=1.5), "GET",
                            blob_path(image, digest))

    run = copy_through(ecr_sync, proxies, image, repository, check=True)

    assert_copied(skopeo_raw, target, repository, image)
    gets = proxies.source.requests("GET", blob_path(image, digest))
    assert len(gets) == 1
    dripped = gets[0].ended - gets[0].started
    assert dripped >= 1.4
    measurement(f"drip of 20000 bytes/s for 1.5 s on one blob GET: transfer {dripped:.2f} s, "
                f"copy {run.seconds:.2f} s")


def test_redirected_blob_gets_no_authorization(proxies, images, target, ecr_sync, skopeo_raw,
                                               unique_repository):
    image = images[SCHEMA2]
    repository = unique_repository("redirect")
    path = BLOB_PATH.format(repository=re.escape(image.repository))
    proxies.source.add_rule(faultproxy.redirect(proxies.redirect_target), "GET", path,
                            times=None)

    copy_through(ecr_sync, proxies, image, repository, check=True)

    assert_copied(skopeo_raw, target, repository, image)
    redirected = proxies.source.requests("GET", path)
    assert len(redirected) == len(image.blobs)
    assert all(record.status == 307 for record in redirected)
    assert all(record.has_authorization for record in redirected)
    landed = proxies.redirect_target.records
    assert len(landed) == len(image.blobs)
    assert all(record.status == 200 for record in landed)
    leaked = [record.header("Authorization") for record in landed if record.has_authorization]
    assert leaked == []


# Sync: one failing image does not stop the others.

def test_sync_continues_after_failed_image(proxies, images, target, ecr_sync, skopeo_raw,
                                           tmp_path, unique_repository):
    broken, healthy = images[SCHEMA2], images["oci"]
    prefix = unique_repository("sync-partial")
    config = write_sync_config(tmp_path, target, prefix, (
        f"  - source: {proxies.source.host}/{broken.repository}\n"
        "    tags: {include: ['^1$']}\n"
        f"  - source: {proxies.source.host}/{healthy.repository}\n"
        "    tags: {include: ['^1$']}\n"))
    unique_layer = next(digest for digest in broken.blobs if digest not in healthy.blobs)
    proxies.source.add_rule(faultproxy.flip_byte(10), "GET", blob_path(broken, unique_layer),
                            times=None)

    result = ecr_sync("sync", "--config", config, check=1)

    summary = sync_summary(result.stdout)
    assert (summary["failed"], summary["copied"]) == ("1", "1")
    assert target_digest(skopeo_raw, target, f"{prefix}/{healthy.repository}") == healthy.digest
    assert_not_copied(target, f"{prefix}/{broken.repository}", blob=unique_layer)


# ECR: the control plane and the data plane behind proxies.

def amz_error(status_code, error_type, message):
    return faultproxy.status(status_code, headers=(("Content-Type", AMZ_JSON),),
                             body=json.dumps({"__type": error_type, "message": message}).encode())


def ecr_target_digest(ecr_emulator, skopeo_raw, repository):
    raw = skopeo_raw(f"{ecr_emulator.registry_host}/{repository}:1",
                     creds=ecr_emulator.registry_credentials())
    return harness.sha256_digest(raw)


def api_calls(proxy, operation):
    """Return the recorded control plane requests for one ECR operation."""
    return [record for record in proxy.requests("POST", "/")
            if re.fullmatch(AMZ_TARGET_PREFIX + operation, record.header("X-Amz-Target") or "")]


@pytest.fixture
def ecr_name(unique_repository):
    def make(label):
        return unique_repository(label).replace("e2e/", "faults-ecr/")
    return make


@pytest.mark.parametrize(("operation", "fault", "count"), [
    ("DescribeRepositories", amz_error(500, "ServerException", "injected server error"), 1),
    ("CreateRepository", amz_error(400, "ThrottlingException", "Rate exceeded"), 2),
    ("GetAuthorizationToken", amz_error(400, "ThrottlingException", "Rate exceeded"), 1),
    ("GetAuthorizationToken", faultproxy.status(503, body=b""), 1),
], ids=["describe-500", "create-throttled-twice", "token-throttled", "token-503"])
def test_ecr_api_fault_retried(operation, fault, count, ecr_proxies, ecr_emulator,
                               ecr_run_environment, images, source, ecr_sync, skopeo_raw,
                               ecr_name, measurement):
    image = images[SCHEMA2]
    repository = ecr_name(f"api-{operation.lower()}")
    ecr_proxies.api.add_rule(fault, "POST", "/", times=count,
                             headers={"X-Amz-Target": AMZ_TARGET_PREFIX + operation})

    started = time.monotonic()
    ecr_sync("copy", image.reference(source.host),
             f"{ecr_emulator.registry_hostname()}/{repository}:1", env=ecr_run_environment,
             check=True)
    seconds = time.monotonic() - started

    assert ecr_target_digest(ecr_emulator, skopeo_raw, repository) == image.digest
    sent = api_calls(ecr_proxies.api, operation)
    assert len(sent) == count + 1
    assert sent[-1].fault is None
    # Only the last attempt reached the emulator.
    assert len(ecr_emulator.calls_to(operation)) == 1
    measurement(f"ECR API {operation} {fault.describe()} x{count}: {len(sent)} calls, "
                f"copy took {seconds:.2f} s")


def test_ecr_expired_password_renewed(ecr_proxies, ecr_emulator, ecr_run_environment, images,
                                      source, ecr_sync, skopeo_raw, ecr_name):
    image = images[SCHEMA2]
    repository = ecr_name("data-401")
    ecr_proxies.data.add_rule(faultproxy.expired_token(), "HEAD",
                              BLOB_PATH.format(repository=re.escape(repository)), nth=2)

    ecr_sync("copy", "--jobs", "1", image.reference(source.host),
             f"{ecr_emulator.registry_hostname()}/{repository}:1", env=ecr_run_environment,
             check=True)

    assert ecr_target_digest(ecr_emulator, skopeo_raw, repository) == image.digest
    challenged = faulted(ecr_proxies.data)
    assert len(challenged) == 1
    assert challenged[0].status == 401
    assert len(ecr_emulator.calls_to("GetAuthorizationToken")) == 2


def test_ecr_expired_password_during_patch(ecr_proxies, ecr_emulator, ecr_run_environment,
                                           images, source, ecr_sync, skopeo_raw, ecr_name):
    image = images[SCHEMA2]
    repository = ecr_name("data-401-patch")
    ecr_proxies.data.add_rule(faultproxy.expired_token(), "PATCH",
                              UPLOAD_SESSION_PATH.format(repository=re.escape(repository)),
                              nth=2)

    ecr_sync("copy", "--jobs", "1", image.reference(source.host),
             f"{ecr_emulator.registry_hostname()}/{repository}:1", env=ecr_run_environment,
             check=True)

    assert ecr_target_digest(ecr_emulator, skopeo_raw, repository) == image.digest


@pytest.mark.parametrize("fault_name", ["500", "503"])
def test_ecr_data_plane_fault_retried(fault_name, ecr_proxies, ecr_emulator,
                                      ecr_run_environment, images, source, ecr_sync,
                                      skopeo_raw, ecr_name):
    image = images[SCHEMA2]
    repository = ecr_name(f"data-{fault_name}")
    path = UPLOAD_START_PATH.format(repository=re.escape(repository))
    ecr_proxies.data.add_rule(FAULTS[fault_name], "POST", path)

    ecr_sync("copy", image.reference(source.host),
             f"{ecr_emulator.registry_hostname()}/{repository}:1", env=ecr_run_environment,
             check=True)

    assert ecr_target_digest(ecr_emulator, skopeo_raw, repository) == image.digest
    posts = ecr_proxies.data.requests("POST", path)
    assert len(posts) == len(image.blobs) + 1
    assert sum(1 for record in posts if record.status == 202) == len(image.blobs)
