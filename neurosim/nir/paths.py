"""A NIR graph as spiking nodes and the weighted, delayed links between them.

Nested graphs are inlined first (node ``s`` of a subgraph becomes
``<graph>.s``; the subgraph's own Input and Output nodes pass their value
through).  Then every node that is not a neuron is a linear map of its
inputs' sum: ``Affine`` (``W x + b``), ``Linear``, ``Scale``, ``Flatten``
(the engine's vectors are flat, in C order), ``Delay`` (``round(tau / dt)``
steps, per element).  Following them back from each neuron node gives its
input as ``sum over (source, delay) of M x_source(t - delay)``: a dense
matrix per source and delay, the bias a source of its own
(:data:`BIAS`, one always-on unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import nir

from neurosim.errors import ConfigError
from neurosim.nir.neurons import MEMBRANE, SPIKING

#: The source of the Affine biases: one unit whose value is 1 at every step.
BIAS = "bias"

_LINEAR = ("Affine", "Linear", "Scale", "Flatten", "Delay", "Identity")
_NOT_YET = ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d")


class Identity:
    """A subgraph's Input or Output once inlined: its value passes through."""


@dataclass
class Graph:
    """A graph without nesting: nodes by name, and who feeds whom."""

    nodes: dict[str, object]
    inputs: dict[str, list[str]] = field(default_factory=dict)

    def kind(self, name: str) -> str:
        node = self.nodes[name]
        return "Identity" if isinstance(node, Identity) else type(node).__name__


