"""The sentences notebook 06 prints about the end-to-end pipeline (where its time goes, its speed against `fer`),
each a tested function of the results it states.
"""

from __future__ import annotations
