# fluxpanel: `make run` serves the panel, `make test` runs every test (see README).
SHELL := /bin/bash
PORT ?= 8000
# Recursive (=) so it is looked up after `deps` may have installed uv.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: run test demo lint deps system-deps

deps:
	@bash scripts/ensure-uv.sh
	$(UV) sync --frozen

run: deps
	PORT=$(PORT) $(UV) run --frozen python -m fluxpanel.serve

demo: deps
	$(UV) run --frozen python -m fluxpanel.demo

system-deps:
	@bash scripts/ensure-system-deps.sh

test: deps system-deps
	$(UV) run --frozen bash scripts/test.sh

lint: deps
	$(UV) run --frozen ruff check .
