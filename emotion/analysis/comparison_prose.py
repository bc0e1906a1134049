"""The sentences notebook 04 prints comparing the released models (accuracy, curves, cost, levers), each a tested
function of the results it states.
"""

from __future__ import annotations
