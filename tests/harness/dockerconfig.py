# SPDX-License-Identifier: Apache-2.0
"""Write Docker client configurations (config.json) for ecr-sync runs."""

import base64
import json
import os


def basic_auth_entry(username, password):
    """Return an `auths` entry in Docker's base64 `auth` form."""
    encoded = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
    return {"auth": encoded}


def password_entry(username, password):
    """Return an `auths` entry in the `username`/`password` form."""
    return {"username": username, "password": password}


def write_docker_config(directory, auths):
    """Write DIRECTORY/config.json holding `auths` and return DIRECTORY as a string."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w", encoding="utf-8") as config_file:
        json.dump({"auths": auths}, config_file, indent=2)
    return str(directory)
