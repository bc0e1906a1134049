"""What the paper reports: the numbers the study sets out to reproduce, in one place.

Part of the package's base (every stage may import it; it imports nothing of the study's). The study's own goals and
the rules that turn its measurements into verdicts live where they are applied (:mod:`emotion.analysis.compare`,
:mod:`emotion.analysis.claims`).
"""

PAPER_FER2013_ACCURACY = 0.6286
"""The paper's best FER2013 accuracy (62.86 %), as printed."""

PAPER_RESULTS = {
    "basic_cnn": {"accuracy": 0.50, "note": "the paper's basic CNN baseline, reported as about 50 %"},
    "resnet34": {"accuracy": PAPER_FER2013_ACCURACY, "note": "the paper's ResNet-34, 62.86 %"},
}
"""FER2013 test accuracy the paper reports, by our model name (only the figures the paper states)."""

PAPER_OWN_PHOTOS = {"accuracy": 0.468, "photos": 111}
"""The paper's small real-world test: its accuracy on the authors' own (unpublished) photos, and how many."""

PAPER_MTCNN_FPS = 16.0
"""The speed reported for MTCNN (frames per second); "acceptable time" is read as at least half of it."""
PAPER_MTCNN_FPS_SOURCE = "the MTCNN paper reports for its own implementation on a 2.60 GHz desktop CPU"
"""Where :data:`PAPER_MTCNN_FPS` comes from, as notebook 02 cites it."""
