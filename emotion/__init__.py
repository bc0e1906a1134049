"""emotion: the package behind the facial-emotion-recognition study.

Each module has one job: ``paths`` (where data, figures and results live), ``fer2013`` (the FER2013 loader),
``ferplus`` (FER+ crowd votes), ``leakage`` (duplicate and split-leakage report), ``results`` (results files with
provenance), ``plots`` (figures), ``notebooks`` (the papermill runner) and ``cli`` (``python -m emotion``).
"""

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""The seven FER2013 emotions, indexed by their label id (0-6)."""

SPLITS = ("Training", "PublicTest", "PrivateTest")
"""FER2013's Usage values: fit on Training, select on PublicTest, report PrivateTest once."""

__version__ = "0.1.0"
