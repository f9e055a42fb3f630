# SPDX-License-Identifier: Apache-2.0
"""Read manifests with Debian's skopeo, a client independent of ecr-sync."""

import subprocess

SKOPEO = "/usr/bin/skopeo"
SKOPEO_TIMEOUT_SECONDS = 60


class SkopeoError(Exception):
    """skopeo exited with a non-zero status."""

    def __init__(self, reference, returncode, stderr):
        self.reference = reference
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"skopeo inspect docker://{reference} exited with {returncode}: "
                         f"{stderr.strip()}")


def skopeo_raw(reference, creds=None):
    """Return the raw manifest bytes of docker://reference as skopeo fetches them.

    creds is None for anonymous access, "USER:PASSWORD", or a (user, password)
    pair. TLS verification is off so that skopeo falls back to plain HTTP for
    the loopback test registries.
    """
    command = [SKOPEO, "inspect", "--raw", "--tls-verify=false"]
    if creds is None:
        command.append("--no-creds")
    else:
        if not isinstance(creds, str):
            creds = ":".join(creds)
        command += ["--creds", creds]
    command.append(f"docker://{reference}")
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                            timeout=SKOPEO_TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise SkopeoError(reference, result.returncode,
                          result.stderr.decode("utf-8", errors="replace"))
    return result.stdout
