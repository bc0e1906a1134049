"""Build the study's static web report: an index page with the compact results (one row per model and per detector,
the key figures), a page with every headline number, a figure gallery linking to the notebook that made each figure,
and every executed notebook rendered to HTML.

The site opens from the file system with no server and loads nothing from the internet: notebook outputs are
embedded, and the scripts nbconvert adds (MathJax, require.js, mermaid, all from CDNs) are removed: the notebooks
need none of them.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from emotion.errors import DataMissingError
from emotion.paths import BUILD_DIR, FIGURES_DIR, NOTEBOOKS_DIR, RESULTS_DIR
from emotion.provenance import read_results
from emotion.study.notebooks import RUNTIMES_FILE, study_notebooks
from emotion.study.results import compact_results, cpu_legend, headline_rows

DEFAULT_OUTPUT = BUILD_DIR / "report"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", flags=re.IGNORECASE | re.DOTALL)
_REMOTE_LINK = re.compile(r"<link[^>]*\bhref=\"https?://[^\"]*\"[^>]*>", flags=re.IGNORECASE)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; max-width: 72rem;
       margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.5; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: 1.2rem; }
.gallery figure { margin: 0; border: 1px solid #ddd; padding: .5rem; background: #fff; }
.gallery img { width: 100%; height: auto; }
.gallery figcaption { font-size: .88rem; color: #444; }
.muted { color: #666; font-size: .9rem; }
"""


