#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Show `ecr-sync sync` keeping Docker Hub-like images current in a local ECR.

Usage: /usr/bin/python3 scripts/demo.py PATH_TO_ECR_SYNC   (or: make demo)

Starts, on free ports of 127.0.0.1: a Docker Hub-like source (docker-registry
with a token server, behind the harness HubFront, which pages tags/list and
sends pull rate-limit headers) and the ECR emulator. It pushes sample images
to the source, then runs `ecr-sync plan` and `ecr-sync sync` with
examples/demo.yaml, checks what landed with the AWS CLI and skopeo, and runs
sync again to show that a run with nothing to do spends no pulls.

ecr-sync and the AWS CLI get fake keys, empty AWS and Docker configuration
files, and every AWS endpoint pointed at the emulator, so no AWS call leaves
the machine. Every server is stopped at the end, also after Ctrl-C or
SIGTERM. Server logs, the configuration and the reports stay in
tests/e2e/.logs/demo-*/. Exits with 0 when every step succeeded, 1 when one
failed, 2 on invalid usage or a missing tool.
"""

import base64
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPOSITORY_ROOT, "tests"))

import harness  # noqa: E402  (needs the sys.path entry above)
from harness import bigrepo, environment  # noqa: E402
from harness.ecr import Emulator  # noqa: E402

LOG_ROOT = os.path.join(REPOSITORY_ROOT, "tests", "e2e", ".logs")
CONFIG_TEMPLATE = os.path.join(REPOSITORY_ROOT, "examples", "demo.yaml")
SOURCE_HOST_PLACEHOLDER = "SOURCE_HOST"
AWS_CLI = "/usr/bin/aws"
SKOPEO = "/usr/bin/skopeo"
CHILD_TIMEOUT_SECONDS = 120
# After Ctrl-C or SIGTERM, ecr-sync finishes the copies in progress and writes
# its report. It gets this long before it is killed.
INTERRUPT_GRACE_SECONDS = 10

# The Docker Hub-like front allows 100 manifest GETs (pulls) per 6-hour window
# and sends the remaining count in Docker Hub's ratelimit-* headers.
PULL_LIMIT = 100
PULL_WINDOW_SECONDS = 6 * 60 * 60

MANY_TAGS_REPOSITORY = "fixtures/many"
MANY_TAGS_COUNT = 150
# Tags that the filter of fixtures/many in examples/demo.yaml keeps of 1.0.0
# to 2.4.9: the three newest at or above 2.0.0, without 2.4.8.
MANY_TAGS_EXPECTED = ["2.4.6", "2.4.7", "2.4.9"]
FIXTURE_KINDS = ("multiarch", "dockerlist", "schema2")
FIXTURE_DESCRIPTIONS = {
    "multiarch": "OCI index: linux/amd64, linux/arm64/v8 and their attestations",
    "dockerlist": "Docker manifest list: linux/amd64, linux/arm/v7",
    "schema2": "Docker image, single platform",
}
REPOSITORY_PREFIX = "dockerhub"
ANNOTATION_SOURCE_DIGEST = "dev.ecr-sync.source.digest"
ANNOTATION_PLATFORMS = "dev.ecr-sync.platforms"
# Plan rows such as "  excluded    1.0.0    -    -    outside semver range '>=2.0.0'".
EXCLUDED_ROW = re.compile(r"^\s+excluded\s+\S+\s+-\s+-\s+(?P<reason>.+)$")
# Runs of excluded rows with one reason longer than this are shortened.
EXCLUDED_ROWS_SHOWN = 4
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                   "ALL_PROXY")
INDENT = "    "

_print_lock = threading.Lock()


class StepFailed(Exception):
    """A demo step did not produce the expected result; the message names the difference."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that the servers are stopped."""


# Output.

def step(number, total, title):
    print(f"\n[{number}/{total}] {title}", flush=True)


def detail(text=""):
    with _print_lock:
        print(f"{INDENT}{text}", flush=True)


