"""emotion: the package behind the facial-emotion-recognition study.

Each module has one job (a test keeps this map complete). Data: ``paths``, ``fer2013``, ``ferplus``, ``leakage``,
``cohn_kanade``, ``affectnet``, ``image_files``, ``datacheck``. Faces: ``detectors``, ``detection_eval``,
``detection_plots``. Models: ``models``, ``augment``, ``train``, ``evaluate``, ``ensemble``. Comparison and
experiments: ``compare``, ``ablations``, ``ablation_plots``. Review: ``uncertainty``, ``calibration``, ``saliency``,
``error_analysis``, ``review``, ``claims``, ``evaluation_plots``. System: ``pipeline``, ``crop_tool``, ``peer``,
``webapp``, ``webapp_load``, ``webapp_browser``.
Study: ``results``, ``plots``, ``notebooks``, ``report``, ``report_check``, ``model_card``, ``cli``, ``errors``.
"""

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""The seven FER2013 emotions, indexed by their label id (0-6)."""

SPLITS = ("Training", "PublicTest", "PrivateTest")
"""FER2013's Usage values: fit on Training, select on PublicTest, report PrivateTest once."""

AUDIT_COLUMN = "audit_privatetest_accuracy"
"""The history.csv column with each epoch's PrivateTest accuracy, recorded for the selection-bias audit only (nothing
chooses on it)."""

__version__ = "0.1.0"
