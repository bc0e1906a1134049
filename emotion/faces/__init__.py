"""Step 2 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): finding faces.

The five face detectors behind one interface (``detectors``; YuNet also on onnxruntime, ``yunet_onnxruntime``),
their evaluation on WIDER FACE for notebook 02: running and timing them with a cache of their detections
(``detection_eval``), scoring the detections with the Easy/Medium/Hard protocol and recall breakdowns
(``detection_metrics``) and the sentences stating the results (``detection_prose`` for accuracy and recall,
``speed_prose`` for speed); the crop the classifier sees (``cropping``) and the batch face-cropping tool that turns
photos into 48x48 FER-style crops (``crop_tool``).
"""
