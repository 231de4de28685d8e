"""Neuron parameters of a built network: constants or per-neuron draws, in groups.

A *parameter group* is a run of neurons of one population that share every
parameter value: the whole population when its parameters are constants,
one neuron per group when a parameter is drawn per neuron (runs of equal
draws merge).  The kernels read one row of the propagator table per group,
so a network of constant populations runs exactly as before, and a
heterogeneous one costs a row per neuron.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.config.values import Value
from neurosim.errors import ConfigError
from neurosim.models import model_code


def draw_parameters(name: str, model, params: dict, size: int,
                    seed: np.random.SeedSequence) -> dict:
    """``params`` with every distribution replaced by ``size`` draws (float64).

    Draws come from ``seed`` in the parameter class's field order, so a
    population's values depend on its seed alone.  What must hold per neuron
    (a reset below threshold) is checked on the draws.
    """
    drawn = {key: value for key, value in params.items() if isinstance(value, Value)}
    if not drawn:
        return dict(params)
    rng = np.random.default_rng(seed)
    out = dict(params)
    for key in params:
        if key in drawn:
            out[key] = drawn[key].sample(rng, size)
    problems = model.parameter_problems(out)
    if problems:
        key, why = problems[0]
        raise ConfigError(f"populations.{name}.params.{key}: {why}")
    return out


@dataclass
class ParameterGroups:
    """The groups of a network, laid end to end like the neurons.

    ``bounds[g]:bounds[g+1]`` are group ``g``'s neurons; ``population[g]``
    its population's index; ``code[g]`` its model's kernel code (-1: a
    source); ``values[p]`` maps each parameter of population ``p`` to an
    array with one value per group of that population.
    """

    bounds: np.ndarray
    population: np.ndarray
    code: np.ndarray
    values: list[dict]

    @property
    def size(self) -> int:
        return self.population.size

    def of_neurons(self) -> np.ndarray:
        """The group of every neuron."""
        return np.repeat(np.arange(self.size), np.diff(self.bounds))


def _runs(columns: list[np.ndarray], size: int) -> np.ndarray:
    """Starts of the runs of neurons whose values are equal in every column."""
    change = np.zeros(size, dtype=bool)
    change[0] = True
    for column in columns:
        change[1:] |= column[1:] != column[:-1]
    return np.flatnonzero(change)


def parameter_groups(populations) -> ParameterGroups:
    """Groups of populations whose ``params`` hold constants or per-neuron arrays."""
    bounds, population, code, values = [], [], [], []
    for index, pop in enumerate(populations):
        per_neuron = [k for k, v in pop.params.items() if isinstance(v, np.ndarray)]
        starts = (np.zeros(1, np.int64) if not per_neuron or pop.size == 0
                  else _runs([pop.params[k] for k in per_neuron], pop.size))
        bounds.append(pop.start + starts)
        population.append(np.full(starts.size, index))
        code.append(np.full(starts.size, model_code(pop.model.name)))
        values.append({} if pop.model.is_source else
                      {k: v[starts] if isinstance(v, np.ndarray) else np.full(starts.size, v)
                       for k, v in pop.params.items()})
    stop = populations[-1].stop if populations else 0
    return ParameterGroups(np.concatenate(bounds + [np.array([stop])]).astype(np.int64),
                           np.concatenate(population).astype(np.int64),
                           np.concatenate(code).astype(np.int64), values)


def propagator_table(populations, groups: ParameterGroups, dt: float,
                     extra_current: np.ndarray) -> np.ndarray:
    """Rows of every group's propagators (float64, zero-padded to the widest
    model); ``extra_current[p]`` (A) is added to population ``p``'s input."""
    width = max((len(p.model.propagators) for p in populations), default=0)
    table = np.zeros((groups.size, width))
    for index, pop in enumerate(populations):
        if pop.model.is_source:
            continue
        rows = groups.population == index
        part = pop.model.discretise(groups.values[index], dt, extra_current[index])
        table[rows, :part.shape[1]] = part
    return table


def refractory_steps(populations, groups: ParameterGroups, dt: float) -> np.ndarray:
    """Steps each group is held after a spike."""
    steps = np.zeros(groups.size, dtype=np.int64)
    for index, pop in enumerate(populations):
        if not pop.model.is_source:
            steps[groups.population == index] = pop.model.refractory_steps(
                groups.values[index], dt)
    return steps
