"""The sentences notebook 05 prints about the evaluation (per-class scores, confusions, out-of-distribution data,
the claims ledger), each a tested function of the results it states.
"""

from __future__ import annotations
