# geogrid: `make demo` and `make test` are the whole quick start; everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DB_PKGS      := postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting
BUILD_PKGS   := gcc  # the walking-area kernels are compiled ahead of time at install
BROWSER_PKGS := chromium fonts-wqy-microhei gdal-bin  # gdal-bin: tests read /ogc with GDAL's OAPIF driver
# npm vendors Leaflet at install time; Debian's npm is used only where the machine has none.
NPM_PKGS     := $(if $(shell command -v npm),,nodejs npm)

.PHONY: install system-deps browser-deps venv maps-vendor api-docs-vendor compiled-kernels demo test typecheck bench lint clean

install: system-deps venv

# Debian packages, installed only when missing.
system-deps:
	@missing=$$(for p in $(DB_PKGS) $(BUILD_PKGS) $(NPM_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

browser-deps:
	@missing=$$(for p in $(BROWSER_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

venv: $(VENV)/.installed maps-vendor api-docs-vendor compiled-kernels

# The walking-area kernels built into an extension module, so no process pays Numba's first-call start-up.
compiled-kernels: geogrid/coverage/.compiled

geogrid/coverage/.compiled: $(VENV)/.installed geogrid/coverage/walk.py geogrid/coverage/raster.py geogrid/coverage/compiled.py
	$(BIN)/python -m geogrid.coverage.compiled
	touch $@

# Leaflet and plugins from the npm registry, served by the API (maps never load from a CDN).
maps-vendor: maps/static/vendor/.installed

maps/static/vendor/.installed: maps/package.json maps/package-lock.json maps/assets.py
	npm ci --prefix maps --no-audit --no-fund
	$(PYTHON) -m maps.assets
	touch $@

# Swagger UI and ReDoc from the npm registry, so /docs and /redoc load nothing from a CDN.
api-docs-vendor: api/static/docs/.installed

api/static/docs/.installed: api/docs_assets/package.json api/docs_assets/package-lock.json
	npm ci --prefix api/docs_assets --no-audit --no-fund --ignore-scripts
	mkdir -p api/static/docs
	cp api/docs_assets/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   api/docs_assets/node_modules/swagger-ui-dist/swagger-ui.css \
	   api/docs_assets/node_modules/redoc/bundles/redoc.standalone.js api/static/docs/
	touch $@

$(VENV)/.installed: pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: install
	$(BIN)/geogrid demo

test: install browser-deps
	$(BIN)/ruff check .
	$(MAKE) typecheck
	$(BIN)/python -m pytest -q -n 2

bench: install
	@dpkg -s wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }  # the lookup benchmark's load generator
	$(BIN)/python -m bench

lint: venv
	$(BIN)/ruff check .

clean:
	-$(BIN)/geogrid db stop
	rm -rf .geogrid .geogrid-bench

# The type checker (mypy, configured in pyproject.toml) and, once the tree is formatted, the formatter check:
# `make typecheck CHECK_FORMAT=1` (the integrator switches the default on after `ruff format` has run once).
CHECK_FORMAT ?= 0
typecheck: venv
	$(BIN)/mypy
	$(BIN)/ruff format --check .
