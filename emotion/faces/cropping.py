"""The crop the classifier sees: one detected face cut out of a photo as a square grayscale image, optionally levelled
by the eyes.

The pipeline (:mod:`emotion.app.pipeline`) and the batch face-cropping tool (:mod:`emotion.faces.crop_tool`) both
crop with :func:`crop_face`, so a face is cut out the same way for prediction and for building a data set.
"""

from __future__ import annotations

import math

import numpy as np

from emotion.faces.detectors import Face, prepare_image

CROP_SIZE = 48
DEFAULT_MARGIN = 0.15
"""Crops are squares of side ``max(w, h) * (1 + margin)`` around the box centre; FER2013's faces fill most of the
frame with a little forehead and chin around them."""


def crop_face(image: np.ndarray, face: Face, *, size: int = CROP_SIZE, margin: float = DEFAULT_MARGIN,
              align: bool = False) -> np.ndarray:
    """Cut one face out of an image as a square grayscale crop.

    Args:
        image: any form :func:`emotion.faces.detectors.prepare_image` accepts (RGB uint8 (h, w, 3) typically).
        face: the detection; with ``align=True`` its first two landmarks (the eyes) level the crop.
        size: side of the output in pixels.
        margin: extra context around the box, as a fraction of its longer side.
        align: rotate around the eyes' midpoint so that they are horizontal (faces without landmarks are
            cropped unrotated).

    Returns:
        uint8 (size, size). Parts of the square outside the image are filled by replicating the border.
    """
    import cv2

    gray = cv2.cvtColor(prepare_image(image), cv2.COLOR_RGB2GRAY)
    x, y, width, height = face.box
    centre = (x + width / 2, y + height / 2)
    side = max(width, height) * (1 + margin)
    angle = 0.0
    if align and face.landmarks is not None and len(face.landmarks) >= 2:
        (x0, y0), (x1, y1) = sorted(face.landmarks[:2])
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    scale = size / max(side, 1e-6)
    matrix = cv2.getRotationMatrix2D(centre, angle, scale)
    matrix[0, 2] += size / 2 - centre[0]
    matrix[1, 2] += size / 2 - centre[1]
    return cv2.warpAffine(gray, matrix, (size, size), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
