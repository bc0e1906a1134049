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
    from emotion.paths import FIGURES_DIR
    from emotion.study.notebooks import study_notebooks
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
    # Under the run times, the CPU they were measured on (the study's CPU has changed between sessions).
    assert ("All times measured on: " in index or "These times come from different CPUs" in index
            or "The CPU of these times was not recorded" in index)


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
    import re

    import numpy as np
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (1280, 2000)
        page = np.asarray(image.convert("RGB")).astype(int)
    # The report's style lays the page out in a 72rem (1152 px) column centred in the 1280-px window; a rule of the
    # page's own colours runs exactly across that column, with white on either side.
    left, right = (1280 - 1152) // 2, (1280 + 1152) // 2

    def rules(colour):
        across = np.all(page[:, left:right] == colour, axis=-1).all(axis=1)
        outside = np.all(page[:, [left - 1, right]] == 255, axis=(1, 2))
        return np.nonzero(across & outside)[0]

    assert len(rules((221, 221, 221))) >= 1, "no heading ruled in #ddd across the column"
    # The models table comes first and fills the column: a #ccc line above each of its rows and below the last, one
    # row apart (the tables after it, such as the budget curves, add their own lines further down, after a
    # paragraph), and below the top line the header row shaded #f3f3f3 in every cell, between the cells' #ccc borders.
    table = re.search(r"<table>.*?</table>", (site / "index.html").read_text(), flags=re.DOTALL).group(0)
    lines = rules((204, 204, 204))
    rows = table.count("<tr>")
    assert len(lines) >= rows + 1 and np.all(np.diff(lines[:rows + 1]) < 80)
    assert len(lines) == rows + 1 or lines[rows + 1] - lines[rows] >= 80, "the models table has more lines than rows"
    header = page[lines[0] + 1, left:right]
    assert np.all(header == (243, 243, 243), axis=-1).sum() == 1152 - (table.count("<th>") + 1)


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
