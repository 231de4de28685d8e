"""Shared helpers: configs written inline as YAML, run on the cpu backend, and
random layers for the crossbar's exact-product tests."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from hypothesis import strategies as st

from neurosim.config import load_config_text
from neurosim.driver.simulation import Simulation
from neurosim.network import build_network


_SMALL_NETWORK = """\
duration: 20 ms
populations:
  n: {size: 10, model: lif_exp, params: {tau_m: 20 ms}}
  src: {size: 5, model: poisson, params: {rate: 100 Hz}}
projections:
  p: {source: src, target: n, receptor: exc, connect: {rule: all_to_all}, weight: 50 pA}
"""


def small_network(seed: int) -> str:
    """YAML of a tiny run: 5 Poisson sources driving 10 LIF neurons, all to
    all, for 20 ms."""
    return f"seed: {seed}\n{_SMALL_NETWORK}"


def config(text: str, **overrides):
    """A RunConfig from dedented YAML text plus ``key=value`` overrides."""
    sets = [f"{k.replace('__', '.')}={v}" for k, v in overrides.items()]
    return load_config_text(textwrap.dedent(text), name="test", overrides=sets)


def run(cfg, threads: int | None = None):
    """Build and simulate ``cfg``; return (network, result)."""
    net = build_network(cfg)
    return net, Simulation(net, cfg, threads=threads).run()


@pytest.fixture
def make_config():
    return config


@pytest.fixture
def simulate():
    return run


@st.composite
def random_layers(draw, max_in: int, max_out: int, max_batch: int):
    """``(seed, rng, w, batch)``: normal weights ``w`` of random shape, the
    first draw of ``rng`` (seeded by ``seed``), and a batch size."""
    n_in, n_out = draw(st.integers(1, max_in)), draw(st.integers(1, max_out))
    batch, seed = draw(st.integers(1, max_batch)), draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return seed, rng, rng.normal(size=(n_in, n_out)), batch


def assert_exact_product(got, x, w):
    """``got`` is ``x @ w`` but for rounding."""
    np.testing.assert_allclose(got, x @ w, rtol=1e-12, atol=1e-12 * np.abs(w).max())
