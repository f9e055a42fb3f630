#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark ecr-sync against skopeo sync on a generated catalogue (`make bench`).

Usage: /usr/bin/python3 bench/run.py --ecr-sync PATH [--quick] [options]

Starts a Docker Hub-like source on 127.0.0.1: a token server, a
docker-registry, and a front that counts requests, manifest GETs and bytes
sent. Pushes the catalogue of bench/catalogue.py to it, or reuses the copy
cached under bench/.cache/. Then measures, alternating the tools' order each
round:

- `ecr-sync sync` and `skopeo sync --all --preserve-digests` into a fresh
  plain docker-registry and a fresh ECR emulator: a first full sync, checked
  tag by tag and blob by blob, then a no-op re-sync of the same target;
- `ecr-sync copy` of an image whose only layer is one large blob, against
  a curl download piped into a curl upload of that blob.

It prints the medians, the ratios ecr-sync/other and whether each goal is
met, and writes every measurement to results.json in the run's log folder.
Exit status: 0 when every run succeeded, every first sync was complete and
no ecr-sync no-op sent a manifest GET to the source; 1 otherwise; 2 for
invalid usage. Goals on time, memory and throughput never change the exit
status.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPOSITORY_ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPOSITORY_ROOT, "tests"))

import catalogue as catalogue_module  # noqa: E402  (bench/ is on sys.path as the script's folder)
import report  # noqa: E402
import stack  # noqa: E402
import tools  # noqa: E402
import verify  # noqa: E402
from harness import runtime  # noqa: E402

DOCKER_REGISTRY = "/usr/bin/docker-registry"
DEFAULT_CACHE_DIR = os.path.join(BENCH_DIR, ".cache")
DEFAULT_LOG_ROOT = os.path.join(BENCH_DIR, ".logs")
GIB = 1024 ** 3
SYNC_TOOLS = ("ecr-sync", "skopeo")
# The Python front passes about 200 MiB/s on a 2-core machine, so reading
# through it would cap both sides of the single-blob test alike.
BLOB_SOURCES = ("registry", "front")
BLOB_SOURCE_LABELS = {"registry": "registry, read from docker-registry",
                      "front": "registry, read through the front"}
# Free disk space needed before starting: the source storage when it has to
# be built, plus one target holding a full copy at a time, with room for
# upload files.
FREE_SPACE_FACTOR = 2.5


def log(message):
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)


def parse_arguments(arguments):
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark ecr-sync against skopeo sync on local registries.")
    parser.add_argument("--ecr-sync", metavar="PATH",
                        help="the ecr-sync binary to measure (required unless --render)")
    parser.add_argument("--render", metavar="RESULTS",
                        help="measure nothing: print the tables of an earlier run's "
                             "results.json again")
    parser.add_argument("--quick", action="store_true",
                        help="small catalogue and one round, for `make test`")
    parser.add_argument("--rounds", type=int, metavar="N",
                        help="measured rounds (default: 3, or 1 with --quick)")
    parser.add_argument("--targets", default="registry,ecr", metavar="LIST",
                        help="comma-separated targets: registry, ecr (default: both)")
    parser.add_argument("--tools", default=",".join(SYNC_TOOLS), metavar="LIST",
                        help="comma-separated sync tools: ecr-sync, skopeo (default: both)")
    parser.add_argument("--no-blob", action="store_true",
                        help="skip the single-blob throughput test")
    parser.add_argument("--blob-source", choices=BLOB_SOURCES, default="registry",
                        help="where the single-blob test reads: 'registry', the source "
                             "docker-registry itself (default), or 'front', through the "
                             "Python front that the sync runs use")
    parser.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, metavar="DIR",
                        help="where the full catalogue's source storage is kept "
                             "(default: bench/.cache)")
    parser.add_argument("--log-root", default=DEFAULT_LOG_ROOT, metavar="DIR",
                        help="folder for each run's logs and results (default: bench/.logs)")
    parser.add_argument("--markdown", metavar="FILE",
                        help="also write the result tables to FILE")
    parser.add_argument("--ecr-sync-wrapper", default="", metavar="COMMAND",
                        help="prefix for every ecr-sync command, such as "
                             "'perf record -g -o FILE --'; peak RSS then includes the wrapper")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="limit for one tool run (default: 3600, or 300 with --quick)")
    options = parser.parse_args(arguments)

    options.targets = [name for name in options.targets.split(",") if name]
    options.tools = [name for name in options.tools.split(",") if name]
    for name in options.targets:
        if name not in stack.TARGETS:
            parser.error(f"unknown target '{name}'; expected registry or ecr")
    for name in options.tools:
        if name not in SYNC_TOOLS:
            parser.error(f"unknown tool '{name}'; expected ecr-sync or skopeo")
    if options.rounds is None:
        options.rounds = 1 if options.quick else 3
    if options.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {options.rounds}")
    if options.timeout is None:
        options.timeout = 300 if options.quick else 3600
    if options.ecr_sync is None and options.render is None:
        parser.error("--ecr-sync PATH is required")
    if options.ecr_sync is not None:
        options.ecr_sync = os.path.abspath(options.ecr_sync)
    options.wrapper = shlex.split(options.ecr_sync_wrapper)
    return options


