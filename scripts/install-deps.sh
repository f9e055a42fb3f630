#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian 12 packages that building and testing ecr-sync needs.
# Installs with apt-get when run as root; otherwise lists what is missing.
set -eu

packages="
  build-essential pkg-config meson ninja-build
  libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev libpcre2-dev
  libcmocka-dev
  python3 python3-pytest python3-jwt python3-cryptography python3-botocore
  docker-registry skopeo apache2-utils zstd curl awscli
  clang libclang-rt-14-dev
"

missing=""
for package in $packages; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
                missing="$missing $package"
        fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "ecr-sync needs these Debian packages:$missing" >&2
        echo "install them as root: apt-get install$missing" >&2
        exit 1
fi

echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
