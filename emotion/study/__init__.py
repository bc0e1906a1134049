"""Step 5 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): the study's outputs.

Results files with provenance and the README's headline table (``results``), what the README's two commands cost,
from a clean clone's CI log and the notebooks' run times (``command_times``), the papermill runner that executes the
notebooks in smoke or full mode (``notebooks``), the notebooks' plain-text twins for review
(``notebook_scripts``), the check that notebook prose, typed or generated, states only numbers the
results back and calls no percentage a cap that a measured accuracy passed (``prose``), the static HTML report and
its browser check (``report``, ``report_check``) and the model card written from ``results/`` (``model_card``).
"""
