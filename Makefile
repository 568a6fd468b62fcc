# Two commands set everything up on a fresh machine (Python >= 3.11 on PATH):
#   make report   create .venv, install, ingest data/raw, run the notebook batch into reports/
#   make test     install test extras, lint, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
KERNEL := fazhi-analysis
REGION ?= all
YEAR ?= all

.PHONY: install install-test kernel ingest report test test-quick lint format lab git-filter bench clean

# Each slow step says so first, in one Chinese line; pip shows its progress on a terminal and stays quiet in
# a log.
PIP = quiet=--quiet; if [ -t 1 ]; then quiet=; fi; $(PY) -m pip install $$quiet

$(BIN)/activate:
	@echo "正在创建虚拟环境 $(VENV) …"
	@$(PYTHON) -m venv $(VENV)
	@echo "正在更新 pip …"
	@$(PIP) --upgrade pip

$(VENV)/.stamp-install: pyproject.toml | $(BIN)/activate
	@echo "正在安装本项目及其依赖（首次需要几分钟；之后只在 pyproject.toml 变化时重新安装）…"
	@$(PIP) -e .
	@touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-install
	@echo "正在安装测试所需的依赖（首次需要几分钟）…"
	@$(PIP) -e '.[test]'
	@touch $@

install: $(VENV)/.stamp-install kernel

install-test: $(VENV)/.stamp-test kernel

# The notebooks run on a kernel the project registers inside the venv, so papermill never picks another.
kernel: $(VENV)/.stamp-install
	$(PY) -m analysis kernel --install

# make prints its own English "make: *** [Makefile:NN: report] Error 1" after a failed recipe. The recipes
# whose last lines are the answer (the Chinese summary of the data's problems) end through END instead: with
# a non-zero $$status the shell stops make by SIGINT, which neither make nor the shell reports, so the
# terminal ends on the summary and make still exits non-zero (130) for scripts. The shell exits only once
# make has taken the signal (no longer pending in /proc), so make never reaps it first and complains.
END = if [ $$status -ne 0 ]; then \
		kill -INT $$PPID; [ -r /proc/$$PPID/status ] || sleep 1; n=0; \
		while [ $$n -lt 100 ] && grep -q '^ShdPnd:.*[2367abef]$$' /proc/$$PPID/status 2>/dev/null; do \
			sleep 0.05; n=$$((n + 1)); done; \
	fi; exit 0

ingest: install
	@status=0; $(PY) -m analysis ingest --raw data/raw --out data/processed || status=$$?; $(END)

# Errors in the data (ingest exit 1) still give reports: the good values were written and every index page
# lists the errors. The target then fails (quietly, through END) so scripts see the errors; exit 2 (a bad
# request or environment) stops at once.
INGEST_THEN = status=0; $(PY) -m analysis ingest --raw data/raw --out data/processed || status=$$?; \
	if [ $$status -ge 2 ]; then $(END); fi

report: install
	@$(INGEST_THEN); \
	$(PY) -m analysis run --region $(REGION) --year $(YEAR) --processed data/processed --reports reports \
		|| { status=$$?; $(END); }; \
	$(END)

lint: install-test
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks

format: install-test
	$(BIN)/ruff format src tests scripts benchmarks
	$(BIN)/ruff check --fix src tests scripts benchmarks

# Three pytest processes, each taking whole test files (module fixtures are built once); the slowest tests
# are listed at the end of every run. Three on 2 cores: about a quarter of a test's time is spent waiting
# (kernels and workers starting, Chromium, kills landing), which the third fills (2026-12-02, idle 2-core
# machine: 293.9 s against 314.3 s with two).
test: install-test lint
	$(PY) -m pytest -n 3 --dist loadfile --no-loadscope-reorder

# The inner loop while developing: stops at the first failure, skips the slow and browser tests. CI and the
# README run `make test`, which runs everything.
test-quick: install-test
	$(PY) -m pytest -x -q -m "not slow and not browser"

# JupyterLab refuses to run as root (containers, office servers) unless told: pass --allow-root there.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

# Notebooks are tracked without outputs. Lab writes them without outputs (the pre-save hook below: the open
# notebook keeps showing them, git status stays clean); for notebooks saved by other tools, .gitattributes
# sends every *.ipynb through this clean filter, so commits carry no outputs. Installed into this clone's
# .git/config by `make lab`.
git-filter:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git config filter.fazhi-notebooks.clean '$(PY) -m analysis.execute.clean' && \
		echo "已设置 git 过滤器：笔记本中的运行结果不会进入 git（见 docs/jupyter.md）。"; \
	fi

lab: install git-filter
	@$(INGEST_THEN)
	@echo "正在安装 JupyterLab（首次需要几分钟）…"
	@$(PIP) -e '.[lab]'
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) \
		--ContentsManager.pre_save_hook=analysis.execute.clean.pre_save_hook

bench: install-test
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/bench.py ingest
	$(PY) benchmarks/bench.py figures
	$(PY) benchmarks/bench_batch.py

clean:
	rm -rf data/processed/*.parquet data/processed/*.csv data/processed/*.json data/processed/.ingest-reads.json reports/*/
