# SPDX-License-Identifier: Apache-2.0
# Thin wrapper around Meson. `make` builds ./build/ecr-sync.

BUILD       ?= build
BUILD_ASAN  ?= build-asan
PYTHON      := /usr/bin/python3
PYTEST      := $(PYTHON) -m pytest
PYTEST_ARGS ?=

.PHONY: all deps test unit e2e test-asan fuzz demo format format-check clean bench

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD)

$(BUILD_ASAN)/build.ninja: | deps
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined -Db_lundef=false

unit: all
	meson test -C $(BUILD) --print-errorlogs

e2e: all
	ECR_SYNC=$(CURDIR)/$(BUILD)/ecr-sync \
		AWS_CREDENTIALS_TOOL=$(CURDIR)/$(BUILD)/tests/unit/aws-credentials-tool \
		$(PYTEST) tests/e2e $(PYTEST_ARGS)

test-asan: $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)
	meson test -C $(BUILD_ASAN) --print-errorlogs
	ECR_SYNC=$(CURDIR)/$(BUILD_ASAN)/ecr-sync ECR_SYNC_SANITIZED=1 \
		AWS_CREDENTIALS_TOOL=$(CURDIR)/$(BUILD_ASAN)/tests/unit/aws-credentials-tool \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(PYTEST) tests/e2e $(PYTEST_ARGS)

# Every test on the regular build, then again under ASan and UBSan, then the
# quick benchmark, so that bench/ keeps working.
test: unit e2e test-asan
	$(MAKE) bench QUICK=1

# ecr-sync against skopeo sync on local registries. QUICK=1: small catalogue,
# one round, no goals checked. BENCH_ARGS: more options of bench/run.py,
# such as --rounds 5 or --targets ecr.
bench: all
	$(PYTHON) bench/run.py --ecr-sync $(CURDIR)/$(BUILD)/ecr-sync \
		$(if $(filter 1,$(QUICK)),--quick) $(BENCH_ARGS)

# libFuzzer with ASan and UBSan in BUILD_FUZZ (default build-fuzz): each target
# runs FUZZ_SECONDS (default 60), all targets unless FUZZ_TARGETS names some,
# e.g. FUZZ_TARGETS="manifest sigv4". Needs clang.
fuzz: | deps
	tests/fuzz/run-fuzzers.sh $(or $(BUILD_FUZZ),build-fuzz) $(or $(FUZZ_SECONDS),60) $(FUZZ_TARGETS)

demo: all
	$(PYTHON) scripts/demo.py $(CURDIR)/$(BUILD)/ecr-sync

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
