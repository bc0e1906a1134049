"""Argparse types and protocol constants that several command modules share."""

from __future__ import annotations

import argparse

PEER_PHOTOS = 50
"""WIDER photos of the peer comparison's end-to-end part (the protocol of results/07_peer_comparison.json)."""
PEER_RUNS = 5
"""Runs of the peer comparison's end-to-end part, its two sides interleaved: on the study's shared 2-vCPU machine our
photos per second moved between about 27 and 38 from one run to the next, so one run cannot carry a speed claim."""
LOAD_REQUESTS, LOAD_CONCURRENCY = 200, 8
"""The web app's load-test protocol (results/07_webapp_load.json): requests sent, and how many at once."""


def bounded(convert, accept, what: str):
    """An argparse ``type`` that converts with ``convert`` and accepts a value when ``accept(value)``; anything else
    is refused with ``'<text>' is not <what>``."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value
    return parse


port = bounded(int, lambda value: 1 <= value <= 65535, "a port number (1-65535)")
at_least_one = bounded(int, lambda value: value >= 1, "a whole number of at least 1")
positive_seconds = bounded(float, lambda value: value > 0, "a positive number of seconds")
