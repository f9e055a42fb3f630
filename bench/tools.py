# SPDX-License-Identifier: Apache-2.0
"""Run ecr-sync, skopeo and the curl pipe as measured child processes.

Each run goes through the harness's peak-rss helper, a small C program that
forks the tool and writes the tool's own ru_maxrss. The Python runner is
large, and Linux would charge a direct child with the runner's memory (see
tests/harness/peak_rss.py). Wall time is measured around the helper, and CPU
time is the user plus system time that os.wait4 returns for the helper,
which includes the tool it waited for.
"""

import dataclasses
import json
import os
import select
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request

from harness import peak_rss

SKOPEO = "/usr/bin/skopeo"
CURL = "/usr/bin/curl"
BASH = "/bin/bash"
BASE_PATH = "/usr/bin:/bin"
PIDFD_POLL_MILLISECONDS = 200


@dataclasses.dataclass
class ProcessResult:
    """Exit status, times and peak memory of one child process."""
    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_kib: int
    timed_out: bool
    stdout_path: str
    stderr_path: str

    def stderr_summary(self, count=10):
        """Return the first count stderr lines that start with "error", else the last count."""
        with open(self.stderr_path, encoding="utf-8", errors="replace") as output:
            lines = output.readlines()
        errors = [line for line in lines if line.lower().startswith("error")]
        return "".join(errors[:count] if errors else lines[-count:])


def _wait_for_exit(pid):
    """Return once process pid has exited, without reaping it.

    A blocking os.wait4 in the main thread is not interrupted when SIGINT
    lands on one of the server threads, so Ctrl-C would wait for the tool.
    Polling a pidfd with a short timeout lets the KeyboardInterrupt through.
    """
    descriptor = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(descriptor, select.POLLIN)
        while not poller.poll(PIDFD_POLL_MILLISECONDS):
            pass
    finally:
        os.close(descriptor)


