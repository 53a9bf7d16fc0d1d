# The two commands for a newcomer: `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Python code checked by ruff (pyproject.toml's [tool.ruff] excludes the build outputs).
RUFF_PATHS := .
PYTEST_ARGS ?=

.PHONY: help setup test test-fast lint demo constraints clean

help:
	@echo "make demo         set up, then run the node on the embedded sample clip"
	@echo "make test         set up, then ruff, the import contracts and the whole test suite"
	@echo "make test-fast    the same without the long suites marked slow (-m 'not slow')"
	@echo "make setup        .venv with the ROS 2 Kilted wheels + dependencies, build ros2_ws"
	@echo "make lint         ruff check + ruff format --check + lint-imports (the package's floors)"
	@echo "make constraints  rewrite constraints.txt from what .venv has installed"
	@echo "make clean        remove ros2_ws build outputs (keeps .venv)"

setup:
	@bash scripts/setup.sh

lint: setup
	@source scripts/env.sh && ruff check $(RUFF_PATHS) && ruff format --check $(RUFF_PATHS) && \
		lint-imports --no-cache

# A random ROS_DOMAIN_ID per run keeps concurrent runs on one machine apart; scripts/env.sh
# must be sourced before Python starts (the messages' libraries are found via LD_LIBRARY_PATH).
test: lint
	@export ROS_DOMAIN_ID=$$(( RANDOM % 100 + 1 )) && source scripts/env.sh && \
		echo "[test] ROS_DOMAIN_ID=$$ROS_DOMAIN_ID" && python -m pytest $(PYTEST_ARGS)

# The fast part while developing: everything but the suites marked slow (subprocess graphs,
# the real model in a node, colcon builds, the fuzzing). `make test` and CI run everything.
test-fast: lint
	@export ROS_DOMAIN_ID=$$(( RANDOM % 100 + 1 )) && source scripts/env.sh && \
		echo "[test] ROS_DOMAIN_ID=$$ROS_DOMAIN_ID" && python -m pytest -m "not slow" $(PYTEST_ARGS)

demo: setup
	@bash scripts/demo.sh

constraints: setup
	@source scripts/env.sh && python scripts/freeze_constraints.py > constraints.txt.new && \
		mv constraints.txt.new constraints.txt && git --no-pager diff --stat -- constraints.txt

clean:
	rm -rf ros2_ws/build ros2_ws/install ros2_ws/log
