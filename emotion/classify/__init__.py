"""Step 3 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): the classifiers.

Building the Keras models from a name (``models``), training-time augmentation (``augment``), the ``tf.data`` input
pipeline (``inputs``), the training protocol with its callbacks, recipe and resumable sessions (``train``, notebook
03), publishing a finished run to ``models/`` and ``results/`` (``release``), K-fold cross-validation (``kfold``), the
input-pipeline benchmark (``input_benchmark``), scoring a saved model on a split (``evaluate``) and ensembles of
released models (``ensemble``). Importing this package imports no TensorFlow; its
modules do, lazily where they can.
"""
