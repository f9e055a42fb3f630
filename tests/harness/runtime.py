# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the test servers: loopback ports, log folders, readiness.

Every server in the harness listens on 127.0.0.1 only. Each one registers its
log files here so that a pytest hook (or the demo) can list them when
something fails.
"""

import datetime
import http.client
import http.server
import logging
import os
import socket
import threading
import time
import traceback

LOOPBACK = "127.0.0.1"
LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(message)s"

_log_paths_lock = threading.Lock()
_log_paths = []


def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    The port is found by binding port 0 and closing the socket, so another
    process may take it before the caller binds it. Callers that start an
    external server retry with a new port when that happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def new_log_dir(root, prefix=""):
    """Create and return a fresh folder under root named by time and pid."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(root, f"{prefix}{stamp}-{os.getpid()}")
    os.makedirs(path, exist_ok=True)
    return path


def register_log(path):
    """Remember a server log file so that failure reports can list it."""
    with _log_paths_lock:
        if path not in _log_paths:
            _log_paths.append(path)


def log_paths():
    """Return the log files of every server started in this process."""
    with _log_paths_lock:
        return list(_log_paths)


def open_logger(name, path):
    """Return a logger that writes INFO and above only to the file at path, and its handler.

    The file is registered with register_log. Pass both to close_logger
    when the server stops.
    """
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    register_log(path)
    return logger, handler


def close_logger(logger, handler):
    """Detach and close a handler that open_logger returned."""
    logger.removeHandler(handler)
    handler.close()


class LineLog:
    """A log file of lines stamped with the UTC time, written from any thread.

    open() creates or appends to the file and registers it. Lines written
    before open() or after close() are dropped.
    """

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._file = None

    def open(self):
        with self._lock:
            self._file = open(self.path, "a", encoding="utf-8", buffering=1)
        register_log(self.path)

    def write(self, message):
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        with self._lock:
            if self._file is not None:
                self._file.write(f"{stamp} {message}\n")

    def close(self):
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def wait_for_http(host, port, path, accept_statuses, timeout, is_alive=None):
    """Poll GET http://host:port/path until the status is in accept_statuses.

    is_alive, when given, is called between attempts; it returns False when
    the server process has exited, which ends the wait early. Raises
    TimeoutError (or RuntimeError for an exited server) on failure.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if is_alive is not None and not is_alive():
            raise RuntimeError(f"server on {host}:{port} exited before it was ready")
        connection = http.client.HTTPConnection(host, port, timeout=2)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status in accept_statuses:
                return response.status
            last_error = f"status {response.status}"
        except OSError as error:
            last_error = str(error)
        finally:
            connection.close()
        time.sleep(0.05)
    raise TimeoutError(
        f"GET http://{host}:{port}{path} not ready after {timeout} s: {last_error}")


class LoggingHTTPServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer that reports handler errors to a log function.

    The standard server prints them to stderr, which fills test output with
    tracebacks whenever a client disconnects early.
    """

    daemon_threads = True

    def __init__(self, address, handler_class, log):
        self._log = log
        super().__init__(address, handler_class)

    def handle_error(self, request, client_address):
        self._log(f"error handling a request from {client_address[0]}:{client_address[1]}: "
                  f"{traceback.format_exc(limit=2).strip()}")


def serve_in_thread(server, name):
    """Start a daemon thread named name that runs server.serve_forever(), and return it."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return thread


def stop_serving(server, thread):
    """Stop the server's loop, close its socket and wait at most 5 s for its thread to end."""
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
