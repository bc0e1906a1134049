"""The machine base: CPU facts, the CPU time read from /proc/stat and getrusage, and TensorFlow's oneDNN kernels
turned on wherever the package loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from emotion import machine
from emotion.machine import ONEDNN_VARIABLE

AVX2_ONLY = "model name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"
WITH_VNNI = "model name\t: Intel Xeon\nflags\t\t: fpu avx2 avx512f avx512_vnni\n"


def test_cpu_model_and_flags_are_read_from_cpuinfo():
    assert machine.cpu_model(AVX2_ONLY) == "AMD EPYC"
    assert machine.cpu_model("") == "unknown"
    assert machine.cpu_flags(AVX2_ONLY) == {"fpu", "sse2", "avx", "avx2", "fma"}


def proc_stat(text: str | None):
    """A stand-in for ``pathlib.Path`` inside emotion.machine: /proc/stat reads ``text`` (None: the file is absent)."""
    def read_text():
        if text is None:
            raise FileNotFoundError("/proc/stat")
        return text

    def path(name):
        assert name == "/proc/stat"
        return SimpleNamespace(read_text=read_text)
    return path


def test_busy_cpu_seconds_sums_every_state_but_idle_and_iowait_from_proc_stat(monkeypatch):
    monkeypatch.setattr(machine.os, "sysconf", {"SC_CLK_TCK": 100}.__getitem__)
    # user nice system idle iowait irq softirq steal guest guest_nice: guest time is already counted in user.
    monkeypatch.setattr(machine, "Path", proc_stat("cpu  4705 356 584 3699 23 0 12 5 100 7\ncpu0 1 2 3 4 5 6 7 8\n"))
    assert machine.busy_cpu_seconds() == pytest.approx((4705 + 356 + 584 + 0 + 12 + 5) / 100)
    monkeypatch.setattr(machine, "Path", proc_stat("cpu 10 20 30 40\n"))  # an old kernel: no iowait column
    assert machine.busy_cpu_seconds() == pytest.approx(0.6)
    monkeypatch.setattr(machine, "Path", proc_stat(None))
    assert machine.busy_cpu_seconds() is None


def test_own_cpu_seconds_adds_user_and_system_time_of_the_process_and_its_finished_children(monkeypatch):
    usage = {machine.resource.RUSAGE_SELF: SimpleNamespace(ru_utime=1.5, ru_stime=0.25),
             machine.resource.RUSAGE_CHILDREN: SimpleNamespace(ru_utime=10.0, ru_stime=2.0)}
    monkeypatch.setattr(machine.resource, "getrusage", usage.__getitem__)
    assert machine.own_cpu_seconds() == 13.75


def test_onednn_follows_the_variable_and_else_the_cpu_flags_as_tensorflow_does():
    avx2, vnni = machine.cpu_flags(AVX2_ONLY), machine.cpu_flags(WITH_VNNI)
    assert machine.onednn_expected({}, avx2) is False  # TensorFlow's default on an AVX2-only CPU
    assert machine.onednn_expected({}, vnni) is True
    assert machine.onednn_expected({ONEDNN_VARIABLE: "1"}, avx2) is True
    assert machine.onednn_expected({ONEDNN_VARIABLE: "0"}, vnni) is False
    assert machine.onednn_expected({ONEDNN_VARIABLE: "false"}, vnni) is False


def test_enable_onednn_sets_the_variable_and_keeps_a_users_choice():
    environ: dict[str, str] = {}
    assert machine.enable_onednn(environ, loaded_modules={}) == "set"
    assert environ == {ONEDNN_VARIABLE: "1"}
    chosen = {ONEDNN_VARIABLE: "0"}
    assert machine.enable_onednn(chosen, loaded_modules={}) == "user"
    assert chosen == {ONEDNN_VARIABLE: "0"}


def test_enable_onednn_warns_once_when_tensorflow_loaded_first_with_the_kernels_off(monkeypatch):
    monkeypatch.setattr(machine, "cpu_flags", lambda info=None: {"avx2", "fma"})
    monkeypatch.setattr(machine, "_warned_late_import", False)
    loaded = {"tensorflow": object()}
    with pytest.warns(RuntimeWarning, match="Import emotion first, or set TF_ENABLE_ONEDNN_OPTS=1"):
        assert machine.enable_onednn({}, loaded_modules=loaded) == "too-late"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert machine.enable_onednn({}, loaded_modules=loaded) == "too-late"  # said once only


PROBE = ("import emotion, tensorflow, json; from emotion.machine import kernel_record; "
         "print(json.dumps(kernel_record()))")


def _probe(environment: dict[str, str]) -> dict:
    completed = subprocess.run([sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True,
                               timeout=300, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_a_fresh_process_runs_tensorflow_with_onednn_unless_the_user_turned_it_off():
    bare = {key: value for key, value in os.environ.items() if key != ONEDNN_VARIABLE}
    assert _probe(bare)["onednn"] is True
    record = _probe({**bare, ONEDNN_VARIABLE: "0"})
    assert record["onednn"] is False and record[ONEDNN_VARIABLE] == "0"


def test_the_notebook_kernel_runs_tensorflow_with_onednn(tmp_path):
    import nbformat
    import papermill

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(PROBE)]
    notebook.metadata["kernelspec"] = {"name": "emotion", "display_name": "Python 3.11 (emotion)",
                                       "language": "python"}
    source, executed = tmp_path / "probe.ipynb", tmp_path / "probe_out.ipynb"
    nbformat.write(notebook, source)
    saved = os.environ.pop(ONEDNN_VARIABLE, None)  # the kernel must not inherit it from this test process
    try:
        papermill.execute_notebook(str(source), str(executed), kernel_name="emotion", progress_bar=False)
    finally:
        if saved is not None:
            os.environ[ONEDNN_VARIABLE] = saved
    outputs = nbformat.read(executed, as_version=4).cells[0].outputs
    record = json.loads("".join(output.get("text", "") for output in outputs).strip().splitlines()[-1])
    assert record["onednn"] is True
