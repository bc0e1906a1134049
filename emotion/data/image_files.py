"""Read the image files people actually have into RGB ``uint8`` arrays, or say clearly why a file is unusable.

Handles JPEG, PNG, BMP, WebP and GIF (first frame), EXIF orientation (phone photos), grayscale, palette, RGBA
(alpha dropped), 16-bit and 32-bit integer images (scaled to 8 bits), and refuses empty, corrupt or non-image files
and images beyond :data:`MAX_PIXELS` (checked from the header, before decoding) with an :class:`ImageFileError`
that names the file. :func:`read_image_file` reads a path, :func:`read_image_bytes` an upload held in memory,
:func:`read_grayscale_file` a path as one 8-bit channel. This is the study's one image reader: the WIDER benchmark, the
pipeline, the web app, CK+ and AffectNet all decode through it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from emotion.errors import DataFormatError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")
"""File name endings :func:`find_images` collects from folders (case-insensitive)."""

MAX_PIXELS = 100_000_000
"""Images with more pixels than this (about 10,000 x 10,000) are refused rather than risk running out of memory."""

_EMPTY = "{name}: the file is empty (0 bytes)."


class ImageFileError(DataFormatError):
    """A file that cannot be used as an image; the message names the file and the reason."""


def read_image_file(path: Path | str, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file as RGB ``uint8 (h, w, 3)``, upright according to its EXIF orientation.

    Raises:
        ImageFileError: the file does not exist, is empty, is not a decodable image, or has more than
            ``max_pixels`` pixels (default :data:`MAX_PIXELS`).
    """
    path = Path(path)
    if not path.is_file():
        raise ImageFileError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise ImageFileError(_EMPTY.format(name=path))
    return _decode(path, str(path), max_pixels)


def read_grayscale_file(path: Path | str, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """:func:`read_image_file` as grayscale ``uint8 (h, w)`` (ITU-R 601-2 luma, Pillow's ``"L"``; a grayscale file's
    own pixel values are returned unchanged).

    Raises:
        ImageFileError: as :func:`read_image_file`.
    """
    from PIL import Image

    return np.asarray(Image.fromarray(read_image_file(path, max_pixels=max_pixels)).convert("L"), dtype=np.uint8)


def read_image_bytes(data: bytes, name: str, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode the bytes of an image file held in memory (an upload) exactly as :func:`read_image_file` decodes a
    file; nothing is written to disk.

    Args:
        data: the file's content.
        name: what error messages call it (the upload's file name).
        max_pixels: refuse images with more pixels than this, before decoding them.

    Returns:
        RGB ``uint8 (h, w, 3)``, upright according to the EXIF orientation.

    Raises:
        ImageFileError: the content is empty, not a decodable image, or has more than ``max_pixels`` pixels.
    """
    if not data:
        raise ImageFileError(_EMPTY.format(name=name))
    return _decode(io.BytesIO(data), name, max_pixels)


def _decode(source: Path | io.BytesIO, name: str, max_pixels: int) -> np.ndarray:
    """Decode ``source`` (a path or an in-memory file); the size is checked from the header, before decoding."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(source) as opened:
            width, height = opened.size
            if width * height > max_pixels:
                raise ImageFileError(_too_large(name, f"{width}x{height} pixels", max_pixels))
            opened.seek(0)  # the first frame of an animated GIF or WebP
            image = ImageOps.exif_transpose(opened)
            array = _to_rgb_uint8(image)
    except ImageFileError:
        raise
    except Image.DecompressionBombError as error:  # beyond Pillow's own limit, raised while reading the header
        pixels = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "the image"
        raise ImageFileError(_too_large(name, size, max_pixels)) from error
    except UnidentifiedImageError as error:
        raise ImageFileError(f"{name}: not a readable image (the content is in no image format Pillow knows"
                             f"{_text_hint(source)}). Supported: {', '.join(IMAGE_SUFFIXES)}.") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageFileError(f"{name}: not a readable image ({type(error).__name__}: {error}). Supported: "
                             f"{', '.join(IMAGE_SUFFIXES)}.") from error
    return array


def _too_large(name: str, size: str, max_pixels: int) -> str:
    return f"{name}: {size} is larger than the {max_pixels:,}-pixel limit; downscale it first."


def _text_hint(source: Path | io.BytesIO) -> str:
    """``"; it is text (SVG, HTML or XML?), not a photo"`` when the content starts like markup, else ``""``."""
    if isinstance(source, io.BytesIO):
        head = source.getvalue()[:512]
    else:
        with open(source, "rb") as file:
            head = file.read(512)
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return "; it is text (SVG, HTML or XML?), not a photo" if head.startswith(b"<") else ""


def _to_rgb_uint8(image) -> np.ndarray:
    """Convert a Pillow image of any mode to an RGB uint8 array; 16- and 32-bit integers are scaled to 8 bits."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() <= 65535 else values.max()
        gray = np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        span = max(values.max() - values.min(), 1e-12)
        gray = np.round((values - values.min()) / span * 255.0).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def find_images(paths: list[Path | str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and folders (recursively, sorted) into image files.

    Returns:
        ``(images, problems)``: the files to process, and ``(path, reason)`` for each named path that does not
        exist. A file named explicitly is kept whatever its ending (reading it will say if it is not an image).
    """
    images, problems = [], []
    for entry in map(Path, paths):
        if entry.is_dir():
            images += sorted(path for path in entry.rglob("*")
                             if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
        elif entry.is_file():
            images.append(entry)
        else:
            problems.append((entry, "no such file or folder"))
    return images, problems