def run_measured(command, environment, timeout, log_prefix):
    """Run command under the peak-rss helper and return a ProcessResult.

    stdout and stderr go to LOG_PREFIX.stdout and LOG_PREFIX.stderr. After
    timeout seconds the whole process group is killed and timed_out is set.
    """
    rss_path = f"{log_prefix}.peak-rss"
    stdout_path = f"{log_prefix}.stdout"
    stderr_path = f"{log_prefix}.stderr"
    with open(f"{log_prefix}.command", "w", encoding="utf-8") as command_file:
        command_file.write(" ".join(command) + "\n")
    killed = threading.Event()
    with open(stdout_path, "wb") as stdout_file, open(stderr_path, "wb") as stderr_file:
        started = time.monotonic()
        process = subprocess.Popen([peak_rss.helper_path(), rss_path, *command],
                                   stdin=subprocess.DEVNULL, stdout=stdout_file,
                                   stderr=stderr_file, env=environment, start_new_session=True)

    def kill():
        killed.set()
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _wait_for_exit(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        # Interrupted: the tool runs in its own session, so end it here.
        kill()
        os.wait4(process.pid, 0)
        raise
    finally:
        timer.cancel()
    wall_seconds = time.monotonic() - started
    # The process was reaped here, so Popen must not wait for it again.
    process.returncode = os.waitstatus_to_exitcode(status)

    peak_rss_kib = None
    if os.path.exists(rss_path):
        with open(rss_path, encoding="ascii") as rss_file:
            peak_rss_kib = int(rss_file.read())
    return ProcessResult(process.returncode, wall_seconds, usage.ru_utime + usage.ru_stime,
                         peak_rss_kib, killed.is_set(), stdout_path, stderr_path)


def base_environment(home):
    """Return a minimal environment whose HOME is an empty folder of this run."""
    os.makedirs(home, exist_ok=True)
    return {"PATH": BASE_PATH, "HOME": home, "LANG": "C.UTF-8", "TMPDIR": home}


def write_ecr_sync_config(path, source_host, target, repositories):
    """Write an ecr-sync configuration that syncs every tag of every repository."""
    lines = ["target:", *target.ecr_sync_target(), "images:"]
    for repository in repositories:
        lines += [f"  - source: {source_host}/{repository}",
                  f"    target: {repository}",
                  # An empty mapping keeps every tag and turns off the
                  # warning about repositories with more than 100 tags.
                  "    tags: {}"]
    with open(path, "w", encoding="utf-8") as config_file:
        config_file.write("\n".join(lines) + "\n")
    return path


def ecr_sync_command(binary, config_path, report_path, wrapper=()):
    return [*wrapper, binary, "sync", "--config", config_path, "--report", report_path]


def ecr_sync_environment(run_dir, target):
    home = os.path.join(run_dir, "home")
    environment = base_environment(home)
    docker_config = os.path.join(home, "docker")
    os.makedirs(docker_config, exist_ok=True)
    with open(os.path.join(docker_config, "config.json"), "w", encoding="utf-8") as config:
        json.dump({"auths": {}}, config)
    environment["DOCKER_CONFIG"] = docker_config
    environment.update(target.ecr_sync_environment(os.path.join(home, "aws")))
    return environment


def read_ecr_sync_report(path):
    """Return the `totals` of an ecr-sync --report file, or {} when it is missing."""
    try:
        with open(path, encoding="utf-8") as report:
            return json.load(report).get("totals", {})
    except (OSError, ValueError):
        return {}


def write_skopeo_source(path, source_host, repositories):
    """Write skopeo sync's YAML source file: every repository with its tags listed.

    JSON is valid YAML, and json.dumps quotes tags such as 1.0 so that YAML
    reads them as strings.
    """
    document = {source_host: {
        "tls-verify": False,
        "images": {repository: sorted(tags) for repository, tags in repositories.items()},
    }}
    with open(path, "w", encoding="utf-8") as source_file:
        json.dump(document, source_file, indent=1)
    return path


def skopeo_command(source_path, destination, source_auth_path, destination_auth_path):
    """Return the skopeo sync command that copies every listed tag, byte for byte."""
    return [SKOPEO, "sync", "--all", "--preserve-digests",
            "--src", "yaml", "--dest", "docker",
            "--src-authfile", source_auth_path, "--dest-authfile", destination_auth_path,
            "--dest-tls-verify=false",
            source_path, destination]


def skopeo_environment(run_dir):
    home = os.path.join(run_dir, "home")
    environment = base_environment(home)
    environment["XDG_RUNTIME_DIR"] = home
    environment["XDG_CONFIG_HOME"] = os.path.join(home, ".config")
    return environment


def anonymous_pull_token(realm, service, repository):
    """Fetch an anonymous pull token from the harness token server on 127.0.0.1."""
    query = urllib.parse.urlencode({"service": service,
                                    "scope": f"repository:{repository}:pull"})
    with urllib.request.urlopen(f"{realm}?{query}", timeout=30) as response:
        return json.load(response)["token"]


def start_upload(client, repository, digest):
    """Start an upload session at the target and return its PUT URL with digest=."""
    response = client.request("POST", f"/v2/{repository}/blobs/uploads/",
                              headers={"Content-Length": "0"}, body=b"", expected=(202,))
    location = urllib.parse.urljoin(response.url, response.headers["Location"])
    separator = "&" if "?" in location else "?"
    return f"{location}{separator}digest={urllib.parse.quote(digest, safe='')}"


# The download streams into the upload through a pipe, so neither curl
# keeps the whole blob in memory. pipefail makes a failed download fail the
# whole command.
CURL_PIPE_SCRIPT = (
    'set -o pipefail; '
    f'{CURL} -sS -f -H "Authorization: Bearer $SOURCE_TOKEN" "$SOURCE_URL" '
    f'| {CURL} -sS -f -X PUT -T - -H "Content-Type: application/octet-stream" '
    '-o /dev/null "$UPLOAD_URL"')


def curl_pipe_command():
    return [BASH, "-c", CURL_PIPE_SCRIPT]


def curl_pipe_environment(run_dir, source_token, source_url, upload_url):
    environment = base_environment(os.path.join(run_dir, "home"))
    environment.update({"SOURCE_TOKEN": source_token, "SOURCE_URL": source_url,
                        "UPLOAD_URL": upload_url})
    return environment


def tool_version(command):
    """Return the first line a version command prints, or why it failed."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30,
                                stdin=subprocess.DEVNULL)
    except OSError as error:
        return f"not available: {error}"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else f"no output (exit status {result.returncode})"