def check_programs(options):
    """Return a list of missing programs, each with what to do about it."""
    missing = []
    if not os.access(options.ecr_sync, os.X_OK):
        missing.append(f"ecr-sync binary not found or not executable: {options.ecr_sync}; "
                       "build it with `make`")
    for path, package in ((tools.SKOPEO, "skopeo"), (tools.CURL, "curl"),
                          (DOCKER_REGISTRY, "docker-registry")):
        if not os.access(path, os.X_OK):
            missing.append(f"{path} not found; install the Debian package {package}")
    return missing


def machine_description():
    model = "unknown"
    memory_kib = 0
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
                break
    return {"cpu_model": model, "cores": os.cpu_count(),
            "memory_gib": round(memory_kib / 1024 / 1024, 1),
            "kernel": platform.release()}


def load_average():
    """Return the 1, 5 and 15 minute load averages: other work on the machine skews times."""
    return [round(value, 2) for value in os.getloadavg()]


def versions(options):
    return {
        "ecr-sync": tools.tool_version([options.ecr_sync, "version"]),
        "skopeo": tools.tool_version([tools.SKOPEO, "--version"]),
        "curl": tools.tool_version([tools.CURL, "--version"]),
        "docker-registry": tools.tool_version([DOCKER_REGISTRY, "--version"]),
    }


def git_description():
    """Return the checked-out commit, with "+changes" when src/ differs from it."""
    def git(*arguments):
        result = subprocess.run(["git", "-C", REPOSITORY_ROOT, *arguments],
                                capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--", "src") else "")


def file_sha256(path):
    hasher = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1024 * 1024), b""):
            hasher.update(block)
    return hasher.hexdigest()


def folder_bytes(path):
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def warm_page_cache(path):
    """Read every file under path once, so that no tool pays for the first disk reads."""
    buffer = bytearray(8 * 1024 * 1024)
    for folder, _, files in os.walk(path):
        for name in files:
            with open(os.path.join(folder, name), "rb", buffering=0) as data:
                while data.readinto(buffer):
                    pass


def prepare_catalogue(options, spec, source, storage_dir, cached):
    """Return the cached catalogue when it matches spec, else build and save a new one."""
    record_path = os.path.join(os.path.dirname(storage_dir), "catalogue.json")
    if cached:
        found = catalogue_module.load(record_path, spec)
        if found is not None:
            log(f"reusing the cached catalogue in {os.path.dirname(storage_dir)}")
            return found
    started = time.monotonic()
    log(f"building the {spec.name} catalogue in {storage_dir}")
    built = catalogue_module.build_catalogue(spec, source.push_client, log)
    catalogue_module.save(built, record_path)
    log(f"catalogue built in {time.monotonic() - started:.0f} s")
    return built


def storage_for(options, spec):
    """Return (storage folder, whether it is the kept cache, folder to delete at the end)."""
    if spec.name == "quick":
        scratch = tempfile.mkdtemp(prefix="ecr-sync-bench-quick-")
        storage_dir = os.path.join(scratch, "storage")
        os.makedirs(storage_dir)
        return storage_dir, False, scratch
    cache = os.path.join(os.path.abspath(options.cache_dir), spec.name)
    storage_dir = os.path.join(cache, "storage")
    record = catalogue_module.load(os.path.join(cache, "catalogue.json"), spec)
    if record is None and os.path.isdir(cache):
        log(f"the cache in {cache} is missing, incomplete or from another catalogue: rebuilding")
        shutil.rmtree(cache)
    os.makedirs(storage_dir, exist_ok=True)
    return storage_dir, True, None


