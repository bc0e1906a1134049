"""The web app in a real browser: headless Chromium driven by Playwright uploads a photo through the page's form
and the page draws a box and a label for each face. Needs Debian's chromium (`make setup-browser`) and the WIDER
photos under EMOTION_DATA; skips, saying why, without them."""

import pytest

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
    assert screenshot.is_file() and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(screenshot) as image:
        # The page shows the uploaded photo: thousands of colours, where a blank or error page has a handful.
        assert len(image.convert("RGB").getcolors(maxcolors=2**24)) > 1000


def test_a_missing_photo_is_reported_before_any_browser_starts(app, tmp_path):
    from emotion.errors import DataMissingError
    from emotion.app.webapp_browser import capture_upload

    with pytest.raises(DataMissingError, match="no such photo"):
        capture_upload(app, tmp_path / "absent.jpg", tmp_path / "shot.png")
