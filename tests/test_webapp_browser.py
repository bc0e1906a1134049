"""The web app in a real browser: headless Chromium driven by Playwright uploads a photo through the page's form
and the page draws a box and a label for each face. Needs Debian's chromium (`make setup-browser`) and the WIDER
photos under EMOTION_DATA; skips, saying why, without them."""

import numpy as np
import pytest
from PIL import Image

from emotion import CLASS_NAMES
from emotion.paths import BUILD_DIR, MODELS_DIR
from emotion.study.report_check import find_chromium

PHOTO = "13_Interview_Interview_2_People_Visible_13_241.jpg"
"""A WIDER validation photo with one large annotated face, which the Haar detector finds."""


@pytest.fixture(scope="module")
def app():
    from emotion.app.pipeline import EmotionPipeline
    from emotion.app.webapp import create_app

    if find_chromium() is None:
        pytest.skip("headless Chromium is not installed: `make setup-browser` installs Debian's chromium")
    # The released crop_cnn with OpenCV's bundled Haar detector: no data file needed besides the photo.
    return create_app(EmotionPipeline("haar", MODELS_DIR / "crop_cnn.keras"), samples={})


def test_uploading_a_photo_draws_a_labelled_box_per_face(app, real_data_root):
    from emotion.app.webapp_browser import capture_upload

    screenshot = BUILD_DIR / "webapp" / "upload.png"
    screenshot.unlink(missing_ok=True)
    shown = capture_upload(app, real_data_root / "faces" / "images" / PHOTO, screenshot)
    # Haar finds the photo's one face (and nothing else) at its settings; the page draws exactly that.
    assert shown["faces_rendered"] == 1 and len(shown["labels"]) == 1
    # Each label reads "<face number>: <emotion> <probability> %", e.g. "1: sad 26.3 %".
    assert all(label.split(": ", 1)[1].split()[0] in CLASS_NAMES for label in shown["labels"]), shown["labels"]
    assert shown["detector"] == "haar" and shown["model"].endswith("crop_cnn.keras")
    with (real_data_root / "faces" / "images" / PHOTO).open("rb") as upload:
        answer = app.test_client().post("/api/predict", data={"file": (upload, PHOTO)}).get_json()
    [face] = answer["files"][0]["faces"]
    x, y, width, height = (round(value) for value in face["box"])
    with Image.open(real_data_root / "faces" / "images" / PHOTO) as original:
        photo = np.asarray(original.convert("RGB")).astype(int)
    with Image.open(screenshot) as image:
        page = np.asarray(image.convert("RGB")).astype(int)
    # The box: 3 px of #ffc800; its top and bottom borders are the rows yellow across its whole width (the label
    # above it is narrower). The 1024-px photo is shown at its own size, so the box has the answer's size.
    yellow = np.all(page == (255, 200, 0), axis=-1)
    assert yellow.any(), "no face box drawn"
    rows, columns = np.nonzero(yellow)
    left, right = columns.min(), columns.max()
    bordered = np.nonzero(yellow[:, left:right + 1].all(axis=1))[0]
    top, bottom = bordered.min(), bordered.max()
    assert (right - left + 1, bottom - top + 1) == (width, height)
    # Around the box the page shows the uploaded photo itself, placed so that the box sits where the answer says.
    region = page[top - y:top - y + photo.shape[0], left - x:left - x + photo.shape[1]]
    assert region.shape == photo.shape
    visible = np.ones(photo.shape[:2], bool)
    visible[rows.min() - (top - y):bottom - (top - y) + 1, x:x + width] = False  # the label and the box
    visible[y + 3:y + height - 3, x + 3:x + width - 3] = True  # the face inside the box
    assert np.abs(region - photo)[visible].mean() < 2  # grey levels; another photo or place differs by tens


def test_a_missing_photo_is_reported_before_any_browser_starts(app, tmp_path):
    from emotion.app.webapp_browser import capture_upload
    from emotion.errors import DataMissingError

    with pytest.raises(DataMissingError, match="no such photo"):
        capture_upload(app, tmp_path / "absent.jpg", tmp_path / "shot.png")
