# Two entry points for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Both bootstrap what is missing (system packages, a .venv with the project) and are quick the second time.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: bootstrap system-deps demo test lint bench fuzz train train-rl compile clean-compiled clean screenshots

# The simulation hot path, compiled by mypyc for sweeps (`make compile`); the same source runs
# interpreted otherwise. `streamlab` and the tests refuse compiled modules older than their source.
HOT_PATH := abr/values.py abr/algorithm.py abr/session.py abr/context.py abr/events.py \
	abr/commands.py abr/config.py abr/estimators/ewma.py abr/estimators/harmonic.py \
	abr/estimators/quantile.py abr/rules/abandon.py abr/rules/insufficient_buffer.py \
	abr/algorithms/bola_math.py abr/algorithms/bola.py abr/algorithms/bolae.py \
	abr/algorithms/bba.py abr/algorithms/throughput.py abr/algorithms/dynamic.py \
	abr/algorithms/mpc_plan.py abr/algorithms/robustmpc.py abr/algorithms/streamlab.py \
	abr/algorithms/scenario_plan.py abr/algorithms/stochastic_mpc.py abr/algorithms/l2a.py \
	abr/algorithms/lolp.py abr/algorithms/lolp_som.py abr/algorithms/lolp_qoe.py \
	abr/presentation.py abr/qoe.py simulator/link.py simulator/run.py simulator/optimal.py

bootstrap: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "streamlab: installing the project into $(VENV) (log: $(VENV)/install.log)"
	@{ $(PY) -m pip install --disable-pip-version-check --upgrade pip setuptools \
		&& $(PY) -m pip install --disable-pip-version-check -e '.[all,dev]'; } > $(VENV)/install.log 2>&1 \
		|| { tail -n 30 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

demo: bootstrap
	@$(VENV)/bin/streamlab demo --out demo-results

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Two workers: much of the suite waits on real playback and servers, but live encoders must
# keep up with real time, so no more workers than cores. Each folder of tests stays on one
# worker (tests/conftest.py), so its fixtures (a backend, a packaged catalog) start once.
test: lint
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup --durations=15

bench: compile
	$(PY) -m bench.run

# A long campaign of the fuzz targets (tests/fuzz); its table becomes the Fuzzing section of
# bench/results.md. `make test` runs the same targets with a few hundred cases each.
fuzz: bootstrap
	$(PY) -m bench.fuzz

# The throughput-quantile model `stochasticmpc` plans with, fitted again on its corpus (the
# training half of ../shared's dev sets plus generated links) into abr/estimators/quantile_fit.py.
train: bootstrap
	$(PY) -m bench.train_predictor

# Re-trains `--abr pensieve` and rewrites abr/algorithms/pensieve_weights.py (PPO, 4,000,000
# steps on one thread: 23 min on a machine shared with other jobs, hours when it gets a sixth of
# a core). Needs the rl-train extra (torch,
# stable-baselines3), which `all` leaves out: install torch's CPU build first, then
# `.venv/bin/pip install -e '.[rl-train]'`.
train-rl: bootstrap
	@$(PY) -c "import torch, stable_baselines3" 2>/dev/null || { echo "make train-rl: needs the rl-train extra: $(VENV)/bin/pip install -e '.[rl-train]'"; exit 2; }
	nice -n 15 $(PY) -m bench.train_pensieve
	$(VENV)/bin/ruff format abr/algorithms/pensieve_weights.py

# The player's screens as PNGs for the README (starts its own backend; no display needed).
screenshots: bootstrap
	$(PY) scripts/screenshots.py --out docs/screenshots

compile: bootstrap
	@$(VENV)/bin/mypyc $(HOT_PATH) >/dev/null
	@# setuptools skips copying unchanged shims: mark them as built now for the staleness check.
	@find abr simulator -name '*.so' -exec touch {} +
	@# mypyc's shared runtime module sits at the repository root: put the root on the path.
	@$(PY) -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'streamlab-compiled.pth').write_text(str(pathlib.Path.cwd()) + '\\n')"
	@echo "compiled the hot path ($(words $(HOT_PATH)) modules); 'make clean-compiled' undoes it"

clean-compiled:
	rm -rf build *__mypyc*.so
	find abr simulator -name '*.so' -delete
	rm -f $(VENV)/lib/python*/site-packages/streamlab-compiled.pth

clean:
	rm -rf $(VENV) demo-results .pytest_cache .mypy_cache .ruff_cache build
	find abr simulator -name '*.so' -delete
