"""Results files with provenance: writing and reading ``results/NN_slug.json``.

Every results file is ``{"meta": {...}, ...numbers...}``; ``meta`` (:func:`provenance`) records the git commit,
package versions, seed, mode, the machine and the time of the run.

Part of the package's base (every stage may import it; it imports nothing of the study's stages). The tables the
README shows from these files are made in :mod:`emotion.study.results`.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from emotion.errors import DataFormatError
from emotion.machine import kernel_record
from emotion.paths import PROJECT_ROOT

VERSIONED_PACKAGES = (
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "opencv-python-headless",
    "dlib-bin",
    "mtcnn",
    "numpy",
    "scikit-learn",
    "pandas",
    "papermill",
)
MODES = ("smoke", "full")


def package_versions() -> dict[str, str]:
    """Return ``{"python": ..., package: version}`` for the study's key packages that are installed."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


CODE_PATHS = ("emotion", "notebooks/scripts", "pyproject.toml", "requirements.lock", "Makefile")
"""What decides a number: the package, the notebooks' sources (their plain-text twins), the dependencies and the
Makefile. A full run rewrites results/, figures/ and the executed notebooks itself, so changes there do not make the
code that wrote a results file uncommitted."""


def git_commit(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Return ``{"commit": sha or None, "dirty": bool or None, "dirty_paths": [...]}`` for the repository at ``root``:
    ``dirty`` when a file under :data:`CODE_PATHS` differs from the commit (untracked files are not counted), so a
    results file says whether the committed code wrote it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS],
            cwd=root, capture_output=True, text=True, check=True, timeout=10,
        ).stdout
        changed = sorted(line[3:] for line in status.splitlines() if line.strip())
        return {"commit": commit, "dirty": bool(changed), "dirty_paths": changed[:20]}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None, "dirty_paths": None}


def provenance(mode: str, seed: int) -> dict[str, Any]:
    """Return the ``meta`` block of a results file: commit, versions, seed, mode, platform, the machine (CPU model,
    the cores the process may use, native bfloat16, whether TensorFlow's oneDNN kernels were on: None when the process
    never loaded TensorFlow; :func:`emotion.machine.kernel_record`) and UTC time.

    Raises:
        ValueError: ``mode`` is not ``smoke`` or ``full``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return {
        **git_commit(),
        "mode": mode,
        "seed": int(seed),
        "versions": package_versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        **kernel_record(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_results(path: Path | str, payload: dict[str, Any], *, mode: str, seed: int) -> Path:
    """Write ``{"meta": provenance(mode, seed), **payload}`` as JSON to ``path`` atomically and return the path.

    Raises:
        ValueError: ``payload`` has a ``meta`` key, holds a NaN/infinite number or something JSON cannot encode.
    """
    if "meta" in payload:
        raise ValueError("payload must not have a 'meta' key: it is added here")
    path = Path(path)
    document = {"meta": provenance(mode, seed), **payload}
    text = json.dumps(document, indent=2, allow_nan=False, default=json_default)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(text + "\n")
    temporary.replace(path)
    return path


def json_default(value: Any) -> Any:
    """JSON fallback for numpy scalars and arrays."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_results(path: Path | str) -> dict[str, Any]:
    """Read a results file; raises DataFormatError naming the file when it is not valid JSON with ``meta``."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataFormatError(f"{path}, line {error.lineno}: not valid JSON ({error.msg}).") from error
    if not isinstance(document, dict) or "meta" not in document:
        raise DataFormatError(f"{path}: a results file must be a JSON object with a 'meta' block.")
    return document
