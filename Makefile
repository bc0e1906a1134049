# The emotion study. `make help` lists the targets. The two commands a newcomer needs:
#   make figures   set up, check the data, run every notebook (full mode), write figures/ and results/
#   make test      set up, install Debian's chromium when missing (apt-get: needs root), lint emotion/ and tests/
#                  with ruff, run the unit tests and every notebook in smoke mode
# Data is read from $EMOTION_DATA (default data/raw); e.g. `EMOTION_DATA=../shared/data make figures`.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SEED ?= 0

.DEFAULT_GOAL := help
.PHONY: help setup setup-browser check-data figures train budgets stems training-cost experiments tune-pipeline smoke runtimes test report peer-env peer-compare serve webapp-load model-card readme notebook-scripts clean

help: ## List the targets with one line each
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv (Python 3.11), install requirements.lock and the package, register the kernel

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found. Install Python 3.11, or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name emotion --display-name "Python 3.11 (emotion)" >/dev/null
	touch $@

check-data: setup ## Verify the data under EMOTION_DATA; print how to obtain anything missing
	$(PY) -m emotion check-data

figures: setup check-data ## The main job: run every notebook in full mode -> figures/, results/, README table
	$(PY) -m emotion run-notebooks --mode full --seed $(SEED) --record-times $(if $(ALLOW_DIRTY),--allow-dirty)
	$(PY) -m emotion results-table --write README.md
	$(PY) -m emotion model-card

# A killed training run resumes from its last epoch in build/train/MODEL; delete that folder to start afresh.
# wide_crop_cnn_cycle2 and _cycle3 are further cosine cycles, each warm-started from the one before (their cost includes
# their parents');
# wide_crop_ensemble averages the releases that greedy selection on PublicTest (flip TTA) keeps, in one .keras file.
train: setup check-data ## Retrain and release the models (epochs x the epoch cost in results/03_training_cost.json) -> models/, results/03_train_*.json
	$(PY) -m emotion train --model basic_cnn --epochs 14 --seed $(SEED) --release
	$(PY) -m emotion train --model resnet18 --epochs 13 --seed $(SEED) --release
	$(PY) -m emotion train --model resnet34 --epochs 10 --mixed-precision --seed $(SEED) --release
	$(PY) -m emotion train --model crop_cnn --epochs 30 --seed $(SEED) --release
	$(PY) -m emotion train --model resnet50 --epochs 10 --mixed-precision --seed $(SEED) --release
	$(PY) -m emotion train --model mobilenet --epochs 8 --seed $(SEED) --release
	$(PY) -m emotion train --model wide_crop_cnn --epochs 45 --mixed-precision --seed $(SEED) --release
	$(PY) -m emotion train --model wide_crop_cnn --init-from models/wide_crop_cnn.keras --epochs 8 --learning-rate 5e-4 --seed 1 --mixed-precision --release --name wide_crop_cnn_cycle2
	$(PY) -m emotion train --model wide_crop_cnn --init-from models/wide_crop_cnn_cycle2.keras --epochs 8 --learning-rate 5e-4 --seed 2 --mixed-precision --release --name wide_crop_cnn_cycle3
	$(PY) -m emotion ensemble --name wide_crop_ensemble

