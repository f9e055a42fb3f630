# SPDX-License-Identifier: Apache-2.0
"""Run a program and measure its own peak RSS with the peak_rss.c helper.

os.wait4 on a direct child of the test runner is not enough. Linux charges
a child's ru_maxrss with the memory of the process it was forked from, so
under a 40 MiB pytest process every child looks at least 40 MiB large. The
helper is small and forks the program itself. It is compiled once per process
with the system C compiler.
"""

import os
import signal
import subprocess
import tempfile
import threading

CC = "cc"
HELPER_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peak_rss.c")

_helper_lock = threading.Lock()
_helper_path = None


def helper_path():
    """Compile the helper on first use and return the path of the binary."""
    global _helper_path
    with _helper_lock:
        if _helper_path is None:
            directory = tempfile.mkdtemp(prefix="ecr-sync-peak-rss-")
            path = os.path.join(directory, "peak-rss")
            subprocess.run([CC, "-O2", "-Wall", "-Wextra", "-Werror", "-o", path, HELPER_SOURCE],
                           check=True, capture_output=True)
            _helper_path = path
        return _helper_path


def run_measured(command, environment, timeout):
    """Run command; returns (returncode, stdout, stderr, peak RSS in KiB, timed out).

    On timeout the whole process group is killed, and the peak RSS is None.
    """
    with tempfile.TemporaryDirectory(prefix="ecr-sync-run-") as directory:
        rss_path = os.path.join(directory, "peak-rss")
        stdout_path = os.path.join(directory, "stdout")
        stderr_path = os.path.join(directory, "stderr")
        with open(stdout_path, "wb") as stdout_file, open(stderr_path, "wb") as stderr_file:
            process = subprocess.Popen([helper_path(), rss_path, *command],
                                       stdin=subprocess.DEVNULL, stdout=stdout_file,
                                       stderr=stderr_file, env=environment,
                                       start_new_session=True)
        killed = threading.Event()

        def kill():
            killed.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            returncode = process.wait()
        finally:
            timer.cancel()

        with open(stdout_path, "rb") as stdout_file:
            stdout = stdout_file.read().decode("utf-8", errors="replace")
        with open(stderr_path, "rb") as stderr_file:
            stderr = stderr_file.read().decode("utf-8", errors="replace")
        peak_rss_kib = None
        if os.path.exists(rss_path):
            with open(rss_path, encoding="ascii") as rss_file:
                peak_rss_kib = int(rss_file.read())
    return returncode, stdout, stderr, peak_rss_kib, killed.is_set()
