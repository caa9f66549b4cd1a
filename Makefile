# One gate (docs/style.md habit 10): `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
# This machine's pip config names index folders that may be absent: hide that noise only.
QUIET_PIP := { grep -v 'is ignored: it is neither a file nor a directory' || true; }
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
SAM_VENV  := .venv-sam
SAM       := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
SCAN_VENV := .venv-scan
FUNCTION  ?= scale_on_throttle
EVENT     ?= events/write_throttle_table.json
export AWS_MAX_ATTEMPTS ?= 1

.PHONY: help venv sam-venv scan-venv scan build-check test check fmt lint types unit cfn-lint sam-validate demo invoke history build deploy clean bench backtest lock package package-local

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# constraints.txt is the lock: every version .venv, the layer (layers/autoresponder/Makefile,
# through its symlink to this file) and CI install. `make lock` resolves it again.
LOCK := constraints.txt
LOCK_INPUTS := requirements-dev.txt requirements-bench.txt

$(VENV)/.installed: $(LOCK_INPUTS) layers/autoresponder/requirements.txt $(LOCK)
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install --quiet -c $(LOCK) -r requirements-dev.txt 2>&1 | $(QUIET_PIP)
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || "$$(scripts/find-python)" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)
	$(SAM_VENV)/bin/python -m pip install --quiet --no-compile -r requirements-sam.txt 2>&1 | $(QUIET_PIP)
	@touch $@

$(SCAN_VENV)/.installed: requirements-scan.txt
	@test -x $(SCAN_VENV)/bin/python || "$$(scripts/find-python)" -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)
	$(SCAN_VENV)/bin/python -m pip install --quiet --no-compile -r requirements-scan.txt 2>&1 | $(QUIET_PIP)
	@touch $@

venv: $(VENV)/.installed ## create (once) the project's virtual environment in .venv

sam-venv: $(SAM_VENV)/.installed ## create (once) the SAM CLI's own virtual environment in .venv-sam

scan-venv: $(SCAN_VENV)/.installed ## create (once) the scanners' own virtual environment in .venv-scan

test: ## the whole gate: format, lint, types, tests, cfn-lint, sam validate --lint, scans, sam build, package
	@# the three virtual environments at once (downloads and disk, not CPU), then the gate
	@$(MAKE) --no-print-directory -j3 venv sam-venv scan-venv
	@$(MAKE) --no-print-directory check

check: fmt lint types unit cfn-lint sam-validate scan build-check package-local

fmt: venv
	$(PY) -m ruff format --check .

lint: venv
	$(PY) -m ruff check .

types: venv
	$(PY) -m mypy

# The suite at a fixed wall clock just after and just before a UTC day boundary
# (tests/conftest.py `--wall-clock`; time-machine moves the real clock of the run, in every
# worker), so a test that depends on the time of day fails here, not at midnight on someone's
# machine: the whole suite at 00:05, then at 23:58 every test that runs on the real clock (the
# ones inside the emulated account run at its fixed instant whatever the wall clock:
# `--only-real-clock`). pytest-xdist spreads each pass over the cores (PYTEST_WORKERS=0: one
# process).
PYTEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal
unit: venv
	@echo "pytest, wall clock 2026-12-01T00:05:00+00:00: the whole suite"
	$(PYTEST) --wall-clock 2026-12-01T00:05:00+00:00
	@echo "pytest, wall clock 2026-11-30T23:58:00+00:00: the tests on the real clock"
	$(PYTEST) --wall-clock 2026-11-30T23:58:00+00:00 --only-real-clock

cfn-lint: venv
	$(VENV)/bin/cfn-lint template.yaml examples/monitoring-account/template.yaml

sam-validate: sam-venv
	$(SAM) validate --lint --region us-east-1

scan: scan-venv ## scan template.yaml: cfn-lint with the serverless rules, then checkov
	$(SCAN_VENV)/bin/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation \
		--quiet --compact --skip-download

# The layer's Makefile runs $(PYTHON) -m pip: the SAM venv's interpreter always has pip (a
# system python3 may not), and any 3.9+ cross-installs the arm64 / CPython 3.13 wheels.
build-check: venv sam-venv ## sam build, then check the built layer (3.13 imports, no boto3, size)
	PYTHON="$(abspath $(SAM_VENV)/bin/python)" $(SAM) build
	$(PY) scripts/check_layer.py .aws-sam/build