def check_disk(spec, storage_dir):
    """Return an error text when free disk space is short for this catalogue, else None."""
    catalogue_bytes = (spec.big_layer_size + spec.blob_layer_size
                       + len(spec.app_kinds) * spec.versions * 2 * max(spec.app_layer_sizes)
                       + 2 * (spec.debian_base_size + spec.alpine_base_size + spec.runtime_size))
    needed = int(catalogue_bytes * FREE_SPACE_FACTOR) - folder_bytes(storage_dir)
    for path in (storage_dir, tempfile.gettempdir()):
        free = shutil.disk_usage(path).free
        if free < needed:
            return (f"not enough free disk space at {path}: {free / GIB:.1f} GiB free, "
                    f"about {needed / GIB:.1f} GiB needed; free some space or use --quick")
    return None


class Bench:
    """One benchmark run: the source, the catalogue and the measurements so far."""

    def __init__(self, options, log_dir, source, catalogue):
        self.options = options
        self.log_dir = log_dir
        self.source = source
        self.catalogue = catalogue
        self.measurements = []
        self.failures = []

    def run_dir(self, name):
        path = os.path.join(self.log_dir, name)
        os.makedirs(path, exist_ok=True)
        return path

    # Sync runs.

    def measure_sync_pair(self, tool, target_kind, round_number):
        """Measure a first sync into a fresh target, then a no-op re-sync of it."""
        name = f"r{round_number}-{target_kind}-{tool}"
        run_dir = self.run_dir(name)
        target = stack.TARGETS[target_kind](self.log_dir, name).start()
        try:
            if tool == "skopeo":
                target.prepare_for_skopeo(self.catalogue.repositories)
            for phase in ("first", "noop"):
                log_prefix = os.path.join(run_dir, phase)
                command, environment = self._sync_command(tool, target, run_dir, log_prefix)
                measurement = self._measure(command, environment, tool, target, phase,
                                            round_number, log_prefix)
                if tool == "ecr-sync":
                    measurement["ecr_sync_report"] = tools.read_ecr_sync_report(
                        f"{log_prefix}.report.json")
                if phase == "first" and measurement["returncode"] == 0:
                    problems = verify.verify_target(target.client(),
                                                    self.catalogue.repositories)
                    measurement["problems"] = problems
                    for problem in problems:
                        self.failures.append(f"{name}: incomplete first sync: {problem}")
                self._check_run(name, phase, measurement)
                self.measurements.append(measurement)
        finally:
            target.stop()

    def _sync_command(self, tool, target, run_dir, log_prefix):
        """Return (command, environment) of one sync run.

        ecr-sync writes its report to LOG_PREFIX.report.json.
        """
        repositories = self.catalogue.repositories
        if tool == "ecr-sync":
            config = tools.write_ecr_sync_config(os.path.join(run_dir, "ecr-sync.yaml"),
                                                 self.source.host, target, repositories)
            command = tools.ecr_sync_command(self.options.ecr_sync, config,
                                             f"{log_prefix}.report.json", self.options.wrapper)
            return command, tools.ecr_sync_environment(run_dir, target)
        source_file = tools.write_skopeo_source(os.path.join(run_dir, "skopeo-source.yaml"),
                                                self.source.host, repositories)
        source_auth = stack.write_auth_file(os.path.join(run_dir, "source-auth.json"), {})
        target_auth = stack.write_auth_file(os.path.join(run_dir, "target-auth.json"),
                                            target.skopeo_auths())
        destination = f"{target.host}/{catalogue_module.NAMESPACE}"
        command = tools.skopeo_command(source_file, destination, source_auth, target_auth)
        return command, tools.skopeo_environment(run_dir)

    def _measure(self, command, environment, tool, target, phase, round_number, log_prefix):
        self.source.reset_counters()
        target.reset_counters()
        log(f"round {round_number}: {tool} {phase} -> {target.kind}")
        result = tools.run_measured(command, environment, self.options.timeout, log_prefix)
        counters = self.source.counters()
        counters["target_requests"] = target.request_count()
        counters["requests"] = (counters["source_requests"] + counters["token_requests"]
                                + counters["target_requests"])
        log(f"  exit {result.returncode}, {result.wall_seconds:.2f} s wall, "
            f"{result.cpu_seconds:.2f} s CPU, peak RSS "
            f"{(result.peak_rss_kib or 0) / 1024:.1f} MiB, {counters['requests']} requests, "
            f"{counters['source_manifest_gets']} source manifest GETs")
        return {"tool": tool, "target": target.kind, "phase": phase, "round": round_number,
                "returncode": result.returncode, "timed_out": result.timed_out,
                "wall_seconds": result.wall_seconds, "cpu_seconds": result.cpu_seconds,
                "peak_rss_kib": result.peak_rss_kib, "log": log_prefix,
                "stderr_summary": result.stderr_summary() if result.returncode != 0 else "",
                **counters}

    def _check_run(self, name, phase, measurement):
        if measurement["timed_out"]:
            self.failures.append(f"{name} {phase}: killed after {self.options.timeout:.0f} s")
        elif measurement["returncode"] != 0:
            self.failures.append(f"{name} {phase}: exit status {measurement['returncode']}; "
                                 f"see {measurement['log']}.stderr:\n"
                                 f"{measurement['stderr_summary']}")
        if (measurement["tool"] == "ecr-sync" and phase == "noop"
                and measurement["source_manifest_gets"] != 0):
            self.failures.append(f"{name} noop: {measurement['source_manifest_gets']} manifest "
                                 "GETs at the source; a no-op run must send none")

    # Single-blob throughput.

    def measure_blob(self, tool, round_number):
        """Copy the throughput image's blob once with ecr-sync copy or the curl pipe."""
        name = f"r{round_number}-blob-{tool}"
        run_dir = self.run_dir(name)
        image = self.catalogue.blob_image
        source_host = (self.source.registry.host if self.options.blob_source == "registry"
                       else self.source.host)
        target = stack.PlainTarget(self.log_dir, name).start()
        try:
            if tool == "ecr-sync":
                reference = f"{image['repository']}:{image['tag']}"
                command = [*self.options.wrapper, self.options.ecr_sync, "copy",
                           f"{source_host}/{reference}", f"{target.host}/{reference}"]
                environment = tools.ecr_sync_environment(run_dir, target)
            else:
                token_server = self.source.token_server
                token = tools.anonymous_pull_token(token_server.realm, token_server.service,
                                                   image["repository"])
                upload_url = tools.start_upload(target.client(), image["repository"],
                                                image["layer_digest"])
                source_url = (f"http://{source_host}/v2/{image['repository']}/blobs/"
                              f"{image['layer_digest']}")
                command = tools.curl_pipe_command()
                environment = tools.curl_pipe_environment(run_dir, token, source_url,
                                                          upload_url)
            measurement = self._measure(command, environment, tool, target, "blob",
                                        round_number, os.path.join(run_dir, "blob"))
            measurement["blob_bytes"] = image["layer_size"]
            measurement["target"] = BLOB_SOURCE_LABELS[self.options.blob_source]
            if measurement["returncode"] == 0:
                problems = verify.verify_blob(target.client(), image["repository"],
                                              image["layer_digest"], image["layer_size"])
                measurement["problems"] = problems
                for problem in problems:
                    self.failures.append(f"{name}: {problem}")
            self._check_run(name, "blob", measurement)
            self.measurements.append(measurement)
        finally:
            target.stop()

    def run(self):
        for round_number in range(1, self.options.rounds + 1):
            # Alternate the order so that neither tool always runs first.
            order = (self.options.tools if round_number % 2 == 1
                     else list(reversed(self.options.tools)))
            for target_kind in self.options.targets:
                for tool in order:
                    if self.options.quick and tool == "skopeo" and target_kind == "ecr":
                        # Keeps --quick under two minutes: skopeo spends about
                        # 40 s on this pair, and its path differs from the
                        # registry target's only in the auth file and the
                        # repositories created first.
                        continue
                    self.measure_sync_pair(tool, target_kind, round_number)
            if not self.options.no_blob:
                blob_order = ("ecr-sync", "curl") if round_number % 2 == 1 else ("curl",
                                                                                 "ecr-sync")
                for tool in blob_order:
                    self.measure_blob(tool, round_number)