# Budget curves of the CNN-vs-ResNet models: each run doubles a model's last budget with the same recipe until the
# last doubling moved PublicTest by under half a point, or reaches the paper's 60 epochs (resnet18: 13 -> 26 -> 60 and
# resnet34: 10 -> 20 -> 60: once the doubling after next would pass 60, the next run is the paper's 60 itself,
# emotion.analysis.budget_curves.next_budget; notebook 05 reads each curve and says whether it converged),
# and ResNet-34 under the paper's own recipe (SGD, batch 256, its augmentations) for its full 60 epochs; then K-fold
# at matched optimizer steps: 6 folds x 12 epochs of basic_cnn (the paper's K), each fold model on 5/6 of Training
# (26,928 optimizer steps, 60 full-Training-epoch equivalents), which the claims ledger sets against basic_cnn_60ep
# (26,940 steps, the same recipe except epochs; emotion.analysis.kfold_matched): the budget at which basic_cnn's curve
# is settled, so the ledger's budget gate lets the comparison decide the claim (at 30 epochs it could not). Every run
# resumes from its last finished epoch. What an epoch costs on this machine, per model, with TensorFlow's oneDNN kernels on and off: results/03_training_cost.json
# (`make training-cost`, short epochs projected to a full one; notebook 03 shows it), and the whole epochs the runs
# measured, per CPU and precision (emotion.analysis.epoch_speeds; notebook 05 and the README). --mixed-precision trains in bfloat16 only where the CPU has it in
# hardware (AVX512-BF16 or AMX) and in float32 elsewhere; precision is not part of a
# recipe (emotion.analysis.budget_curves.UNGROUPED_FIELDS), but a run resumes only with the flags it started with.
budgets: setup check-data ## Budget-curve runs and K-fold at basic_cnn_60ep's optimizer steps (resumable; hours each on 2 cores: see results/03_training_cost.json; a run already in results/ is skipped) -> results/03_ablation_*.json, results/03_kfold_basic_cnn_6x12ep.json
	$(PY) -m emotion train --model basic_cnn --epochs 30 --seed $(SEED) --release --ablation --skip-released --name basic_cnn_30ep
	$(PY) -m emotion train --model basic_cnn --epochs 60 --seed $(SEED) --release --ablation --skip-released --name basic_cnn_60ep
	$(PY) -m emotion train --model resnet18 --epochs 26 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name resnet18_26ep
	$(PY) -m emotion train --model resnet18 --epochs 60 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name resnet18_60ep
	$(PY) -m emotion train --model resnet34 --epochs 20 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name resnet34_20ep
	$(PY) -m emotion train --model resnet34 --epochs 60 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name resnet34_60ep
	$(PY) -m emotion train --model resnet34 --recipe paper --epochs 4 --seed $(SEED) --release --ablation --skip-released --name resnet34_paper_4ep
	$(PY) -m emotion train --model resnet34 --recipe paper --epochs 60 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name resnet34_paper_60ep
	$(PY) -m emotion kfold --model basic_cnn --epochs 12 --mixed-precision --seed $(SEED) --folds 6 --skip-released --name basic_cnn_6x12ep
	$(PY) -m emotion train --model mobilenet --epochs 16 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name mobilenet_16ep
	$(PY) -m emotion train --model resnet50 --epochs 20 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name resnet50_20ep

# The stem question on ResNet-18: resnet18_keepres (a 3x3/1 stem, 24x24 maps at the first stage instead of 12x12) at
# the quiet CPU-seconds of the released resnet18 (13 epochs at 545 CPU-s = 5 epochs at 1,383; results/03_training_cost.json)
# and of its 26-epoch budget run (10 epochs). Resumable; a run already in results/ is skipped.
stems: setup check-data ## The stem comparison on ResNet-18 at matched CPU-seconds (about 2 and 4 CPU-hours) -> results/03_ablation_resnet18_keepres_*.json
	$(PY) -m emotion train --model resnet18_keepres --epochs 5 --seed $(SEED) --release --ablation --skip-released --name resnet18_keepres_5ep
	$(PY) -m emotion train --model resnet18_keepres --epochs 10 --mixed-precision --seed $(SEED) --release --ablation --skip-released --name resnet18_keepres_10ep

training-cost: setup check-data ## One epoch's cost per model with oneDNN off and on, one process at a time (hours; each epoch measured on 3,000 images per split) -> results/03_training_cost.json
	$(PY) -m emotion training-cost

