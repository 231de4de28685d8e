"""A thread count beyond the machine's cores runs on those cores (issue 17: torch
took ``threads: 349`` or ``10^9`` literally and the run aborted or segfaulted)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import neurosim  # noqa: E402
from neurosim.cli import main  # noqa: E402
from neurosim.errors import ConfigError  # noqa: E402
from neurosim.io import load  # noqa: E402
from neurosim.threads import available_cores, torch_threads, usable_threads  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from test_fashion_mnist import write_pattern_dataset  # noqa: E402

ABSURD = 10**9


def test_a_request_is_capped_at_the_cores_and_below_one_refused():
    assert usable_threads(1) == 1
    assert usable_threads(ABSURD) == available_cores()
    with pytest.raises(ConfigError, match="threads"):
        usable_threads(0)


def test_torch_runs_on_the_capped_count_and_gets_its_own_back():
    before = torch.get_num_threads()
    with torch_threads(ABSURD):
        assert torch.get_num_threads() == available_cores()
    assert torch.get_num_threads() == before


def test_no_task_sets_torch_threads_around_the_cap():
    """Every torch task (training, conversion, deployment, the torch engine and
    liquid, the readout) goes through :func:`torch_threads`."""
    package = Path(neurosim.__file__).parent
    direct = [str(p.relative_to(package)) for p in package.rglob("*.py")
              if p.name != "threads.py" and "torch.set_num_threads(" in p.read_text()]
    assert direct == []


def test_training_with_an_absurd_thread_count_runs(tmp_path):
    write_pattern_dataset(tmp_path, n_train=40, n_test=10, seed=0)
    out = tmp_path / "t.h5"
    overrides = [f"data.path={tmp_path}", "data.train=16", "data.validation=4",
                 "data.test=4", "batch_size=4", "steps=4", "compile=false", f"threads={ABSURD}",
                 "network.layers.hidden.out_features=16", "network.layers.out.in_features=16"]
    code = main(["run", "snn_fashion", "--output", str(out), "--quiet", "--no-plot",
                 *(f"--set={item}" for item in overrides)])
    assert code == 0
    assert load(out).meta["threads"] == ABSURD  # what was asked, as rerun repeats it
