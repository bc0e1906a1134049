"""Commands of the data stage: ``check-data`` and ``build-wider-subset``."""

# Handlers import their stage lazily so that `python -m emotion --help` stays fast.
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emotion.paths import data_root


def register(commands) -> None:
    """Add this stage's sub-parsers to ``commands`` (an argparse sub-parsers action)."""
    check = commands.add_parser("check-data", help="verify $EMOTION_DATA, say which notebooks can run and how to "
                                "obtain what is missing")
    check.add_argument("--data", help="data root (default: $EMOTION_DATA, else data/raw)")
    check.set_defaults(handler=_check_data)

    wider = commands.add_parser("build-wider-subset", help="rebuild $EMOTION_DATA/faces (the 700-image WIDER FACE "
                                "val subset) from the official WIDER FACE downloads")
    wider.add_argument("--wider-val", required=True, metavar="DIR",
                       help="the unzipped WIDER_val.zip: the folder holding WIDER_val/images/<event>/<file>.jpg")
    wider.add_argument("--ground-truth", required=True, nargs="+", metavar="DIR",
                       help="folder(s) searched for wider_face_val.mat (wider_face_split.zip) and "
                            "wider_{easy,medium,hard}_val.mat (eval_tools.zip)")
    wider.add_argument("--out", metavar="DIR", help="the folder to create (default: $EMOTION_DATA/faces)")
    wider.add_argument("--replace", action="store_true",
                       help="replace --out if it exists, once the new one is complete")
    wider.set_defaults(handler=_build_wider_subset)


def _check_data(arguments: argparse.Namespace) -> int:
    from emotion.data.datacheck import blocked_notebooks, check_data, format_report

    root = Path(arguments.data).resolve() if arguments.data else data_root()
    items = check_data(root)
    print(format_report(root, items))
    missing = [item.name for item in items if item.required and not item.ok]
    if missing:
        print(f"\nRequired data missing or malformed: {', '.join(missing)}. Notebooks "
              f"{', '.join(name[:2] for name in blocked_notebooks(items))} cannot run without it, so `make figures` "
              "stops here; the instructions above say how to obtain it.", file=sys.stderr)
        return 1
    return 0


def _build_wider_subset(arguments: argparse.Namespace) -> int:
    from emotion.data.wider_subset import build_wider_subset

    out = Path(arguments.out) if arguments.out else data_root() / "faces"
    summary = build_wider_subset(arguments.wider_val, arguments.ground_truth, out, replace=arguments.replace)
    print(f"Wrote {summary.folder}: {summary.images} images ({summary.image_bytes / 1e6:.1f} MB, sha256 verified), "
          f"{summary.faces:,} faces; images.csv, annotations.csv and widerface_eval/ equal the study's copies."
          + ("" if summary.readme_copied else " widerface_eval/wider_face_split_readme.txt was not written: no "
             "readme.txt lies beside wider_face_val.mat (it only explains the attribute codes)."))
    return 0
