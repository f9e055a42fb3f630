#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build the fuzz targets with clang and libFuzzer, ASan and UBSan, then run
# each for a bounded time. `make fuzz` calls this script.
#
# Usage: tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#
# Each target reads two corpus directories: BUILD_DIR/fuzz-corpus/TARGET, a
# scratch directory that libFuzzer writes new inputs to and that persists
# between runs, and the committed seeds in tests/fuzz/corpus/TARGET, which
# are only read. Crashing inputs are written to BUILD_DIR/fuzz-artifacts/TARGET/.
# Exits 1 when any target fails.
set -eu

if [ $# -lt 2 ]; then
        echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
        exit 2
fi
build=$1
seconds=$2
shift 2

case $seconds in
'' | *[!0-9]*)
        echo "invalid time '$seconds': expected whole seconds, such as FUZZ_SECONDS=60" >&2
        exit 2
        ;;
esac

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
corpus_dir=$source_dir/tests/fuzz/corpus

if ! command -v clang >/dev/null 2>&1; then
        echo "clang not found; libFuzzer needs clang and its runtime: apt-get install clang libclang-rt-14-dev" >&2
        exit 1
fi

if [ ! -f "$build/build.ninja" ]; then
        # -Dwerror=false: clang warns about test code that gcc accepts, and warnings are
        # checked by the gcc builds.
        CC=clang meson setup "$build" "$source_dir" -Dfuzzing=true \
                -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false
fi
ninja -C "$build" fuzz

if [ $# -eq 0 ]; then
        set -- $(cd "$corpus_dir" && ls)
fi

failed=""
for target in "$@"; do
        binary=$build/tests/fuzz/fuzz_$target
        if [ ! -x "$binary" ] || [ ! -d "$corpus_dir/$target" ]; then
                echo "unknown fuzz target '$target'; the targets are: $(cd "$corpus_dir" && ls | tr '\n' ' ')" >&2
                exit 2
        fi
        scratch=$build/fuzz-corpus/$target
        artifacts=$build/fuzz-artifacts/$target
        mkdir -p "$scratch" "$artifacts"

        echo "fuzz $target for $seconds s" >&2
        if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$binary" \
                -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
                -print_final_stats=1 -artifact_prefix="$artifacts/" \
                "$scratch" "$corpus_dir/$target"; then
                failed="$failed $target"
        fi
done

if [ -n "$failed" ]; then
        echo "fuzz targets failed:$failed; crashing inputs are in $build/fuzz-artifacts/" >&2
        exit 1
fi
echo "fuzz targets passed: $*" >&2
