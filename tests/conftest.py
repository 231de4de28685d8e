"""Shared helpers: configs written inline as YAML, run on the cpu backend."""

from __future__ import annotations

import textwrap

import pytest

from neurosim.config import load_config_text
from neurosim.driver.simulation import Simulation
from neurosim.network import build_network


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
