"""The full import's peak memory (`bench.run.run_for_peak`) is the import's own, not the bench's:
Linux carries a process's peak across `exec`, so a command started straight from a large process
reports that process's peak."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import run_for_peak

HOLD_MB = 200


def _touch(size_mb: int) -> bytearray:
    block = bytearray(size_mb * 1024 * 1024)
    for at in range(0, len(block), 4096):  # resident, page by page
        block[at] = 1
    return block


def test_the_peak_is_the_commands_own_however_large_the_bench_is(tmp_path: Path) -> None:
    held = _touch(HOLD_MB)
    # what a command started straight from here reports: this process's peak
    direct = subprocess.Popen([sys.executable, "-c", "pass"])
    _, _, usage = os.wait4(direct.pid, 0)
    assert usage.ru_maxrss / 1024 >= HOLD_MB
    small = run_for_peak([sys.executable, "-c", "pass"], env=dict(os.environ), log=tmp_path / "small.log")
    grows = "block = bytearray(120 * 2**20)\nfor at in range(0, len(block), 4096): block[at] = 1"
    large = run_for_peak([sys.executable, "-c", grows], env=dict(os.environ), log=tmp_path / "large.log")
    assert small < 60 and 120 <= large < HOLD_MB, (small, large)
    assert len(held) == HOLD_MB * 2**20


def test_a_failing_command_is_an_error_naming_its_output(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('the import went wrong'); sys.exit(3)"]
    with pytest.raises(RuntimeError, match="the import went wrong"):
        run_for_peak(argv, env=dict(os.environ), log=tmp_path / "failed.log")
