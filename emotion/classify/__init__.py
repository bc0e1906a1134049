"""Step 3 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): the classifiers.

Building the Keras models from a name (``models``), training-time augmentation (``augment``), the training protocol
with its tf.data input, resumable runs, releases and K-fold (``train``, notebook 03), scoring a saved model on a split
(``evaluate``) and ensembles of released models (``ensemble``). Importing this package imports no TensorFlow; its
modules do, lazily where they can.
"""