def short(digest):
    return digest[:19] + "..." if digest else "-"


def yes_no(condition):
    return "yes" if condition else "NO"


def relative(path):
    return os.path.relpath(path, os.getcwd())


# The servers.

class DemoServers:
    """The token server, the source registry, the Docker Hub-like front and the ECR emulator."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.token_server = harness.TokenServer(
            log_dir, {environment.SOURCE_USER: environment.SOURCE_PASSWORD})
        self.source = None
        self.hub = None
        self.ecr = Emulator(log_dir, name="ecr")
        self._started = []

    def start(self):
        self._start(self.token_server)
        self.source = harness.Registry(self.log_dir, "source",
                                       harness.TokenAuth.from_server(self.token_server))
        self._start(self.source)
        self.hub = harness.HubFront(self.log_dir, self.source, limit=PULL_LIMIT,
                                    window=PULL_WINDOW_SECONDS)
        self._start(self.hub)
        self._start(self.ecr)

    def _start(self, server):
        # Listed before start() so that stop() also ends a server whose start
        # was interrupted halfway, such as a spawned docker-registry.
        self._started.append(server)
        server.start()

    def stop(self):
        """Stop every started server, most recent first; report failures and go on."""
        while self._started:
            server = self._started.pop()
            try:
                server.stop()
            except Exception as error:  # the other servers must still stop
                print(f"demo.py: stopping {type(server).__name__} failed: {error}",
                      file=sys.stderr)

    def push_client(self):
        return harness.RegistryClient(self.source.host, environment.SOURCE_USER,
                                      environment.SOURCE_PASSWORD)


def rate_limit_headers(hub):
    """Send an anonymous manifest HEAD through the front; return its rate-limit headers.

    Docker Hub does not count HEAD requests as pulls, and neither does the front.
    """
    client = harness.RegistryClient(hub.host)
    _, headers = client.head_manifest(MANY_TAGS_REPOSITORY, MANY_TAGS_EXPECTED[-1])
    return headers.get("ratelimit-limit"), headers.get("ratelimit-remaining")


# Child processes.

def isolated_environment(servers, home):
    """Return the environment for ecr-sync and the AWS CLI: only the emulator, fake keys.

    AWS_* variables of the caller are dropped, so no profile, key or endpoint
    of the machine is used. HOME, the AWS files and DOCKER_CONFIG point at
    empty files under home. Proxy variables are dropped because every server
    is on 127.0.0.1.
    """
    variables = {name: value for name, value in os.environ.items()
                 if not name.startswith("AWS_") and name not in PROXY_VARIABLES}
    variables.update(servers.ecr.aws_environment())
    api_url = servers.ecr.api_url
    variables.update({
        "HOME": home,
        "AWS_CONFIG_FILE": os.path.join(home, "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "aws-credentials"),
        "AWS_ENDPOINT_URL": api_url,
        "AWS_ENDPOINT_URL_ECR": api_url,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": api_url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
        "DOCKER_CONFIG": os.path.join(home, "docker"),
        "NO_PROXY": "127.0.0.1,localhost",
    })
    for name in ("aws-config", "aws-credentials"):
        with open(os.path.join(home, name), "w", encoding="utf-8"):
            pass
    os.makedirs(variables["DOCKER_CONFIG"], exist_ok=True)
    with open(os.path.join(variables["DOCKER_CONFIG"], "config.json"), "w",
              encoding="utf-8") as config:
        config.write('{"auths": {}}\n')
    return variables


def stop_child(process):
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_after_interrupt(process, interrupt):
    """Let a child stop on its own after Ctrl-C or SIGTERM, up to INTERRUPT_GRACE_SECONDS.

    Ctrl-C in a terminal sends SIGINT to the child too, but SIGTERM reached only
    this script, so it is passed on.
    """
    if process.poll() is not None:
        return
    if isinstance(interrupt, Terminated):
        process.terminate()
    try:
        process.wait(timeout=INTERRUPT_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass


def run_streamed(command, display_command, variables):
    """Run command, echoing stderr lines after "| " and stdout lines after "> " as they arrive.

    display_command is the command line printed first. Returns (exit status, stdout
    text, seconds). Raises StepFailed when the command outlives
    CHILD_TIMEOUT_SECONDS.
    """
    detail(f"$ {display_command}")
    started = time.monotonic()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=variables, text=True,
                               errors="replace")
    stdout_lines = []

    def echo(stream, marker, sink):
        for line in stream:
            if sink is not None:
                sink.append(line)
            detail(f"{marker} {line.rstrip()}")

    readers = [threading.Thread(target=echo, args=(process.stderr, "|", None), daemon=True),
               threading.Thread(target=echo, args=(process.stdout, ">", stdout_lines),
                                daemon=True)]
    try:
        for reader in readers:
            reader.start()
        try:
            status = process.wait(timeout=CHILD_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise StepFailed(f"{display_command} did not finish within "
                             f"{CHILD_TIMEOUT_SECONDS} s")
        for reader in readers:
            reader.join()
    except KeyboardInterrupt as interrupt:
        wait_after_interrupt(process, interrupt)
        raise
    finally:
        stop_child(process)
    return status, "".join(stdout_lines), time.monotonic() - started


def run_captured(command, variables, description):
    """Run command quietly and return its stdout; raise StepFailed with stderr on failure."""
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                env=variables, text=True, errors="replace",
                                timeout=CHILD_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"{description} did not finish within {CHILD_TIMEOUT_SECONDS} s")
    if result.returncode != 0:
        stderr = result.stderr.strip() or "no output on stderr"
        raise StepFailed(f"{description} exited with status {result.returncode}: {stderr}")
    return result.stdout


class AwsCli:
    """Debian's AWS CLI aimed at the emulator.

    Its version 2.9 ignores AWS_ENDPOINT_URL, so each call passes --endpoint-url.
    """

    def __init__(self, servers, variables):
        self.prefix = ["--endpoint-url", servers.ecr.api_url, "--region", servers.ecr.region]
        self.variables = variables

    def command_line(self, *arguments):
        return " ".join(["aws", *self.prefix, *arguments])

    def call(self, *arguments):
        stdout = run_captured([AWS_CLI, *self.prefix, "--output", "json", *arguments],
                              self.variables, f"aws {' '.join(arguments)}")
        return json.loads(stdout) if stdout.strip() else {}

    def call_all(self, calls):
        """Run several calls side by side and return their results in order.

        Each AWS CLI run starts its own Python interpreter, so running them
        together overlaps those start-ups.
        """
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(lambda arguments: self.call(*arguments), calls))


# Plan output.

def abridge_plan(lines):
    """Shorten each run of excluded rows with one reason to its first and last rows.

    Rows that do not look like an excluded row are kept as they are.
    """
    output = []
    excluded_run = []
    run_reason = None

    def flush():
        if len(excluded_run) > EXCLUDED_ROWS_SHOWN:
            output.append(excluded_run[0])
            output.append(f"  ... {len(excluded_run) - 2} more excluded: {run_reason}")
            output.append(excluded_run[-1])
        else:
            output.extend(excluded_run)
        excluded_run.clear()

    for line in lines:
        match = EXCLUDED_ROW.match(line)
        reason = match.group("reason") if match else None
        if excluded_run and reason != run_reason:
            flush()
        if match:
            excluded_run.append(line)
            run_reason = reason
        else:
            output.append(line)
    flush()
    return output


def show_plan(binary, config_path, variables):
    display_command = f"ecr-sync plan --config {relative(config_path)}"
    detail(f"$ {display_command}")
    stdout = run_captured([binary, "plan", "--config", config_path], variables,
                          display_command)
    for line in abridge_plan(stdout.splitlines()):
        detail(f"> {line}")


# The sync runs.

def parse_summary(stdout):
    """Return the key=value fields of the "synced ..." summary line as a dict."""
    for line in stdout.splitlines():
        if line.startswith("synced "):
            return dict(field.split("=", 1) for field in line.split()[1:] if "=" in field)
    raise StepFailed("ecr-sync sync printed no summary line starting with 'synced'")


def run_sync(binary, config_path, report_path, variables):
    """Run ecr-sync sync with a report; return the summary fields."""
    display_command = (f"ecr-sync sync --config {relative(config_path)} "
                       f"--report {relative(report_path)}")
    status, stdout, seconds = run_streamed(
        [binary, "sync", "--config", config_path, "--report", report_path], display_command,
        variables)
    detail(f"exit status {status} after {seconds:.1f} s")
    if status != 0:
        raise StepFailed(f"ecr-sync sync exited with status {status}")
    return parse_summary(stdout)


def source_repository(reference, source_host):
    """Return the repository path of a source reference, without the source host."""
    prefix = source_host + "/"
    if reference.startswith(prefix):
        return reference[len(prefix):]
    return reference


def show_report(report_path, source_host):
    """Print the report's tag counts, bytes and source manifest GETs per image; return the report.

    Raises StepFailed when the report lists an error.
    """
    with open(report_path, encoding="utf-8") as report_file:
        report = json.load(report_file)
    detail(f"from {relative(report_path)}:")
    detail()
    rows = [("image", "copied", "skipped", "excluded", "bytes", "source manifest GETs")]
    for image in report["images"]:
        tags = image["tags"]
        rows.append((source_repository(image["source"], source_host),
                     str(len(tags["copy"]) + len(tags["update"])), str(len(tags["skip"])),
                     str(len(tags["excluded"])), f"{image['bytes']:,}",
                     str(image["source_manifest_gets"])))
        if image["error"] or image["failed"]:
            raise StepFailed(f"the report lists errors for {image['source']}: "
                             f"{image['error'] or image['failed']}")
    totals = report["totals"]
    rows.append(("total", str(totals["copy"] + totals["update"]), str(totals["skip"]),
                 str(totals["excluded"]), f"{totals['bytes']:,}",
                 str(totals["source_manifest_gets"])))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width)
                                              for cell, width in zip(row[1:], widths[1:])]
        detail("  ".join(cells))
    return report


def show_front_counters(label, before, after):
    gets = after.manifest_gets - before.manifest_gets
    heads = after.manifest_heads - before.manifest_heads
    blob_gets = after.blob_gets - before.blob_gets
    detail(f"{label}: {gets} manifest GETs (pulls), {heads} manifest HEADs (not pulls), "
           f"{blob_gets} blob GETs")
    return gets


# What landed in ECR.

def show_repositories(aws):
    """Print the ECR repositories with their settings; return them sorted by name."""
    detail(f"$ {aws.command_line('ecr', 'describe-repositories')}")
    repositories = sorted(aws.call("ecr", "describe-repositories")["repositories"],
                          key=lambda repository: repository["repositoryName"])
    if not repositories:
        raise StepFailed("describe-repositories lists no repository")
    rows = [("repository", "tag mutability", "scan on push", "encryption")]
    for repository in repositories:
        rows.append((repository["repositoryName"], repository["imageTagMutability"],
                     "on" if repository["imageScanningConfiguration"]["scanOnPush"] else "off",
                     repository["encryptionConfiguration"]["encryptionType"]))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        detail("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return repositories


def show_repository_extras(repository, tags_result, policy_result):
    detail(f"  {repository['repositoryName']}:")
    detail("    resource tags: " + ", ".join(f"{tag['Key']}={tag['Value']}"
                                             for tag in tags_result["tags"]))
    for rule in json.loads(policy_result["lifecyclePolicyText"])["rules"]:
        detail(f"    lifecycle rule {rule['rulePriority']}: {rule.get('description', '')}")


class Skopeo:
    """skopeo reading the source anonymously and ECR with a registry password."""

    def __init__(self, source_host, ecr_host, ecr_password):
        self.source_host = source_host
        self.ecr_host = ecr_host
        self.ecr_creds = ("AWS", ecr_password)

    def command_line(self, reference, at_ecr=False):
        creds = "--creds AWS:$PASSWORD" if at_ecr else "--no-creds"
        return f"skopeo inspect --raw --tls-verify=false {creds} docker://{reference}"

    def source(self, repository, reference):
        return harness.skopeo_raw(f"{self.source_host}/{repository}{reference}")

    def ecr(self, repository, reference):
        return harness.skopeo_raw(f"{self.ecr_host}/{repository}{reference}",
                                  creds=self.ecr_creds)

    def ecr_tags(self, repository):
        stdout = run_captured(
            [SKOPEO, "list-tags", "--tls-verify=false", "--creds", ":".join(self.ecr_creds),
             f"docker://{self.ecr_host}/{repository}"], None, f"skopeo list-tags {repository}")
        return json.loads(stdout).get("Tags") or []


def platform_name(entry):
    platform = entry.get("platform", {})
    parts = [platform.get("os", "?"), platform.get("architecture", "?")]
    if platform.get("variant"):
        parts.append(platform["variant"])
    return "/".join(parts)


def child_label(entry, platforms_by_digest):
    annotations = entry.get("annotations", {})
    if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
        described = annotations.get("vnd.docker.reference.digest", "")
        return f"attestation of {platforms_by_digest.get(described, short(described))}"
    return platform_name(entry)


def ecr_repository(source_path):
    """Return the ECR repository that repository_prefix in examples/demo.yaml maps a source to."""
    return f"{REPOSITORY_PREFIX}/{source_path}"


def check_unfiltered_index(skopeo, image):
    """Compare an index and each child at both ends; raise StepFailed unless all match."""
    target = ecr_repository(image.repository)
    detail(f"$ {skopeo.command_line(f'{skopeo.source_host}/{image.repository}:{image.tag}')}")
    detail(f"$ {skopeo.command_line(f'{skopeo.ecr_host}/{target}:{image.tag}', at_ecr=True)}")
    detail("  (and the same for each child manifest, by digest)")
    source_raw = skopeo.source(image.repository, f":{image.tag}")
    target_raw = skopeo.ecr(target, f":{image.tag}")
    rows = [("index", harness.sha256_digest(source_raw), harness.sha256_digest(target_raw))]
    entries = json.loads(source_raw).get("manifests", [])
    platforms_by_digest = {entry["digest"]: platform_name(entry) for entry in entries}
    for entry in entries:
        rows.append((child_label(entry, platforms_by_digest),
                     harness.sha256_digest(skopeo.source(image.repository,
                                                         f"@{entry['digest']}")),
                     harness.sha256_digest(skopeo.ecr(target, f"@{entry['digest']}"))))

    width = max(len(row[0]) for row in rows)
    detail()
    detail(f"{image.repository}:{image.tag}")
    detail(f"  {'manifest':<{width}}  {'upstream':<22}  in ECR")
    for label, source_digest, target_digest in rows:
        verdict = "same" if source_digest == target_digest else "DIFFERENT"
        detail(f"  {label:<{width}}  {short(source_digest):<22}  "
               f"{short(target_digest):<22}  {verdict}")
    identical = all(source_digest == target_digest for _, source_digest, target_digest in rows)
    detail(f"  byte-exact: {yes_no(identical)}")
    if not identical:
        raise StepFailed(f"{target}:{image.tag} differs from upstream")


def check_filtered_index(skopeo, image):
    """Show that a platform-filtered index differs by design and records its origin."""
    target = ecr_repository(image.repository)
    detail(f"$ {skopeo.command_line(f'{skopeo.source_host}/{image.repository}:{image.tag}')}")
    detail(f"$ {skopeo.command_line(f'{skopeo.ecr_host}/{target}:{image.tag}', at_ecr=True)}")
    source_raw = skopeo.source(image.repository, f":{image.tag}")
    target_raw = skopeo.ecr(target, f":{image.tag}")
    source_index = json.loads(source_raw)
    target_index = json.loads(target_raw)
    annotations = target_index.get("annotations", {})
    recorded = annotations.get(ANNOTATION_SOURCE_DIGEST)
    upstream_digest = harness.sha256_digest(source_raw)
    target_entries = target_index.get("manifests", [])

    detail()
    detail(f"{image.repository}:{image.tag}, filtered to one platform")
    detail(f"  upstream  {short(upstream_digest):<22}  "
           + ", ".join(platform_name(entry) for entry in source_index.get("manifests", [])))
    detail(f"  in ECR    {short(harness.sha256_digest(target_raw)):<22}  "
           + ", ".join(platform_name(entry) for entry in target_entries)
           + "   (a new index: the digest differs by design)")
    detail(f"  {ANNOTATION_SOURCE_DIGEST}  {short(recorded)}  "
           f"is the upstream digest: {yes_no(recorded == upstream_digest)}")
    detail(f"  {ANNOTATION_PLATFORMS}      {annotations.get(ANNOTATION_PLATFORMS)}")
    children_match = bool(target_entries)
    for entry in target_entries:
        # A kept child is the upstream child itself, so its digest is listed
        # upstream and its bytes in ECR hash to that digest.
        fetched_digest = harness.sha256_digest(skopeo.ecr(target, f"@{entry['digest']}"))
        same = fetched_digest == entry["digest"] and entry["digest"] in image.child_digests
        children_match = children_match and same
        detail(f"  {platform_name(entry)} image {short(entry['digest'])} "
               f"byte-exact: {yes_no(same)}")
    if recorded != upstream_digest or not children_match:
        raise StepFailed(f"{target}:{image.tag} records {ANNOTATION_SOURCE_DIGEST} {recorded}, "
                         f"upstream is {upstream_digest}, children byte-exact: "
                         f"{yes_no(children_match)}")


def check_single_image(skopeo, image):
    target = ecr_repository(image.repository)
    detail(f"$ {skopeo.command_line(f'{skopeo.ecr_host}/{target}:{image.tag}', at_ecr=True)}")
    digest = harness.sha256_digest(skopeo.ecr(target, f":{image.tag}"))
    identical = digest == image.digest
    detail(f"  {image.repository}:{image.tag}  {short(digest)}  byte-exact: "
           f"{yes_no(identical)}")
    if not identical:
        raise StepFailed(f"{target}:{image.tag} has digest {digest}, upstream {image.digest}")


def check_many_tags(skopeo, many):
    target = ecr_repository(many.repository)
    detail(f"$ skopeo list-tags --tls-verify=false --creds AWS:$PASSWORD "
           f"docker://{skopeo.ecr_host}/{target}")
    tags = sorted(skopeo.ecr_tags(target))
    digests = {harness.sha256_digest(skopeo.ecr(target, f":{tag}")) for tag in tags}
    detail(f"  {many.repository}: {len(many.tags)} tags upstream, in ECR: {', '.join(tags)}")
    detail(f"  every one with the upstream digest {short(many.digest)}: "
           f"{yes_no(digests == {many.digest})}")
    if tags != MANY_TAGS_EXPECTED or digests != {many.digest}:
        raise StepFailed(f"{target} contains tags {tags}, expected {MANY_TAGS_EXPECTED} with "
                         f"digest {many.digest}")


def registry_login(token_result):
    """Return the registry host and the password of a GetAuthorizationToken result.

    These are what `docker login` would use, with the user name AWS.
    """
    data = token_result["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    host = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
    if user != "AWS" or not password:
        raise StepFailed("get-authorization-token returned no AWS:PASSWORD token")
    detail(f"  registry endpoint {host}, user AWS")
    return host, password


# The demo.

def write_config(log_dir, source_host):
    """Write examples/demo.yaml with the source address filled in; return its path and text."""
    with open(CONFIG_TEMPLATE, encoding="utf-8") as template:
        text = template.read()
    if SOURCE_HOST_PLACEHOLDER not in text:
        raise StepFailed(f"{relative(CONFIG_TEMPLATE)} contains no {SOURCE_HOST_PLACEHOLDER}")
    text = text.replace(SOURCE_HOST_PLACEHOLDER, source_host)
    path = os.path.join(log_dir, "demo.yaml")
    with open(path, "w", encoding="utf-8") as config:
        config.write(text)
    return path, text


def show_config(text, source_host):
    detail(f"{relative(CONFIG_TEMPLATE)}, with {SOURCE_HOST_PLACEHOLDER} replaced by "
           f"{source_host} (its opening comment left out):")
    detail()
    lines = text.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    for line in lines:
        detail(f"  {line}")


def push_images(servers):
    client = servers.push_client()
    images = harness.push_default_fixtures(client, kinds=FIXTURE_KINDS)
    many = bigrepo.push_many_tags(client, MANY_TAGS_REPOSITORY, MANY_TAGS_COUNT,
                                  make_tag=bigrepo.semver_tag)
    width = max(len(f"{image.repository}:{image.tag}") for image in images.values())
    for kind, image in images.items():
        detail(f"{image.repository + ':' + image.tag:<{width}}  {FIXTURE_DESCRIPTIONS[kind]}")
    detail(f"{many.repository:<{width}}  {len(many.tags)} tags, {many.tags[0]} to "
           f"{many.tags[-1]}, all one small OCI image")
    return images, many


def show_servers(servers):
    detail(f"Docker Hub-like front  {servers.hub.host}   tags/list in pages of "
           f"{servers.hub.page_size}, {PULL_LIMIT} pulls per {PULL_WINDOW_SECONDS // 3600} h")
    detail(f"  source registry      {servers.source.host}   token auth: anonymous pull")
    detail(f"ECR emulator           API {servers.ecr.api_url}, registry "
           f"{servers.ecr.registry_host}")
    detail(f"  account {servers.ecr.account_id}, region {servers.ecr.region}, "
           "fake AWS keys that only the emulator accepts")


def show_first_sync_counts(report_path, servers, before, after):
    """Print a summary of the report and the front's counts; raise StepFailed if they disagree."""
    report = show_report(report_path, servers.hub.host)
    detail()
    gets = show_front_counters("the front during the sync", before, after)
    reported = report["totals"]["source_manifest_gets"]
    detail(f"the same number of manifest GETs as the report: {yes_no(gets == reported)}")
    if gets != reported:
        raise StepFailed(f"the front received {gets} manifest GETs, the report counts {reported}")
    limit, remaining = rate_limit_headers(servers.hub)
    detail(f"rate-limit headers now: ratelimit-limit: {limit}, "
           f"ratelimit-remaining: {remaining}")


