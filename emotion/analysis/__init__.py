"""Step 4 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): what the numbers mean.

Comparing the released models with each other and the paper (``compare``, notebook 05) at the cost of their whole
lineage, each epoch at its quiet price (``lineage_cost``), what whole epochs cost as the runs measured them
(``epoch_speeds``), whether a model had converged, read from runs of its
recipe at doubled budgets (``budget_curves``), reading the training experiments (``ablations``, notebook 04),
per-class confidence intervals (``uncertainty``), calibration (``calibration``), saliency maps (``saliency``), error
analysis (``error_analysis``), the evaluation of notebook 06 (``review``), the app's default model evaluated as chosen
(``selection``), ResNet-18's stem question (``stem_comparison``), K-fold against holdout training at matched optimizer
steps (``kfold_matched``), the candidates of notebook 05's ensemble, releases and experiment runs with their costs
(``ensemble_candidates``), the run that stands for each architecture once it has a budget curve (``curve_heads``) and
the ledger of the paper's claims with
verdicts (``claims``, notebook 08, with the budget gate and the training experiments' outcome rules in
``training_rules``; read, stated and checked across notebooks in ``ledger``);
the sentences notebooks 04, 05, 06 and 08 print, each a tested function of their
results (``review_prose``; ``comparison_prose``, with notebook 05's tables in ``comparison_tables``;
``evaluation_prose``; ``ledger_prose``).
"""
