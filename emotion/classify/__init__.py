"""Step 3 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): the classifiers.

Building the Keras models from a name (``models``), training-time augmentation (``augment``), the ``tf.data`` input
pipeline (``inputs``), the recipe of a run (``recipes``), the distribution strategy and dtype policy it trains under
(``devices``), its Keras callbacks (``callbacks``), the run folder that makes it resumable (``run_folder``), the
training protocol itself (``train``, notebook 03), publishing a finished run to ``models/`` and ``results/``
(``release``), an experiment run's outputs on the test splits kept beside its results (``run_outputs``), K-fold
cross-validation (``kfold``), the input-pipeline benchmark (``input_benchmark``), what an epoch costs per model
with oneDNN off and on (``training_cost``), scoring a saved model on a split (``evaluate``), how far
to trust a score (bootstrap intervals and McNemar's test, ``significance``) and ensembles of released models
(``ensemble``, whose members' predictions ``prediction_cache`` keeps between runs); the sentences notebook 03
prints about a run (``training_prose``).
Importing this package imports no TensorFlow; its modules do, lazily where they can.
"""
