"""The sentences notebook 03 prints about a training run (its curve, chosen epoch, epoch cost, input pipeline), each a
tested function of the results it states.
"""

from __future__ import annotations
