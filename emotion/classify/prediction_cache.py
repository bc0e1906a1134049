"""A cache of a stored model file's class probabilities, so that re-running a notebook does not predict again.

Notebook 05's ensemble section predicts PublicTest and PrivateTest with every released ``.keras`` file (about ten
minutes of its run on the study's 2-core CPU), its choice of test-time augmentation makes a ten-crop pass over
PublicTest with the best release (about four minutes), and notebook 06 predicts every release on PublicTest,
PrivateTest and CK+ (about five); nothing of that changes until a file, the images, the test-time augmentation or the
software does. Each entry is keyed by all four: the SHA-256 of the model file's bytes and of the images' bytes, the
TTA mode, and the TensorFlow and Keras versions with :data:`VIEWS_VERSION` and the ten-crop shift (the study's own
view code), so a retrained release, another split, an upgrade or a change to the views misses the cache and predicts
afresh. Entries live under ``build/predictions/`` (ignored by git; delete the
folder to clear it) and are written atomically, so an interrupted run leaves no half-written entry.

Setting ``EMOTION_PREDICTION_CACHE=off`` turns the cache off; ``python -m emotion run-notebooks --record-times`` does,
so the run times it records are those of a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emotion.paths import BUILD_DIR

PREDICTION_CACHE_DIR = BUILD_DIR / "predictions"
"""Where :func:`cached_probabilities` and :func:`cached_modes` keep their entries."""
VIEWS_VERSION = 1
"""Part of every key: raise it when :func:`emotion.classify.evaluate.tta_views`, the way views are averaged, or the
way a stored file is loaded for prediction changes, so that no entry of the old code is read."""
CACHE_VARIABLE = "EMOTION_PREDICTION_CACHE"
"""The environment variable that turns the cache off ("off", "0", "no" or "false")."""


DEFAULT_CACHE = object()
"""The ``cache_dir`` of a caller that was given none: :func:`default_cache_dir`, resolved when called, so that
:data:`CACHE_VARIABLE` set after import still counts."""


def default_cache_dir() -> Path | None:
    """:data:`PREDICTION_CACHE_DIR`, or None where :data:`CACHE_VARIABLE` turns the cache off."""
    off = os.environ.get(CACHE_VARIABLE, "").strip().lower() in ("off", "0", "no", "false")
    return None if off else PREDICTION_CACHE_DIR


def file_digest(path: Path | str, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def entry_key(model_digest: str, images: np.ndarray, tta: str) -> str:
    """The cache key of one model file's probabilities on ``images`` with test-time augmentation ``tta``."""
    import keras
    import tensorflow as tf

    from emotion.classify.evaluate import TENCROP_SHIFT

    images = np.ascontiguousarray(images)
    digest = hashlib.sha256()
    for part in (model_digest, str(images.dtype), str(images.shape), tta, tf.__version__, keras.__version__,
                 f"views {VIEWS_VERSION}, shift {TENCROP_SHIFT}"):
        digest.update(part.encode() + b"\0")
    digest.update(images.tobytes())
    return digest.hexdigest()[:32]


def cached_probabilities(model_path: Path | str, splits: dict[str, np.ndarray], tta: str,
                         predict: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
                         cache_dir: Path | str | None = PREDICTION_CACHE_DIR) -> dict[str, np.ndarray]:
    """The probabilities of the model file ``model_path`` on each split of ``splits``, from the cache where it has
    them and from ``predict`` (given only the splits the cache lacks; it loads the model, so a full hit never does)
    otherwise, which are then stored. ``cache_dir=None`` always predicts and stores nothing.

    Returns:
        ``{split: float32 (n, classes)}`` in the order of ``splits``.
    """
    digest = None if cache_dir is None else _digest_or_none(model_path)
    if digest is None:  # no cache, or no readable file: ``predict`` reports the file as it would uncached
        return predict(dict(splits))
    cache_dir = Path(cache_dir)
    paths = {split: cache_dir / f"{entry_key(digest, images, tta)}.npy" for split, images in splits.items()}
    found = {split: values for split, values in ((split, _read(path, len(splits[split])))
                                                  for split, path in paths.items()) if values is not None}
    missing = {split: images for split, images in splits.items() if split not in found}
    if missing:
        computed = predict(missing)
        _store(cache_dir, {paths[split]: values for split, values in computed.items()})
        found.update(computed)
    return {split: np.asarray(found[split], dtype=np.float32) for split in splits}


def cached_modes(model_path: Path | str, images: np.ndarray, modes: tuple[str, ...],
                 predict: Callable[[np.ndarray], dict[str, np.ndarray]],
                 cache_dir: Path | str | None = PREDICTION_CACHE_DIR) -> dict[str, np.ndarray]:
    """The probabilities of ``model_path`` on ``images`` with each test-time augmentation of ``modes``, all from the
    cache, or all from one call of ``predict(images)`` (which returns every mode of one pass, as
    :func:`emotion.classify.evaluate.probabilities_by_tta` does), which are then stored. Each mode is stored under its
    own key (:func:`entry_key`), so an entry :func:`cached_probabilities` wrote for that mode serves here and the other
    way round. ``cache_dir=None`` always predicts and stores nothing.

    Returns:
        ``{mode: float32 (n, classes)}`` for every mode of ``modes``.
    """
    digest = None if cache_dir is None else _digest_or_none(model_path)
    if digest is None:
        computed = predict(images)
        return {mode: np.asarray(computed[mode], dtype=np.float32) for mode in modes}
    cache_dir = Path(cache_dir)
    paths = {mode: cache_dir / f"{entry_key(digest, images, mode)}.npy" for mode in modes}
    found = {mode: _read(path, len(images)) for mode, path in paths.items()}
    if all(values is not None for values in found.values()):
        return {mode: np.asarray(found[mode], dtype=np.float32) for mode in modes}
    computed = predict(images)
    _store(cache_dir, {paths[mode]: computed[mode] for mode in modes})
    return {mode: np.asarray(computed[mode], dtype=np.float32) for mode in modes}


def _digest_or_none(model_path: Path | str) -> str | None:
    """:func:`file_digest`, or None where the file is missing or cannot be read (then the caller predicts, and
    loading the model reports the file as a :class:`emotion.errors.ModelFileError`)."""
    try:
        return file_digest(model_path) if Path(model_path).is_file() else None
    except OSError:
        return None


def _store(cache_dir: Path, entries: dict[Path, np.ndarray]) -> None:
    """Write each entry atomically; an unwritable cache is reported, never raised: it costs the next run its time,
    never this run its results."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for path, values in entries.items():
            _write_atomically(path, np.asarray(values, dtype=np.float32))
    except OSError as error:
        print(f"note: the prediction cache {cache_dir} could not be written ({error}); predicting without it",
              flush=True)


def _read(path: Path, rows: int) -> np.ndarray | None:
    """An entry's probabilities, or None when it is absent, unreadable or of the wrong shape (then predicted again
    and overwritten)."""
    try:
        values = np.load(path) if path.is_file() else None
    except (OSError, ValueError, EOFError):  # EOFError: an empty file
        return None
    return values if values is not None and values.ndim == 2 and len(values) == rows else None


def _write_atomically(path: Path, values: np.ndarray) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npy.part")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, values)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
