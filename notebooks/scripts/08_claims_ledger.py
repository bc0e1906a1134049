# %% [markdown]
# # 08 · The claims ledger: which of the paper's claims survive?
#
# **Question.** The paper makes nine claims this study can name: MTCNN beats the other detectors on small and turned
# faces, ResNet beats the basic CNN, ResNet-50 is no better than ResNet-34, augmentation reduces overfitting, K-fold is
# no better than a holdout split, disgust is the worst class because it is the rarest, 62.86 % on FER2013, 46.8 % on
# the authors' own photos and 80 % on AffectNet. Which of them does the evidence of notebooks 02-07 reproduce?
#
# **How.** One rule per claim, in one place (`emotion.analysis.claims`), applied to the results files the other
# notebooks and the training runs wrote: the detector benchmark (notebook 02), each architecture's budget curve and the
# experiment runs (notebook 03, `make budgets`, `make experiments`), the training cost, and what notebook 06 measured
# on the released models. A claim that rests on trained models goes through the budget gate: decided on runs whose
# curve had neither converged nor reached the paper's own 60 epochs, it reads "inconclusive at this budget" and names
# the budget that would settle it; only settled evidence can say "not reproduced". This notebook runs last because it reads every other notebook's results;
# it trains and predicts nothing.
#
# **Produces** (full mode): `results/08_claims.json` (every claim's verdict, its evidence, the file it rests on and what
# would settle it). No figure: the evidence's figures are in the notebooks that measured it.
#
# **Run time:** the README's run-time table (from `results/00_runtimes.json`) has the measured figures for each mode.

# %% tags=["parameters"]
mode = "full"  # "full": results/; "smoke": the same ledger, written under build/smoke/
seed = 0  # unused (nothing random here); kept so that every notebook takes the same parameters
figures_dir = "../figures"  # unused: the ledger draws no figure
results_dir = "../results"
released_results_dir = "../results"  # every other notebook's results (read only, also in smoke mode)
notebooks_dir = "."  # the executed notebooks whose stated verdicts are checked against the ledger

# %%
from pathlib import Path

from IPython.display import Markdown, display

from emotion.analysis.claims import claims_ledger
from emotion.analysis.ledger import study_evidence, study_verdicts, verdict_conflicts
from emotion.analysis.ledger_prose import describe_agreement, describe_conclusion, describe_verdicts, ledger_table
from emotion.study.notebooks import study_notebooks
from emotion.study.results import package_versions, write_results

results_dir, released_results_dir = Path(results_dir), Path(released_results_dir)
evidence = study_evidence(released_results_dir)
ledger = claims_ledger(evidence)

# %% [markdown]
# ## The verdicts
#
# One row per claim: its verdict, the evidence it rests on (each number is in the results file the ledger names in
# `results/08_claims.json`), and what would settle it where the evidence cannot.

# %%
display(Markdown(ledger_table(ledger)))

# %%
display(Markdown("**What this shows.** " + describe_verdicts(ledger)))

# %% [markdown]
# ## Does any other notebook give a claim another verdict?
#
# Every verdict the study states anywhere is written in one form (`**verdict** (claim `id`)`), so the executed
# notebooks' printed text and every results file can be searched for verdicts and checked against this ledger.

# %%
notebooks = [path for path in study_notebooks(Path(notebooks_dir)) if not path.name.startswith("08_")]
stated, loose = study_verdicts(notebooks, released_results_dir)
conflicts = verdict_conflicts(stated, ledger)
display(Markdown("**What this shows.** " + describe_agreement(stated, loose, conflicts, len(notebooks),
                                                               len(list(released_results_dir.glob("*.json"))))))

# %% [markdown]
# ## Conclusion

# %%
write_results(results_dir / "08_claims.json", {
    "claims": ledger,
    "protocol": "every verdict from one rule of emotion.analysis.claims, applied to the results files; a claim resting "
                "on trained models is 'inconclusive at this budget' unless its runs' budget curve had converged or "
                "reached the paper's 60 epochs",
    "agreement": {"stated_elsewhere": len(stated), "conflicts": conflicts, "without_claim_id": loose}},
    mode=mode, seed=seed)
display(Markdown(describe_conclusion(ledger, len(conflicts) + len(loose))))

# %%
package_versions()  # Python, TensorFlow, Keras, OpenCV, dlib, mtcnn and the rest, as run