def render_notebook(notebook: Path) -> str:
    """Render an executed notebook to a self-contained HTML page (images embedded, no remote scripts)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_filename(str(notebook))
    body = _SCRIPT.sub("", body)  # MathJax, require.js and mermaid from CDNs; the notebooks need no scripts
    return _REMOTE_LINK.sub("", body)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(
    output_dir: Path = DEFAULT_OUTPUT,
    *,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    figures_dir: Path = FIGURES_DIR,
    results_dir: Path = RESULTS_DIR,
) -> Path:
    """Write the report into ``output_dir`` (replacing it) and return the path of its ``index.html``.

    Layout: ``index.html``, ``headline.html`` (:data:`HEADLINE_PAGE`), ``figures.html`` (:data:`FIGURES_PAGE`),
    ``notebooks/NN_slug.html``, ``figures/NN_slug.png``, ``results/*.json``.

    Raises:
        DataMissingError: there is no notebook to render.
    """
    notebooks = study_notebooks(notebooks_dir)
    if not notebooks:
        raise DataMissingError(f"no notebooks NN_slug.ipynb in {notebooks_dir}: nothing to report.")
    staging = output_dir.with_name(output_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    for sub in ("notebooks", "figures", "results"):
        (staging / sub).mkdir(parents=True)

    notebook_pages = {}
    for notebook in notebooks:
        page = staging / "notebooks" / f"{notebook.stem}.html"
        page.write_text(render_notebook(notebook), encoding="utf-8")
        notebook_pages[notebook.stem[:2]] = notebook.stem
    # Per-model runs of a parametrised notebook (notebooks/runs/03_train_<model>.ipynb): their figures end in
    # _<model> and link to the run that made them.
    variant_pages = {}
    runs = sorted((notebooks_dir / "runs").glob("[0-9][0-9]_*.ipynb"))
    for run in runs:
        (staging / "notebooks" / f"{run.stem}.html").write_text(render_notebook(run), encoding="utf-8")
        base = next((notebook.stem for notebook in notebooks if run.stem.startswith(notebook.stem + "_")), None)
        if base:
            variant_pages[(run.stem[:2], run.stem[len(base) + 1:])] = run.stem
    for result in sorted(results_dir.glob("*.json")):
        shutil.copyfile(result, staging / "results" / result.name)

    gallery = []
    for figure in sorted(figures_dir.glob("[0-9][0-9]_*.png")):
        shutil.copyfile(figure, staging / "figures" / figure.name)
        stem = next((page for (prefix, variant), page in variant_pages.items()
                     if figure.name[:2] == prefix and figure.stem.endswith("_" + variant)),
                    notebook_pages.get(figure.name[:2]))
        source = (f'made by <a href="notebooks/{stem}.html">{html.escape(stem)}</a>' if stem
                  else "made by a notebook that is not in this report")
        gallery.append(
            f'<figure><a href="figures/{figure.name}"><img src="figures/{figure.name}" '
            f'alt="{html.escape(figure.stem)}" loading="eager"></a>'
            f"<figcaption><code>{html.escape(figure.name)}</code>, {source}</figcaption></figure>"
        )

    headline = _table(
        ("quantity", "value", "split", "protocol", "source"),
        [(html.escape(q), html.escape(v), html.escape(s), html.escape(p),
          f'<a href="results/{html.escape(f)}">{html.escape(f)}</a> ({html.escape(m)})')
         for q, v, s, p, f, m, _ in headline_rows(results_dir)],
    )
    runtime_file = (read_results(RUNTIMES_FILE) if results_dir == RESULTS_DIR and RUNTIMES_FILE.is_file() else {})
    runtimes, cpus = runtime_file.get("notebooks", {}), runtime_file.get("cpus", {})
    # the CPU of the full-mode times shown (the study's CPU has changed between sessions)
    letters, cpu_note = cpu_legend([cpus.get(nb.stem, {}).get("full") for nb in notebooks
                                    if runtimes.get(nb.stem, {}).get("full") is not None])
    if len(letters) > 1:  # this table marks no cell; the README's does
        cpu_note = "These times come from different CPUs; the README's run-time table names the CPU of each."
    notebook_rows = [
        (f'<a href="notebooks/{nb.stem}.html">{html.escape(nb.stem)}</a>',
         html.escape(_first_heading(nb)),
         html.escape(_minutes(runtimes.get(nb.stem, {}).get("full"))))
        for nb in notebooks
    ] + [
        (f'<a href="notebooks/{run.stem}.html">{html.escape(run.stem)}</a>',
         html.escape(_first_heading(run)) + " (run for another model)", "")
        for run in runs
    ]
    import mistune

    # The index answers the study's question at a glance (one row per model and per detector, the key figures);
    # every headline number and every figure are one click away.
    compact = mistune.html(compact_results(results_dir, figures_dir, full_list_link=HEADLINE_PAGE))
    index = _page("Facial emotion recognition, reproduced: the study's report",
                  f"""<h1>Facial emotion recognition, reproduced</h1>
<p class="muted">A reproducible notebook study of a paper's face-detection and emotion-classification system on
FER2013. Every number below is read from a results file in <code>results/</code>; every figure links to the notebook
that made it.</p>
<p>The question: how well do the paper's detector choice (MTCNN over Viola-Jones and dlib) and its classifiers
(a basic CNN, ResNet-18/34/50) really perform when models are fit on Training, chosen on PublicTest and reported
once on PrivateTest, with confidence intervals, and which of the paper's claims hold?</p>
<h2>Results</h2>
{compact}
<p>Every figure, each linked to the notebook that made it: <a href="{FIGURES_PAGE}">{FIGURES_PAGE}</a>.</p>
<h2>Notebooks</h2>
{_table(("notebook", "question", "full-mode run time"), notebook_rows)}
{f'<p class="muted">{html.escape(cpu_note)}</p>' if cpu_note else ""}
<p class="muted">Built by <code>make report</code> from the committed notebooks, figures and results.</p>""")
    (staging / HEADLINE_PAGE).write_text(_page("Every headline number of the study",
                                               f"""<p><a href="index.html">Back to the report</a></p>
<h1>Every headline number of the study</h1>
{headline}"""), encoding="utf-8")
    (staging / FIGURES_PAGE).write_text(_page("Every figure of the study",
                                              f"""<p><a href="index.html">Back to the report</a></p>
<h1>Every figure of the study</h1>
<div class="gallery">
{chr(10).join(gallery)}
</div>"""), encoding="utf-8")
    (staging / "index.html").write_text(index, encoding="utf-8")
    shutil.rmtree(output_dir, ignore_errors=True)
    staging.replace(output_dir)
    return output_dir / "index.html"


HEADLINE_PAGE = "headline.html"
"""The report's page with every headline number (the index shows the compact tables)."""
FIGURES_PAGE = "figures.html"
"""The report's page with every figure (the index shows the key figures)."""


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
{body}
</body></html>
"""


def _first_heading(notebook: Path) -> str:
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    for cell in cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook.stem


def _minutes(seconds) -> str:
    return "not measured" if seconds is None else f"{seconds / 60:.1f} min"
