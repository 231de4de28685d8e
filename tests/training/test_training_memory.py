"""Training runs that cannot fit in memory are refused before any data is read."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from neurosim.config import load_config  # noqa: E402
from neurosim.errors import ResourceError  # noqa: E402
from neurosim.training.task import train, training_bytes  # noqa: E402


def test_a_billion_steps_is_refused_naming_the_remedy(tmp_path):
    cfg = load_config("snn_fashion", ["steps=1000000000", f"data.path={tmp_path / 'none'}"])
    with pytest.raises(ResourceError, match=r"training 'snn_fashion' \(1000000000 steps x batch "
                                            r"128, 784-1000-10\).*set recompute_steps"):
        train(cfg, result_path=tmp_path / "x.h5")


def test_recomputing_pieces_needs_far_less_than_keeping_every_step():
    full = training_bytes(load_config("snn_fashion", ["steps=500"]))
    pieces = training_bytes(load_config("snn_fashion", ["steps=500", "recompute_steps=23"]))
    # bench_train_memory.py measured 1,225 MiB and 82 MiB of live tensors for these
    assert 1.0 < full / 1225 / 2**20 < 1.3 and pieces < full / 5
    rate = training_bytes(load_config("snn_fashion", ["steps=500",
                                                      "encoding.kind=bernoulli_rate"]))
    assert rate > full  # the input is drawn per step
