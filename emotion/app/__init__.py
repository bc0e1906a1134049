"""Step 6 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): the system people use.

The end-to-end pipeline from photo to labelled faces (``pipeline``) and the sentences notebook 07 prints about it
(``pipeline_prose``), its folder run timed sequential against
overlapped (``folder_benchmark``), the comparison with the PyPI package ``fer``
(``peer``; its repeated runs, fer's side in a subprocess: ``peer_runs``), the web app with its load test and
browser driver (``webapp``, ``webapp_load``, ``webapp_browser``) and
the command-line interface behind ``python -m emotion`` (``cli``, which builds its parser from ``commands``, one
module of commands per stage of the study).
"""
