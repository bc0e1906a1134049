"""Step 5 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): the notebooks' figures.

Each function returns a matplotlib ``Figure`` and never calls ``show()``: general and training figures (``plots``,
notebooks 01/03/05), the face-detector study (``detection_plots``, notebook 02), the evaluation (``evaluation_plots``,
notebook 06) and the methodology review's experiments (``ablation_plots``, notebook 04).
"""
