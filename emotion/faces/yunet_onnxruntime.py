"""YuNet run by onnxruntime instead of OpenCV's DNN module: the same network and the same decoding, about twice as
fast on the study's CPU (measured by ``python -m emotion tune-pipeline``; same faces, tested against
``cv2.FaceDetectorYN``).

The 2023mar ONNX file fixes its input at 640x640; OpenCV reshapes the network for every image size, onnxruntime
does not. :func:`free_image_size` rewrites the graph's input and output shapes as symbolic (every reshape inside
already uses -1), so one session takes any size. Decoding follows OpenCV's ``FaceDetectorYN`` (``face_detect.cpp``,
4.8+): the image is padded at the bottom and right to a multiple of 32, and at each stride s of 8, 16 and 32 the
anchor of grid cell (row r, column c) scores ``sqrt(clip(cls) * clip(obj))``, is centred at ``((c + dx) s,
(r + dy) s)`` with size ``(exp(dw) s, exp(dh) s)``, and has five landmarks ``((c + lx) s, (r + ly) s)``. Boxes go
through ``cv2.dnn.NMSBoxes`` with the score and NMS thresholds and ``top_k``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotion.errors import DataMissingError

STRIDES = (8, 16, 32)
"""The feature strides of YuNet's three heads."""
PAD_MULTIPLE = 32
"""Images are padded (bottom and right, zeros) to a multiple of this, as OpenCV pads them."""
SESSION_CONFIG = {"session.intra_op.allow_spinning": "0"}
"""onnxruntime session settings: its intra-op threads sleep instead of spinning between runs. By default they spin
on every core for a while after each run, waiting for the next; in the pipeline the next piece of work is the
classifier on the same cores, which the spinning slows (``python -m emotion peer-compare`` records each stage's
time per photo)."""


def free_image_size(model_bytes: bytes) -> bytes:
    """The ONNX model with a symbolic height and width on its input and a symbolic anchor count on its outputs."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in model.graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = "anchors"
    del model.graph.value_info[:]  # the 640x640 shapes of the intermediate tensors
    return model.SerializeToString()


class YuNetOnnxRuntime:
    """One onnxruntime session of YuNet for images of any size.

    Args:
        model_path: the ``face_detection_yunet_2023mar.onnx`` file.
        threads: onnxruntime's intra-op threads (default: every core).

    Raises:
        DataMissingError: onnxruntime or onnx is not installed (the message says how to install them).
    """

    def __init__(self, model_path: Path | str, threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise DataMissingError(f"the onnxruntime backend of YuNet needs onnxruntime and onnx ({error}); run "
                                   "`make setup`, or use backend='opencv'.") from error
        import os

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3  # errors only
        # no spinning between runs: the classifier that runs next needs the cores (see SESSION_CONFIG)
        for key, value in SESSION_CONFIG.items():
            options.add_session_config_entry(key, value)
        self.session = onnxruntime.InferenceSession(free_image_size(Path(model_path).read_bytes()), options,
                                                    providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]

    def raw_outputs(self, bgr: np.ndarray) -> dict[str, np.ndarray]:
        """The network's twelve outputs (``cls_8`` ... ``kps_32``) for one uint8 BGR (h, w, 3) image."""
        height, width = bgr.shape[:2]
        padded_height = -(-height // PAD_MULTIPLE) * PAD_MULTIPLE
        padded_width = -(-width // PAD_MULTIPLE) * PAD_MULTIPLE
        blob = np.zeros((1, 3, padded_height, padded_width), np.float32)
        blob[0, :, :height, :width] = bgr.transpose(2, 0, 1)
        outputs = self.session.run(self.output_names, {self.input_name: blob})
        return {"padded_width": padded_width, **dict(zip(self.output_names, outputs))}

    def detect(self, bgr: np.ndarray, score_threshold: float, nms_threshold: float, top_k: int) -> np.ndarray:
        """Faces in one uint8 BGR image as ``cv2.FaceDetectorYN.detect`` returns them: float32 (n, 15) rows of
        x, y, w, h, five landmark (x, y) pairs, score; highest score first."""
        return decode(self.raw_outputs(bgr), score_threshold, nms_threshold, top_k)


def decode(outputs: dict[str, np.ndarray], score_threshold: float, nms_threshold: float, top_k: int) -> np.ndarray:
    """Turn YuNet's raw outputs (:meth:`YuNetOnnxRuntime.raw_outputs`) into NMS-filtered (n, 15) face rows."""
    import cv2

    rows = []
    for stride in STRIDES:
        columns = outputs["padded_width"] // stride
        score = np.sqrt(np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
                        * np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1))
        kept = np.flatnonzero(score >= score_threshold)
        row, column = np.divmod(kept, columns)
        box = outputs[f"bbox_{stride}"][0][kept]
        points = outputs[f"kps_{stride}"][0][kept]
        width, height = np.exp(box[:, 2]) * stride, np.exp(box[:, 3]) * stride
        centre_x, centre_y = (column + box[:, 0]) * stride, (row + box[:, 1]) * stride
        landmarks = np.stack([(points[:, 0::2] + column[:, None]) * stride,
                              (points[:, 1::2] + row[:, None]) * stride], axis=2).reshape(-1, 10)
        rows.append(np.column_stack([centre_x - width / 2, centre_y - height / 2, width, height, landmarks,
                                     score[kept]]))
    faces = np.concatenate(rows).astype(np.float32)
    if not len(faces):
        return faces.reshape(0, 15)
    keep = cv2.dnn.NMSBoxes(faces[:, :4].tolist(), faces[:, 14].tolist(), float(score_threshold),
                            float(nms_threshold), top_k=int(top_k))
    return faces[np.asarray(keep, dtype=int).reshape(-1)]
