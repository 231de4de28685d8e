"""NIR -> neurosim: a graph as a network config that ``neurosim run`` runs.

Every spiking or membrane node becomes a ``lif_discrete`` population (its
parameters read as :mod:`neurosim.nir.neurons` documents, one value for the
whole node), every ``Input`` a ``spike_generator`` (its spikes: the
``inputs`` given, one 0/1 array ``(steps, *shape)`` per Input node), the
Affine biases one always-on ``spike_generator`` unit projecting to every
biased neuron, every link (:mod:`neurosim.nir.paths`) a projection of rule
``arrays`` with the nonzero weights, its delay from the pipelining of
:mod:`neurosim.nir.timing`.  ``Output`` nodes are what is recorded: spikes
of spiking nodes, the membrane ``v`` of LI, I and CubaLI nodes.

The run lasts ``steps`` graph steps plus the longest shift, so that every
population sees them all; population ``X`` spiking in engine step ``n`` is
the graph's node spiking in step ``n - shift[X]`` (the config's description
lists the shifts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import nir

from neurosim.errors import ConfigError
from neurosim.nir.neurons import MEMBRANE, discretise
from neurosim.nir.paths import BIAS, check_types, inline, resolve
from neurosim.nir.timing import back_edges, pipeline_shifts

_PARAMS = ("beta", "alpha", "gain", "bias", "threshold")


@dataclass
class Imported:
    """A network config from a NIR graph, and how its populations relate to the graph."""

    #: The config as a mapping (``neurosim.config.validate_config`` takes it).
    config: dict
    #: Population of each NIR node that became one.
    populations: dict[str, str]
    #: Steps each population runs behind the graph's discrete reading.
    shifts: dict[str, int]


def graph_dt(graph: nir.NIRGraph, dt: float | None) -> float:
    """The step: ``dt`` if given, else the graph's ``metadata['dt']``; one error without either."""
    if dt is None:
        meta = graph.metadata if isinstance(graph.metadata, dict) else {}
        if "dt" not in meta:
            raise ConfigError("the NIR graph has no dt in its metadata and none was given: NIR "
                              "neurons are continuous-time, so the step to read them with must "
                              "be chosen (--dt; snnTorch's exporter assumes 0.1 ms, norse's 1 ms)")
        dt = float(np.asarray(meta["dt"]))
    if not dt > 0 or not np.isfinite(dt):
        raise ConfigError(f"dt must be a positive time, got {dt!r}")
    return float(dt)


def import_graph(graph: nir.NIRGraph, dt: float | None = None, integration: str = "euler",
                 steps: int | None = None, inputs: dict[str, np.ndarray] | None = None,
                 name: str = "nir") -> Imported:
    """The network config of ``graph`` (module docstring)."""
    if integration not in ("euler", "exact"):
        raise ConfigError(f"integration must be euler or exact, got {integration!r}")
    dt = graph_dt(graph, dt)
    flat = inline(graph)
    check_types(flat)
    links = resolve(flat, dt)
    inputs = _check_inputs(flat, links.sizes, dict(inputs or {}), steps)
    steps = steps if steps is not None else max((len(a) for a in inputs.values()), default=0)
    if steps < 1:
        raise ConfigError("give the number of graph steps to run (steps), or input spikes")

    neurons = {n: flat.kind(n) for n in links.terms if flat.kind(n) != "Output"}
    found = {}
    for target, terms in links.terms.items():
        for source, _ in terms:
            if target in neurons and source in neurons and flat.kind(source) in MEMBRANE:
                raise ConfigError(f"{flat.kind(source)} node '{source}' feeds '{target}': "
                                  "projections carry spikes; a membrane value can only be read "
                                  "out through an Output node")
    for target in links.terms:
        if flat.kind(target) == "Output":
            for (source, delay), matrix in links.terms[target].items():
                direct = source != BIAS and not delay and np.array_equal(
                    matrix, np.eye(*matrix.shape))
                if not direct:
                    raise ConfigError(f"Output node '{target}' reads a linear node's value; "
                                      "neurosim records spikes and membranes of neuron nodes")
    for node_name, kind in neurons.items():
        found[node_name] = discretise(flat.nodes[node_name], kind, links.sizes[node_name], dt,
                                      integration == "exact", f"{kind} node '{node_name}'")

    sources = [n for n in flat.nodes if flat.kind(n) == "Input"]
    synaptic = {t: terms for t, terms in links.terms.items() if t in neurons}
    pairs = {(s, t) for t, terms in synaptic.items() for s, _ in terms if s != BIAS}
    back = back_edges(list(neurons) + sources, pairs)
    lags = [(s, t, d + ((s, t) in back)) for t, terms in synaptic.items() for s, d in terms]
    uses_bias = any(s == BIAS for terms in synaptic.values() for s, _ in terms)
    shifts = pipeline_shifts(list(neurons) + sources + ([BIAS] if uses_bias else []), lags)
    total = steps + max(shifts.values(), default=0)

    pop_names = _population_names(list(neurons) + sources + ([BIAS] if uses_bias else []))
    populations = {}
    for node_name in sources:
        populations[pop_names[node_name]] = _generator(inputs.get(node_name), links.sizes[node_name],
                                                       dt)
    if uses_bias:
        populations[pop_names[BIAS]] = _generator(np.ones((total, 1)), 1, dt)
    for node_name in neurons:
        populations[pop_names[node_name]] = _population(found[node_name], node_name)

    projections = {}
    for target, terms in synaptic.items():
        scale = found[target].weight_scale[:, None]
        for (source, delay), matrix in terms.items():
            lag = delay + ((source, target) in back)
            steps_delay = lag - 1 + shifts[target] - shifts[source]
            weights = matrix * scale
            post, pre = np.nonzero(weights)
            if not post.size:
                continue
            proj = f"{pop_names[source]}->{pop_names[target]}"
            if sum(1 for s, _ in terms if s == source) > 1:
                proj += f".d{steps_delay}"
            projections[proj] = {
                "source": pop_names[source], "target": pop_names[target], "receptor": "exc",
                "connect": {"rule": "arrays", "pre": pre.tolist(), "post": post.tolist(),
                            "weight": weights[post, pre].tolist()},
                "weight": 0.0, "delay": f"{steps_delay * dt!r} s"}

    record_spikes, traces = [], {}
    for target in links.terms:
        if flat.kind(target) != "Output":
            continue
        for (source, _), _ in links.terms[target].items():
            pop = pop_names[source]
            if source in neurons and flat.kind(source) in MEMBRANE:
                traces[f"{pop}.v"] = {"population": pop, "variables": ["v"],
                                      "neurons": list(range(links.sizes[source]))}
            elif pop not in record_spikes:
                record_spikes.append(pop)
    shown = ", ".join(f"{pop_names[n]} {shifts[n]}" for n in neurons)
    config = {
        "name": name,
        "description": f"imported from NIR ({integration} integration); steps behind the "
                       f"graph: {shown}",
        "duration": f"{total * dt!r} s", "dt": f"{dt!r} s",
        "populations": populations, "projections": projections,
        "record": {"spikes": record_spikes or "none", "rate_bin": f"{dt!r} s",
                   "traces": traces},
    }
    return Imported(config, {n: pop_names[n] for n in list(neurons) + sources},
                    {pop_names[n]: shifts[n] for n in list(neurons) + sources})