# Organisation-wide (README, Deploy, "Organisation-wide"): the StackSet artefact. Artefact
# buckets are $(PACKAGE_BUCKET_PREFIX)-<region>, one per region of REGIONS (Lambda reads code
# only from its own region); sam package uploads to the first region's, the rest are copies.
PACKAGE_BUCKET_PREFIX ?=
REGIONS ?= us-east-1
package: venv sam-venv ## StackSet artefact: PACKAGE_BUCKET_PREFIX=<prefix> REGIONS="us-east-1 eu-west-1"
	@test -n "$(PACKAGE_BUCKET_PREFIX)" || { echo "make package needs PACKAGE_BUCKET_PREFIX=<prefix>: the buckets <prefix>-<region> of REGIONS=\"$(REGIONS)\" (README, Organisation-wide). make package-local runs the recipe on the local AWS." >&2; exit 2; }
	PYTHON="$(abspath $(SAM_VENV)/bin/python)" $(SAM) build
	$(SAM) package --s3-bucket $(PACKAGE_BUCKET_PREFIX)-$(firstword $(REGIONS)) \
		--s3-prefix dynamodb-autoresponder --region $(firstword $(REGIONS)) \
		--output-template-file .aws-sam/packaged.yaml --no-progressbar
	$(PY) -m scripts.stackset_template .aws-sam/packaged.yaml --output .aws-sam/stackset.json \
		--bucket-prefix $(PACKAGE_BUCKET_PREFIX) --regions $(REGIONS) --copy --upload
	$(VENV)/bin/cfn-lint .aws-sam/stackset.json

package-local: venv sam-venv ## the organisation-wide recipe on the local AWS: sam package, StackSet to 2 accounts x 2 regions
	PYTHON="$(abspath $(SAM_VENV)/bin/python)" $(SAM) build
	$(PY) -m local.stackset
	$(VENV)/bin/cfn-lint .aws-sam/stackset.json

demo: venv ## run every sample event through the functions against an embedded local AWS
	$(PY) -m local.demo

invoke: venv ## run one event: make invoke FUNCTION=scale_on_throttle EVENT=events/<file>.json
	$(PY) -m local.invoke --function $(FUNCTION) --event $(EVENT)

# Local by default (the embedded local AWS after the demo's events); a real account only with
# HISTORY_ARGS="--real-account" (and DECISION_TABLE_NAME, the stack output DecisionTableName).
history: venv ## a table's last decisions: make history TABLE=orders [HISTORY_ARGS=--real-account]
	@test -n "$(TABLE)" || { echo "make history TABLE=<table name> [HISTORY_ARGS=...]" >&2; exit 2; }
	$(PY) -m local.history --table $(TABLE) $(HISTORY_ARGS)

build: sam-venv ## sam build (cross-installs the arm64 / CPython 3.13 layer, no Docker)
	$(SAM) build

# make deploy [CONFIG_ENV=prod] [GUIDED=1|0]: build and check the layer, then `sam deploy` with
# the project's SAM CLI. Guided (it asks for the stack parameters, starting from samconfig.toml,
# and offers to save the answers there) until samconfig.toml holds that environment's saved
# answers; then straight to the change set (scripts/deploy_flags.py).
CONFIG_ENV ?= default
GUIDED ?=
deploy: build-check ## build, check, deploy: sam deploy --guided the first time (CONFIG_ENV=prod for prod)
	$(SAM) deploy --config-env $(CONFIG_ENV) \
		$$(GUIDED=$(GUIDED) $(SAM_VENV)/bin/python scripts/deploy_flags.py --config-env $(CONFIG_ENV))

# Measurements (issue 8; docs/benchmarks.md): reports in bench/out/, not timed tests.
$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -c $(LOCK) -r requirements-bench.txt 2>&1 | $(QUIET_PIP)
	@touch $@

bench: venv ## measure cold start, AWS calls per decision and a 500-event burst (bench/out/)
	POWERTOOLS_LOG_LEVEL=ERROR $(PY) -m bench.cold_start
	POWERTOOLS_LOG_LEVEL=ERROR $(PY) -m bench.aws_calls
	POWERTOOLS_LOG_LEVEL=ERROR $(PY) -m bench.burst

backtest: $(VENV)/.bench-installed ## replay demand traces: no automation, native auto scaling, this responder
	$(PY) -m bench.backtest $(BACKTEST_ARGS)

# Resolve the lock again (after a change of a requirements file, or to take newer versions):
# one universal resolution for CPython 3.11+ on every platform, markers where versions differ.
lock: venv ## resolve constraints.txt again from the requirements files (uv pip compile)
	$(PY) -m pip install --quiet "uv>=0.5" 2>&1 | $(QUIET_PIP)
	$(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --no-annotate \
		--custom-compile-command "make lock" -o $(LOCK) $(LOCK_INPUTS)
	$(PY) -m pip install --quiet -c $(LOCK) -r requirements-dev.txt 2>&1 | $(QUIET_PIP)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
