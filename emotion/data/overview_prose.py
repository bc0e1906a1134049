"""The sentences notebook 01 prints about the data (class balance, FER+ agreement, duplicates), each a tested
function of the results it states.
"""

from __future__ import annotations
