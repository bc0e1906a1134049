"""The machine the study runs on: its CPU, its cores, the CPU time spent, and TensorFlow's fast kernels.

Part of the package's base (every stage may import it; it imports nothing of the study's).

TensorFlow's oneDNN kernels: TensorFlow 2.9 and newer turn them on by default only on x86 CPUs with AVX512_VNNI,
AVX512_BF16, AVX_VNNI or AMX. On an AVX2-only CPU they stay off unless ``TF_ENABLE_ONEDNN_OPTS=1`` is in the
environment *before* TensorFlow is imported, and TensorFlow then falls back to generic kernels several times slower
for convolutions (measured on a 2-core AVX2 EPYC: ResNet-18 epochs 3.6x slower). ``import emotion`` therefore sets
it (:func:`enable_onednn`) unless the user set it; an explicit ``TF_ENABLE_ONEDNN_OPTS=0`` is respected.
"""

from __future__ import annotations

import os
import resource
import sys
import warnings
from pathlib import Path
from typing import Any

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
"""The environment variable TensorFlow reads once, when it loads, to turn its oneDNN kernels on ("1") or off ("0")."""

ONEDNN_DEFAULT_CPU_FLAGS = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")
"""CPU flags (as in /proc/cpuinfo) on which TensorFlow turns oneDNN on by itself when the variable is unset."""

NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
"""CPU flags of the instruction sets that do bfloat16 matrix products in hardware."""

_warned_late_import = False


def cpuinfo() -> str:
    """The text of /proc/cpuinfo, or "" where the machine has none."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_flags(info: str | None = None) -> set[str]:
    """The CPU's feature flags (``info``: the text of /proc/cpuinfo; default: read it)."""
    flags: set[str] = set()
    for line in (cpuinfo() if info is None else info).splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return flags


def cpu_model(info: str | None = None) -> str:
    """The CPU's model name from /proc/cpuinfo (``info``), or "unknown"."""
    text = cpuinfo() if info is None else info
    return next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                "unknown")


def cpu_has_native_bf16(info: str | None = None) -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (:data:`NATIVE_BF16_CPU_FLAGS`).

    Args:
        info: the text of /proc/cpuinfo (default: read it; a machine without it counts as not native).
    """
    flags = cpu_flags(info)
    return any(flag in flags for flag in NATIVE_BF16_CPU_FLAGS)


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS tells, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def busy_cpu_seconds() -> float | None:
    """CPU-seconds the whole machine has spent busy since boot (``/proc/stat``: every state but idle and iowait), or
    None where ``/proc/stat`` does not exist."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


REFERENCE_ELEMENTS = 1_000_000
"""Size of the fixed workload of :func:`reference_speed`."""


def reference_speed(repeats: int = 20) -> float:
    """How fast this machine runs a fixed single-threaded workload now, in million elements per second (the best of
    ``repeats`` timings of square roots, products and a sum over :data:`REFERENCE_ELEMENTS` float64 values): a
    yardstick taken beside a timed run, so that a slow run can be told from a slow machine (a virtual machine's
    speed can drift with no other process and no steal time to show for it).

    Raises:
        ValueError: ``repeats`` below 1.
    """
    import time

    import numpy as np

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    values = np.arange(REFERENCE_ELEMENTS, dtype=np.float64)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        float((np.sqrt(values) * values).sum())
        best = min(best, time.perf_counter() - started)
    return REFERENCE_ELEMENTS / best / 1e6


def own_cpu_seconds() -> float:
    """CPU-seconds of this process and its finished children (a notebook's kernel)."""
    return sum(usage.ru_utime + usage.ru_stime for usage in (resource.getrusage(resource.RUSAGE_SELF),
                                                           resource.getrusage(resource.RUSAGE_CHILDREN)))


SHARED_CORES = 0.25
"""A run counts as measured beside other work when other processes kept at least this many cores busy on average
during it (:func:`other_cores`); the README's run-time tables mark its time."""


def other_cores(busy_before: float | None, busy_after: float | None, own_seconds: float, wall_seconds: float) -> \
        float | None:
    """Cores other processes kept busy on average during a run: (machine busy CPU-seconds - the run's own) / wall
    seconds, never below 0; None when the machine's busy time is unknown or the run took no time."""
    if busy_before is None or busy_after is None or wall_seconds <= 0:
        return None
    return max(0.0, (busy_after - busy_before - own_seconds) / wall_seconds)


def onednn_expected(environ: dict[str, str] | None = None, flags: set[str] | None = None) -> bool:
    """Whether TensorFlow, loaded now with ``environ`` on a CPU with ``flags``, runs its oneDNN kernels: the variable
    decides when set ("0", "false", "off" and "" turn them off; any other value on), else the CPU's flags do
    (:data:`ONEDNN_DEFAULT_CPU_FLAGS`)."""
    environ = os.environ if environ is None else environ
    value = environ.get(ONEDNN_VARIABLE)
    if value is not None:
        return value.strip().lower() not in ("0", "false", "off", "")
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in ONEDNN_DEFAULT_CPU_FLAGS)


def enable_onednn(environ: dict[str, str] | None = None, loaded_modules: dict[str, Any] | None = None) -> str:
    """Turn TensorFlow's oneDNN kernels on for this process and its children, unless the user chose.

    Sets ``TF_ENABLE_ONEDNN_OPTS=1`` in ``environ`` (default ``os.environ``) when it is unset. When TensorFlow is
    already loaded (in ``loaded_modules``, default ``sys.modules``) with the kernels off, the setting cannot take
    effect any more: says so once, as a warning with what to do.

    Returns:
        "set" (this call set it), "user" (the user's value was kept) or "too-late" (TensorFlow was loaded first
        with oneDNN off).
    """
    global _warned_late_import
    environ = os.environ if environ is None else environ
    loaded_modules = sys.modules if loaded_modules is None else loaded_modules
    if ONEDNN_VARIABLE in environ:
        return "user"
    if "tensorflow" in loaded_modules and not onednn_expected(environ):
        if not _warned_late_import:
            _warned_late_import = True
            warnings.warn(
                "TensorFlow was imported before emotion, with its oneDNN kernels off on this CPU: convolutions run "
                "several times slower. Import emotion first, or set TF_ENABLE_ONEDNN_OPTS=1 in the environment "
                "before starting Python.", RuntimeWarning, stacklevel=3)
        return "too-late"
    environ[ONEDNN_VARIABLE] = "1"
    return "set"


def onednn_active() -> bool | None:
    """Whether the TensorFlow loaded in this process runs its oneDNN kernels (TensorFlow's own answer), or None when
    TensorFlow is not loaded (this never loads it)."""
    if "tensorflow" not in sys.modules:
        return None
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # a TensorFlow without the probe: fall back to the rule it follows
        return onednn_expected()
    return bool(_pywrap_util_port.IsMklEnabled())


def kernel_record() -> dict[str, Any]:
    """What a results file's ``meta`` and a training session record of the machine: CPU model, cores, native
    bfloat16, and whether TensorFlow's oneDNN kernels were on (None: TensorFlow not loaded by this process)."""
    info = cpuinfo()
    return {"cpu_model": cpu_model(info), "cpu_cores": cpu_cores(), "native_bf16": cpu_has_native_bf16(info),
            "onednn": onednn_active(), ONEDNN_VARIABLE: os.environ.get(ONEDNN_VARIABLE)}
