# `make run` and `make test` do the whole set-up on a fresh Debian/Ubuntu machine (as root).
VENV     := .venv
PY       := $(VENV)/bin/python
WITH_ENV := scripts/with-env
PYTHON   ?= python3

.PHONY: run test test-faults setup packages services venv venv-dev migrate clean-venv image helm

run: venv setup
	$(WITH_ENV) python -m sshd.hostkey
	$(WITH_ENV) scripts/supervise -f Procfile

# The whole suite but the fault suite (tests/faults, marked slow: minutes of killed processes and restarted
# services); CI runs both (.ci/run).
test: venv-dev setup helm
	$(WITH_ENV) pytest -m "not slow" $(PYTEST_ARGS)

test-faults: venv-dev setup
	$(WITH_ENV) pytest -m slow $(PYTEST_ARGS)

# The platform image the Helm chart runs: pier/platform:<version>, built locally (image/Dockerfile).
image: setup
	scripts/image

# Helm, for the chart's tests only (make run needs none): pinned, into .venv/bin.
helm: venv
	scripts/helm >/dev/null

setup: packages venv
	scripts/platform.sh secrets services database images
	$(MAKE) migrate

packages:
	scripts/platform.sh packages

# The runtime set only: a machine that runs Pier gets no test tools.
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

venv-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

migrate:
	$(WITH_ENV) flask --app core.app:create_migrations_app db upgrade --directory migrations

clean-venv:
	rm -rf $(VENV)
