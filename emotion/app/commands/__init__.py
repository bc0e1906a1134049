"""The commands of ``python -m emotion``, one module per stage of the study, each with a ``register(commands)`` that
adds its sub-parsers and the handlers beside them: ``data`` (check-data, build-wider-subset), ``faces``
(detect-eval, crop-faces), ``classify`` (train, kfold, training-cost, ensemble, evaluate), ``study``
(run-notebooks, results-table, report, model-card, notebook-scripts) and ``system`` (predict, peer-compare,
tune-pipeline, serve, serve-load, folder-benchmark); ``arguments`` holds the argparse types and protocol constants
they share. ``emotion.app.cli`` builds the parser from them.
"""
