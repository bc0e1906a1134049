"""The static web report: built from the committed notebooks, figures and results; checked in headless Chromium."""

from __future__ import annotations

import shutil

import pytest

from emotion.paths import BUILD_DIR
from emotion.study.report import build_report
from emotion.study.report_check import browser_problems, find_chromium, static_problems


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_report(tmp_path_factory.mktemp("report") / "site").parent


def test_report_has_every_notebook_figure_and_no_remote_resource(site):
    from emotion.study.notebooks import study_notebooks
    from emotion.paths import FIGURES_DIR

    from emotion.study.results import KEY_FIGURES, headline_rows

    index = (site / "index.html").read_text()
    for notebook in study_notebooks():
        assert (site / "notebooks" / f"{notebook.stem}.html").is_file()
        assert f'href="notebooks/{notebook.stem}.html"' in index
    # The index: one table row per model and per detector, the key figures, links to the two full pages.
    assert "<th>PrivateTest accuracy [95 % CI]</th>" in index and "<th>AP hard</th>" in index
    assert [name for name, _ in KEY_FIGURES if f'src="figures/{name}"' in index] == [name for name, _ in KEY_FIGURES]
    assert 'href="headline.html"' in index and 'href="figures.html"' in index
    gallery = (site / "figures.html").read_text()
    for figure in FIGURES_DIR.glob("[0-9][0-9]_*.png"):
        assert f'src="figures/{figure.name}"' in gallery
    assert (site / "headline.html").read_text().count("<tr>") == len(headline_rows()) + 1
    assert static_problems(site) == []
    assert "cdnjs" not in (site / "notebooks" / "01_data_overview.html").read_text()


def test_static_check_finds_a_missing_figure_and_a_remote_script(site, tmp_path):
    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    next(broken.glob("figures/*.png")).unlink()
    page = broken / "index.html"
    page.write_text(page.read_text().replace("</body>", '<script src="https://cdn.example.org/x.js"></script></body>'))
    problems = static_problems(broken)
    assert any("points at missing figures/" in problem for problem in problems)
    assert any("from the internet" in problem for problem in problems)


@pytest.fixture(scope="module")
def chromium():
    found = find_chromium()
    if found is None:
        pytest.skip("headless Chromium is not installed: `make setup-browser` installs Debian's chromium")
    return found


def test_every_page_loads_in_chromium_with_every_image(site, chromium):
    screenshot = BUILD_DIR / "report_screenshot.png"
    assert browser_problems(site, screenshot, chromium) == []
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (1280, 2000)
        # A rendered page of text and tables: hundreds of anti-aliased colours and a few per cent of inked pixels,
        # where a blank page has one colour.
        colours = image.convert("RGB").getcolors(maxcolors=2**24)
        white = max(count for count, colour in colours if colour == (255, 255, 255))
        assert len(colours) > 100 and white < 0.97 * image.size[0] * image.size[1]


def test_browser_check_catches_an_undecodable_image(site, chromium, tmp_path):
    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    next(broken.glob("figures/*.png")).write_bytes(b"not a png")
    problems = browser_problems(broken, tmp_path / "shot.png", chromium)
    assert any("figures.html: 1 image(s) failed to load" in problem for problem in problems)


def test_a_per_model_run_gets_its_own_page_and_its_figures_link_to_it(tmp_path):
    notebooks, figures, results = tmp_path / "notebooks", tmp_path / "figures", tmp_path / "results"
    for folder in (notebooks / "runs", figures, results):
        folder.mkdir(parents=True)
    for path in (notebooks / "03_train.ipynb", notebooks / "runs" / "03_train_resnet34.ipynb"):
        shutil.copyfile("notebooks/03_train.ipynb", path)
    shutil.copyfile("figures/03_augmentation.png", figures / "03_training_curves_resnet34.png")
    shutil.copyfile("figures/03_augmentation.png", figures / "03_augmentation.png")
    index = build_report(tmp_path / "site", notebooks_dir=notebooks, figures_dir=figures, results_dir=results)
    text = (index.parent / "figures.html").read_text()
    assert (index.parent / "notebooks" / "03_train_resnet34.html").is_file()
    assert 'href="notebooks/03_train_resnet34.html">03_train_resnet34</a>' in index.read_text()
    curves = text.split("03_training_curves_resnet34.png</code>")[1][:120]
    assert "03_train_resnet34.html" in curves
    augmentation = text.split("03_augmentation.png</code>")[1][:120]
    assert 'notebooks/03_train.html"' in augmentation
