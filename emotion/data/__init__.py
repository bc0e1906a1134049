"""Step 1 of the study's flow (data -> faces -> classify -> analysis -> figures/study -> app): reading the data sets.

Loaders that turn the files under ``$EMOTION_DATA`` into validated arrays: FER2013 (``fer2013``), its FER+ crowd
votes (``ferplus``), the out-of-distribution sets CK+48 (``cohn_kanade``) and AffectNet (``affectnet``), any image
file a user has (``image_files``), a WIDER-FACE-format folder of annotated photos (``wider_face``), the study's 700-image WIDER FACE
subset rebuilt from the official download (``wider_subset``), the
duplicate/split-leakage report (``leakage``) and the check that says what is missing and how to obtain it
(``datacheck``), and the sentences notebook 01 prints about
the data (``overview_prose``). Nothing here imports TensorFlow.
"""  # noqa: E501
