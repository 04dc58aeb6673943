# The two entry points (see README): `make demo` and `make test`. Both do all the set-up first:
# system packages (scripts/setup-system), a virtual environment in .venv with the project installed,
# and the models built by the project itself (`passthrough build-models`, cached).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup models demo test clean mediapipe-reference

$(STAMP): pyproject.toml scripts/setup-system
	./scripts/setup-system
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

models: setup
	$(BIN)/passthrough build-models

demo: models
	$(BIN)/passthrough demo --out demo-out

test: models
	$(BIN)/python -m pytest -q

# Optional, not part of demo/test: MediaPipe's own hand pipeline (mediapipe==0.10.21, the wheel the hand
# models are built from; it pins numpy<2, so it gets its own environment) on the hand photos, scored
# with the project's metrics, next to `passthrough eval hands` on the same photos, and its times on
# the first-person pov_hands pair next to `passthrough bench hands`. Results in mediapipe-reference/.
MP_VENV  := .venv-mediapipe
MP_STAMP := $(MP_VENV)/.installed-stamp
HANDS    ?= $(or $(PASSTHROUGH_SHARED_DATA),../shared/data)/hands
POV      ?= $(or $(PASSTHROUGH_SHARED_DATA),../shared/data)/stereo/oakd-pairs/pov_hands

$(MP_STAMP):
	test -x $(MP_VENV)/bin/python || $(PYTHON) -m venv $(MP_VENV)
	$(MP_VENV)/bin/python -m pip install -q mediapipe==0.10.21
	touch $(MP_STAMP)

mediapipe-reference: models $(MP_STAMP)
	for mode in color gray; do \
	  flag=$$( [ $$mode = gray ] && echo --gray ); \
	  PYTHONPATH=. $(MP_VENV)/bin/python benchmarks/mediapipe_hands_reference.py --dataset $(HANDS) $$flag \
	    --json mediapipe-reference/mediapipe-$$mode.json 2>/dev/null || exit 1; \
	  $(BIN)/passthrough eval hands --dataset $(HANDS) $$flag --json mediapipe-reference/ours-$$mode.json \
	    | head -1 || exit 1; \
	done
	PYTHONPATH=. $(MP_VENV)/bin/python benchmarks/mediapipe_hands_reference.py \
	  --images $(POV)_left.png $(POV)_right.png --json mediapipe-reference/mediapipe-pov_hands.json 2>/dev/null
	$(BIN)/passthrough bench hands --frames 60 --json mediapipe-reference/ours-pov_hands.json \
	  | grep -E "detection_plus_landmarks|tracking "

clean:
	rm -rf $(VENV) $(MP_VENV) demo-out mediapipe-reference .pytest_cache
