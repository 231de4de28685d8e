"""Fuzzed configs of every task (a fixed subset of benchmarks/fuzz_configs.py's cases).

Every case runs through ``neurosim run`` and either succeeds with a result
that reads back without NaN or inf, or stops with one ``error:`` line and
leaves no file: never a traceback, a hang or a partial file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")  # the training and conversion tasks are among the bases
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fuzz_configs import CaseRunner, dump, fuzz, run_case, tiny_bases, write_dataset  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fmnist")
    write_dataset(folder, n_train=60, n_test=10)
    return folder


@pytest.fixture(scope="module")
def bases(data):
    return tiny_bases(data)


@pytest.fixture(scope="module")
def runner(data):
    runner = CaseRunner(data=str(data), timeout=120)
    yield runner
    runner.close()


def test_every_tiny_base_runs(bases, tmp_path):
    for name, tree in bases.items():
        folder = tmp_path / name
        folder.mkdir()
        outcome = run_case(dump(tree), folder)
        assert outcome.kind == "ran", (name, outcome.detail)


def test_fuzzed_cases_run_or_stop_cleanly(bases, runner):
    bad = []

    def record(name, text, outcome):
        if outcome.kind not in ("ran", "clean_error"):
            bad.append((name, outcome.kind, outcome.detail, text[:2000]))

    counts = fuzz(60, 0, runner, bases, record)
    assert sum(counts.values()) == 60
    assert counts["clean_error"] > 0
    assert not bad, bad[0]