def check_ecr_contents(servers, variables, images, many):
    aws = AwsCli(servers, variables)
    first = show_repositories(aws)[0]
    calls = [("ecr", "list-tags-for-resource", "--resource-arn", first["repositoryArn"]),
             ("ecr", "get-lifecycle-policy", "--repository-name", first["repositoryName"]),
             ("ecr", "get-authorization-token")]
    detail()
    for call in calls:
        detail(f"$ {aws.command_line(*call)}")
    tags_result, policy_result, token_result = aws.call_all(calls)
    show_repository_extras(first, tags_result, policy_result)
    ecr_host, password = registry_login(token_result)
    skopeo = Skopeo(servers.hub.host, ecr_host, password)
    detail()
    check_unfiltered_index(skopeo, images["multiarch"])
    detail()
    check_filtered_index(skopeo, images["dockerlist"])
    detail()
    check_many_tags(skopeo, many)
    detail()
    check_single_image(skopeo, images["schema2"])


def check_second_sync(summary, before, after):
    gets = show_front_counters("the front during this run", before, after)
    unchanged = summary.get("copied") == "0" and summary.get("updated") == "0"
    detail(f"copied=0 and updated=0: {yes_no(unchanged)}; no pulls: {yes_no(gets == 0)}")
    if not unchanged or gets != 0:
        raise StepFailed(f"expected the second sync to change nothing and send no manifest GET, "
                         f"got {summary} and {gets} manifest GETs")