def write_results(path, document):
    with open(path, "w", encoding="utf-8") as output:
        json.dump(document, output, indent=1)


def describe_catalogue(catalogue):
    spec = catalogue.spec
    repositories = catalogue.repositories
    return (f"{len(repositories)} repositories, {catalogue.tag_count} tags, "
            f"{catalogue.manifest_count} distinct manifests, {catalogue.blob_count} distinct "
            f"blobs, {catalogue.blob_bytes / GIB:.2f} GiB; largest layer "
            f"{spec['big_layer_size'] / GIB:.2f} GiB; throughput blob "
            f"{catalogue.blob_image['layer_size'] / GIB:.2f} GiB")


def stop_on_sigterm(signal_number, frame):
    raise KeyboardInterrupt(f"signal {signal_number}")


def main(arguments):
    options = parse_arguments(arguments)
    if options.render:
        with open(options.render, encoding="utf-8") as results:
            document = json.load(results)
        print_results(document, options.markdown)
        return 1 if document["failures"] else 0

    # SIGTERM, and SIGINT even where the shell started the run with SIGINT
    # ignored, stop the servers and remove the targets' storage.
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    signal.signal(signal.SIGINT, stop_on_sigterm)
    missing = check_programs(options)
    if missing:
        for problem in missing:
            print(f"bench/run.py: {problem}", file=sys.stderr)
        return 2

    spec = catalogue_module.QUICK if options.quick else catalogue_module.FULL
    storage_dir, cached, scratch = storage_for(options, spec)
    disk_problem = check_disk(spec, storage_dir)
    if disk_problem:
        print(f"bench/run.py: {disk_problem}", file=sys.stderr)
        return 2

    log_dir = runtime.new_log_dir(os.path.abspath(options.log_root), prefix=f"{spec.name}-")
    log(f"logs and results in {log_dir}")
    # Others may rebuild the binary while the benchmark runs: measure a copy.
    binary_copy = os.path.join(log_dir, "ecr-sync")
    shutil.copy2(options.ecr_sync, binary_copy)
    options.ecr_sync = binary_copy
    checkout = git_description()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_at_start = load_average()
    source = stack.Source(log_dir, storage_dir)
    bench = None
    try:
        source.start()
        catalogue = prepare_catalogue(options, spec, source, storage_dir, cached)
        log(describe_catalogue(catalogue))
        warm_page_cache(storage_dir)
        bench = Bench(options, log_dir, source, catalogue)
        bench.run()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        source.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    document = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(["bench/run.py", *arguments]),
        "mode": spec.name,
        "rounds": options.rounds,
        "targets": options.targets,
        "machine": machine_description(),
        "load_average": {"start": load_at_start, "end": load_average()},
        "versions": versions(options),
        "ecr_sync_sha256": file_sha256(options.ecr_sync),
        "git": checkout,
        "catalogue": describe_catalogue(catalogue),
        "cache": storage_dir if cached else None,
        "cache_bytes": folder_bytes(storage_dir) if cached else None,
        "measurements": bench.measurements,
        "failures": bench.failures,
    }
    document["rows"] = print_results(document, options.markdown)
    write_results(os.path.join(log_dir, "results.json"), document)
    print(f"results: {os.path.join(log_dir, 'results.json')}")
    return 1 if bench.failures else 0


