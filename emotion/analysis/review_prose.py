"""The sentences notebook 07 prints in the methodology review (seeds, selection bias, training experiments), each a
tested function of the results it states.
"""

from __future__ import annotations
