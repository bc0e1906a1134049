"""emotion: the package behind the facial-emotion-recognition study.

The subpackages follow the study's flow, data -> faces -> classify -> analysis -> figures/study -> app; each module has
one job (a test keeps this map complete).
Top level (the base every stage may use): ``errors`` (the exceptions), ``paths`` (where data, models and results
live), ``machine`` (CPU, cores, CPU time and TensorFlow's oneDNN kernels, turned on here before anything can load
TensorFlow), ``provenance`` (results files written and read with their provenance), ``paper`` (the numbers the paper
reports), ``overlap`` (stages of a folder run overlapped on threads, with a bounded number of items in flight).
Data: ``data.fer2013``, ``data.ferplus``, ``data.leakage``, ``data.cohn_kanade``, ``data.affectnet``,
``data.image_files``, ``data.wider_face``, ``data.wider_subset``, ``data.datacheck``, ``data.overview_prose``.
Faces: ``faces.detectors``, ``faces.yunet_onnxruntime``, ``faces.detection_eval``, ``faces.detection_metrics``,
``faces.detection_prose``, ``faces.speed_prose``, ``faces.cropping``, ``faces.crop_tool``.
Classifiers: ``classify.models``, ``classify.augment``, ``classify.inputs``, ``classify.recipes``, ``classify.devices``,
``classify.callbacks``, ``classify.run_folder``, ``classify.train``, ``classify.release``, ``classify.run_outputs``
(an experiment run's kept outputs on the test splits), ``classify.kfold``,
``classify.input_benchmark``, ``classify.training_cost``, ``classify.evaluate``, ``classify.significance``,
``classify.ensemble``, ``classify.prediction_cache`` (a model file's probabilities kept between runs),
``classify.training_prose``.
Analysis: ``analysis.compare``, ``analysis.budget_curves`` (the same recipe at doubled budgets, and whether a model had
converged), ``analysis.ablations``, ``analysis.uncertainty``, ``analysis.calibration``,
``analysis.saliency``, ``analysis.error_analysis``, ``analysis.review``,
``analysis.selection``, ``analysis.claims`` (with the budget gate and the experiments' outcome rules,
``analysis.training_rules``), ``analysis.ledger``, ``analysis.lineage_cost``, ``analysis.epoch_speeds`` (whole
epochs as the runs measured them, per model, recipe, precision, kernels and CPU), ``analysis.stem_comparison`` (the
stem question on ResNet-18, with its sentence), ``analysis.kfold_matched`` (K-fold against holdout at matched
optimizer steps, with its sentence), ``analysis.ensemble_candidates`` (releases and experiment runs as ensemble
members, with their costs), ``analysis.curve_heads`` (the longest run of each architecture's budget curve, which
stands for it in comparisons); the sentences
notebooks 04, 05, 06 and 08 print: ``analysis.review_prose``, ``analysis.comparison_prose`` (with its tables,
``analysis.comparison_tables``), ``analysis.evaluation_prose``, ``analysis.ledger_prose``.
Figures: ``figures.plots``, ``figures.detection_plots``, ``figures.evaluation_plots``, ``figures.ablation_plots``.
Study outputs: ``study.results``, ``study.command_times`` (what the two commands cost, for the README),
``study.notebooks``, ``study.notebook_scripts``, ``study.prose``, ``study.report``, ``study.report_check``,
``study.model_card``.
System: ``app.pipeline``, ``app.pipeline_prose``,
``app.folder_benchmark``, ``app.peer``, ``app.peer_runs``, ``app.webapp``, ``app.webapp_load``,
``app.webapp_browser``, ``app.cli``; its commands, one module per stage, in ``app.commands``: ``app.commands.data``,
``app.commands.faces``, ``app.commands.classify``, ``app.commands.study``, ``app.commands.system``, with the
argparse types they share in ``app.commands.arguments``.
"""

from emotion.machine import enable_onednn

enable_onednn()

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""The seven FER2013 emotions, indexed by their label id (0-6)."""

SPLITS = ("Training", "PublicTest", "PrivateTest")
"""FER2013's Usage values: fit on Training, select on PublicTest, report PrivateTest once."""

AUDIT_COLUMN = "audit_privatetest_accuracy"
"""The history.csv column with each epoch's PrivateTest accuracy, recorded for the selection-bias audit only (nothing
chooses on it)."""

__version__ = "0.1.0"
