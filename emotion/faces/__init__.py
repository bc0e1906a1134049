"""Step 2 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): finding faces.

The five face detectors behind one interface (``detectors``; YuNet also on onnxruntime, ``yunet_onnxruntime``),
their evaluation on WIDER FACE's Easy/Medium/Hard protocol (``detection_eval``, notebook 02) and the batch
face-cropping tool that turns photos into 48x48 FER-style crops (``crop_tool``).
"""