def run_demo(binary, servers, log_dir, home):
    total = 8
    step(1, total, "starting local servers (127.0.0.1 only)")
    servers.start()
    show_servers(servers)

    step(2, total, "pushing sample images to the source")
    images, many = push_images(servers)

    step(3, total, "the configuration")
    config_path, text = write_config(log_dir, servers.hub.host)
    show_config(text, servers.hub.host)
    variables = isolated_environment(servers, home)

    step(4, total, "ecr-sync plan: what sync would do, without changing anything")
    show_plan(binary, config_path, variables)

    step(5, total, "ecr-sync sync: progress on stderr, one summary line on stdout")
    report_path = os.path.join(log_dir, "report-1.json")
    before = servers.hub.counters()
    summary = run_sync(binary, config_path, report_path, variables)
    after = servers.hub.counters()
    if summary.get("failed") != "0" or summary.get("copied") in (None, "0"):
        raise StepFailed(f"expected the first sync to copy tags and fail none, got {summary}")

    step(6, total, "the report, and what the Docker Hub-like front counted")
    show_first_sync_counts(report_path, servers, before, after)

    step(7, total, "what landed in ECR, read back with the AWS CLI and skopeo")
    check_ecr_contents(servers, variables, images, many)

    step(8, total, "ecr-sync sync again: nothing to do, and no pulls spent")
    before = servers.hub.counters()
    summary = run_sync(binary, config_path, os.path.join(log_dir, "report-2.json"), variables)
    check_second_sync(summary, before, servers.hub.counters())