def print_results(document, markdown_path):
    """Print the tables and problems of a results document and return the table rows.

    The tables are also written to markdown_path unless it is None.
    """
    measurements = document["measurements"]
    targets = document.get("targets") or [
        name for name in stack.TARGETS if any(m["target"] == name for m in measurements)]
    # The quick catalogue is too small for the goals to mean anything.
    rows = report.build_rows(measurements, targets, with_goals=document["mode"] != "quick")
    summary = report.markdown_table(rows)
    runs = report.runs_table(measurements)
    load = document["load_average"]

    print(f"\necr-sync benchmark ({document['mode']}, {document['rounds']} round(s)), "
          f"{document['date']}")
    print(f"catalogue: {document['catalogue']}")
    print(f"ecr-sync: {document['versions']['ecr-sync']} at {document.get('git', 'unknown')}, "
          f"skopeo: {document['versions']['skopeo']}")
    print(f"load average (1, 5, 15 min): {load['start']} at the start, {load['end']} at the end\n")
    print(summary)
    print(f"\nevery run:\n\n{runs}\n")
    if markdown_path:
        with open(markdown_path, "w", encoding="utf-8") as output:
            output.write(summary + "\n\n" + runs + "\n")
    if document.get("cache"):
        print(f"cached source storage: {document['cache']} "
              f"({document['cache_bytes'] / GIB:.2f} GiB)")
    if document["failures"]:
        print(f"\n{len(document['failures'])} problem(s):", file=sys.stderr)
        for failure in document["failures"]:
            print(f"- {failure}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