def _check_inputs(flat, sizes, inputs: dict, steps: int | None) -> dict[str, np.ndarray]:
    names = [n for n in flat.nodes if flat.kind(n) == "Input"]
    unknown = sorted(set(inputs) - set(names))
    if unknown:
        raise ConfigError(f"input spikes for '{unknown[0]}', which is no Input node of the graph "
                          f"(its Input nodes: {', '.join(names) or 'none'})")
    out = {}
    for name, spikes in inputs.items():
        spikes = np.asarray(spikes)
        flat_spikes = spikes.reshape(spikes.shape[0], -1) if spikes.ndim else spikes
        if spikes.ndim < 2 or flat_spikes.shape[1] != sizes[name]:
            raise ConfigError(f"input spikes for '{name}' have shape {spikes.shape}; expected "
                              f"(steps, {sizes[name]} values)")
        if not np.isin(flat_spikes, (0, 1)).all():
            raise ConfigError(f"input spikes for '{name}' must be 0 or 1 (the engine's inputs "
                              "are spikes)")
        if steps is not None:
            flat_spikes = flat_spikes[:steps]
        out[name] = flat_spikes
    return out


def _population_names(nodes: list[str]) -> dict[str, str]:
    """Node name -> population name: separators replaced, collisions numbered."""
    names, taken = {}, set()
    for node in nodes:
        base = "".join(c if c not in "/\\" and ord(c) >= 32 else "_" for c in node) or "node"
        name, k = base, 1
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        names[node] = name
    return names


def _generator(spikes: np.ndarray | None, size: int, dt: float) -> dict:
    steps, neurons = (np.nonzero(spikes) if spikes is not None
                      else (np.empty(0, np.int64), np.empty(0, np.int64)))
    # A spike of graph step t is emitted in engine step t: stamped at its end.
    return {"size": size, "model": "spike_generator",
            "params": {"times": [f"{(t + 1) * dt!r} s" for t in steps.tolist()],
                       "indices": neurons.tolist()}}


def _population(found, node_name: str) -> dict:
    params = {}
    for key in _PARAMS:
        values = np.unique(found.params[key])
        if values.size > 1:
            raise ConfigError(f"node '{node_name}': {key} differs between its neurons "
                              f"({values.min():g} .. {values.max():g}); a neurosim population "
                              "shares one value")
        params[key] = float(values[0])
    v0 = np.unique(found.v0)
    if v0.size > 1:
        raise ConfigError(f"node '{node_name}': v_reset differs between its neurons; a "
                          "population starts from one membrane value")
    params.update(reset=found.reset, t_ref=f"{found.t_ref!r} s")
    out = {"size": int(found.params["beta"].size), "model": "lif_discrete", "params": params}
    if v0[0] != 0:
        out["initial"] = {"v": float(v0[0])}
    return out