def find_missing_tools(binary):
    problems = []
    if not os.access(binary, os.X_OK):
        problems.append(f"ecr-sync binary not found or not executable: {binary}; "
                        "build it with `make`")
    for tool, package in ((AWS_CLI, "awscli"), (SKOPEO, "skopeo")):
        if not os.access(tool, os.X_OK):
            problems.append(f"{tool} not found; install it with `apt-get install {package}`")
    if shutil.which("docker-registry") is None:
        problems.append("docker-registry not found; install it with "
                        "`apt-get install docker-registry`")
    return problems


def raise_terminated(signal_number, frame):
    raise Terminated


def main(arguments):
    if len(arguments) != 1 or arguments[0] in ("-h", "--help"):
        print("usage: demo.py PATH_TO_ECR_SYNC", file=sys.stderr)
        return 2
    binary = os.path.abspath(arguments[0])
    problems = find_missing_tools(binary)
    if problems:
        for problem in problems:
            print(f"demo.py: {problem}", file=sys.stderr)
        return 2

    # SIGTERM stops the demo the way Ctrl-C does, so the servers are stopped.
    signal.signal(signal.SIGTERM, raise_terminated)
    started = time.monotonic()
    print("ecr-sync demo: keep Docker Hub-like images current in a local ECR emulator "
          "with `ecr-sync sync`")
    print("Commands follow $. Lines of their stdout start with >, lines of their stderr "
          "with |.")
    log_dir = harness.new_log_dir(LOG_ROOT, prefix="demo-")
    servers = DemoServers(log_dir)
    status = 0
    try:
        with tempfile.TemporaryDirectory(prefix="ecr-sync-demo-") as home:
            run_demo(binary, servers, log_dir, home)
        print(f"\ndone in {time.monotonic() - started:.1f} s")
    except (StepFailed, harness.SkopeoError, harness.RegistryError, RuntimeError, TimeoutError,
            OSError) as error:
        print(f"\ndemo.py: FAILED: {error}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt as interrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        status = 143 if isinstance(interrupt, Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        servers.stop()
        print(f"servers stopped; their logs, the configuration and the reports are in "
              f"{relative(log_dir)}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