EXPERIMENT = --model basic_cnn --epochs 5 --release --ablation --skip-released
experiments: setup check-data ## Retrain the 5-epoch experiment runs of notebooks 04/05 (about 20 CPU-min each) -> results/03_ablation_*.json, 03_kfold_*.json
	$(PY) -m emotion train $(EXPERIMENT) --seed 1 --name basic_cnn_5ep_seed1
	$(PY) -m emotion train $(EXPERIMENT) --seed 2 --name basic_cnn_5ep_seed2
	$(PY) -m emotion train $(EXPERIMENT) --seed 3 --name basic_cnn_5ep_seed3
	$(PY) -m emotion train $(EXPERIMENT) --seed 1 --class-weighted --name basic_cnn_5ep_classweighted_seed1
	$(PY) -m emotion train $(EXPERIMENT) --seed 1 --no-augment --name basic_cnn_5ep_noaugment_seed1
	$(PY) -m emotion train $(EXPERIMENT) --seed 1 --mixed-precision --name basic_cnn_5ep_bf16_seed1
	$(PY) -m emotion train --model crop_cnn --epochs 5 --release --ablation --skip-released --seed 1 --name crop_cnn_5ep_seed1
	$(PY) -m emotion kfold --model basic_cnn --epochs 5 --seed 1 --folds 3 --skip-released --name basic_cnn_5ep_seed1

smoke: setup check-data ## Run every notebook in smoke mode into build/smoke/ (touches no tracked file)
	$(PY) -m emotion run-notebooks --mode smoke --seed $(SEED)

runtimes: setup check-data ## Time every notebook in smoke mode into results/00_runtimes.json (README table)
	$(PY) -m emotion run-notebooks --mode smoke --seed $(SEED) --record-times
	$(PY) -m emotion results-table --write README.md

test: setup setup-browser ## Lint, then the unit tests plus every notebook in smoke mode (real-data tests need EMOTION_DATA; apt-get needs root)
	$(PY) -m ruff check emotion tests
	$(PY) -m pytest

setup-browser: ## Install headless Chromium (Debian package, apt-get as root) for the browser checks, when missing
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium (needs root and Debian's apt); the browser check of the report will be skipped"

report: setup setup-browser ## Build the static web report in build/report/ and check it in headless Chromium
	$(PY) -m emotion report --output build/report

peer-env: ## Make .venv-fer with the `fer` package for the peer comparison (several GB: torch and TensorFlow; not used by test)
	@test -x .venv-fer/bin/python || { $(PYTHON) -m venv .venv-fer && \
	  .venv-fer/bin/pip install --quiet --disable-pip-version-check -r peer/requirements-fer.txt && \
	  .venv-fer/bin/pip install --quiet --disable-pip-version-check --no-deps facenet-pytorch==2.6.0; }

peer-compare: setup peer-env check-data ## Run `fer` and our pipeline side by side, 5 interleaved runs -> results/07_peer_comparison.json
	$(PY) -m emotion peer-compare

tune-pipeline: setup check-data ## Speed and recall of the pipeline per detector image size -> results/07_pipeline_tuning.json
	$(PY) -m emotion tune-pipeline

serve: setup ## The web app for trying the system on a photo: http://127.0.0.1:8000/ (Ctrl+C stops it)
	$(PY) -m emotion serve

webapp-load: setup check-data ## Bounded load test of the web app (200 requests, 8 at a time) -> results/07_webapp_load.json
	$(PY) -m emotion serve-load
	$(PY) -m emotion results-table --write README.md

model-card: setup ## Rewrite models/MODEL_CARD.md from results/*.json
	$(PY) -m emotion model-card

readme: setup ## Rewrite the README's results table from results/*.json
	$(PY) -m emotion results-table --write README.md

notebook-scripts: setup ## Rewrite notebooks/scripts/ (each notebook's sources as plain text, for diffs)
	$(PY) -m emotion notebook-scripts

clean: ## Remove build outputs and caches (keeps .venv, figures/, results/, models/)
	rm -rf build data/processed/*.npz .pytest_cache