def inline(graph: nir.NIRGraph, prefix: str = "") -> Graph:
    """``graph`` with its subgraphs inlined (module docstring)."""
    nodes: dict[str, object] = {}
    edges: list[tuple[str, str]] = []
    entry, exit_ = {}, {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub = inline(node, f"{full}.")
            nodes.update(sub.nodes)
            edges += [(a, b) for b, feeds in sub.inputs.items() for a in feeds]
            entry[name] = _only(sub, node, nir.Input, full, "Input")
            exit_[name] = _only(sub, node, nir.Output, full, "Output")
        elif prefix and isinstance(node, (nir.Input, nir.Output)):
            nodes[full] = Identity()
        else:
            nodes[full] = node
    for a, b in graph.edges:
        a, b = str(a), str(b)
        edges.append((exit_.get(a, prefix + a), entry.get(b, prefix + b)))
    out = Graph(nodes, {name: [] for name in nodes})
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise ConfigError(f"edge {a} -> {b}: there is no node '{end}'")
        out.inputs[b].append(a)
    return out


def _only(sub: Graph, node: nir.NIRGraph, kind: type, full: str, what: str) -> str:
    names = [n for n, v in node.nodes.items() if isinstance(v, kind)]
    if len(names) != 1:
        raise ConfigError(f"subgraph '{full}' has {len(names)} {what} nodes; one is needed to "
                          "connect it to the graph around it")
    return f"{full}.{names[0]}"


def check_types(graph: Graph) -> None:
    """One error for the first node of a type this reading does not know."""
    for name, node in graph.nodes.items():
        kind = graph.kind(name)
        if kind in _NOT_YET:
            raise ConfigError(f"node '{name}' is a {kind}: not supported yet (neurosim reads "
                              "Input, Output, Affine, Linear, Scale, Flatten, Delay, LIF, "
                              "CubaLIF, IF, LI, CubaLI, I and Threshold nodes)")
        if kind not in _LINEAR + SPIKING + MEMBRANE + ("Input", "Output"):
            raise ConfigError(f"node '{name}' is a {kind}: not a NIR node type neurosim reads")


@dataclass
class Links:
    """What feeds each neuron node: ``terms[target][(source, delay)] = M``
    (target size x source size), and every node's size."""

    terms: dict[str, dict[tuple[str, int], np.ndarray]]
    sizes: dict[str, int]


def resolve(graph: Graph, dt: float) -> Links:
    """The links of every neuron and Output node (module docstring)."""
    sizes: dict[str, int] = {}
    memo: dict[str, dict] = {}
    for name in graph.nodes:
        _size(graph, name, sizes, set())
    sources = SPIKING + MEMBRANE + ("Input",)

    def value(name: str, busy: frozenset) -> dict[tuple[str, int], np.ndarray]:
        if graph.kind(name) in sources:
            return {(name, 0): np.eye(sizes[name])}
        if name in memo:
            return memo[name]
        if name in busy:
            raise ConfigError(f"node '{name}' is on a cycle through linear nodes only (no neuron "
                              "to hold the value between steps)")
        node = graph.nodes[name]
        takes = np.asarray(node.weight).shape[1] if graph.kind(name) in ("Affine", "Linear") else sizes[name]
        total = _sum(graph, name, takes, busy | {name}, value, sizes)
        memo[name] = _apply(graph, name, total, sizes, dt)
        return memo[name]

    terms = {}
    for name in graph.nodes:
        if graph.kind(name) in SPIKING + MEMBRANE + ("Output",):
            terms[name] = _sum(graph, name, sizes[name], frozenset(), value, sizes)
    return Links(terms, sizes)


def _sum(graph, name, size, busy, value, sizes) -> dict:
    total: dict[tuple[str, int], np.ndarray] = {}
    for source in graph.inputs[name]:
        for key, matrix in value(source, busy).items():
            if matrix.shape[0] != size:
                raise ConfigError(f"edge {source} -> {name}: {source} gives {matrix.shape[0]} "
                                  f"values, {name} takes {size}")
            total[key] = total[key] + matrix if key in total else matrix
    return total


def _apply(graph: Graph, name: str, total: dict, sizes, dt: float) -> dict:
    node, kind = graph.nodes[name], graph.kind(name)
    if kind in ("Affine", "Linear"):
        weight = np.asarray(node.weight, dtype=np.float64)
        out = {key: weight @ m for key, m in total.items()}
        if kind == "Affine" and node.bias is not None:
            bias = np.broadcast_to(np.asarray(node.bias, np.float64).reshape(-1),
                                   (weight.shape[0],)).reshape(-1, 1)
            out[(BIAS, 0)] = out.get((BIAS, 0), 0) + bias
        return out
    if kind == "Scale":
        scale = np.asarray(node.scale, dtype=np.float64).reshape(-1, 1)
        return {key: scale * m for key, m in total.items()}
    if kind == "Delay":
        steps = _delay_steps(np.asarray(node.delay, np.float64).reshape(-1), dt, name,
                             sizes[name])
        out = {}
        for (source, d), m in total.items():
            for extra in np.unique(steps):
                rows = (steps == extra)[:, None]
                key = (source, d + int(extra))
                out[key] = out.get(key, 0) + np.where(rows, m, 0.0)
        return out
    return total  # Flatten, Identity


def _delay_steps(delay: np.ndarray, dt: float, name: str, size: int) -> np.ndarray:
    steps = np.floor(delay / dt + 0.5)
    if np.any(delay < 0) or np.any(np.abs(steps * dt - delay) > 1e-9 * np.maximum(delay, dt)):
        raise ConfigError(f"Delay node '{name}': delays {delay.min():g} .. {delay.max():g} s "
                          f"are not whole steps of dt = {dt:g} s")
    return np.broadcast_to(steps.astype(np.int64), (size,))


def _size(graph: Graph, name: str, sizes: dict, busy: set) -> int:
    """Values a node gives: its own shape, or its inputs' (Flatten, Output, scalars)."""
    if name in sizes:
        return sizes[name]
    node, kind = graph.nodes[name], graph.kind(name)
    own = None
    if kind in ("Affine", "Linear"):
        if np.asarray(node.weight).ndim != 2:
            raise ConfigError(f"{kind} node '{name}': weight has {np.asarray(node.weight).ndim} "
                              "dimensions; neurosim reads matrices (out x in)")
        own = np.asarray(node.weight).shape[0]
    elif kind == "Input":
        own = int(np.prod(node.input_type["input"]))
    elif kind in SPIKING + MEMBRANE + ("Scale", "Delay"):
        field_ = {"Scale": "scale", "Delay": "delay", "Threshold": "threshold"}.get(kind, "r")
        own = np.asarray(getattr(node, field_)).size
        own = None if own == 1 and graph.inputs[name] else own  # a scalar for every neuron
    if own is None:
        if name in busy or not graph.inputs[name]:
            raise ConfigError(f"node '{name}': cannot tell its size (no shape of its own and "
                              "no input that has one)")
        own = _size(graph, graph.inputs[name][0], sizes, busy | {name})
    sizes[name] = int(own)
    return sizes[name]
