"""A trained network as a neurosim network: populations, projections, and when each
population runs.

Every linear layer of a ``neurosim train`` result becomes a ``lif_discrete``
population with the layer's neuron parameters; every link between layers a
projection of rule ``arrays`` with the trained weights (one step of delay).
With ``bernoulli_rate`` input, the pixels are a ``spike_generator`` population
projecting to the first layer; with ``constant_current`` input the image is no
spike train, so the first layer's current ``W x + b`` is taken once per sample
(a dense product, as the training takes it) and held as that layer's per-neuron
``bias`` for every step.

Timing (:mod:`neurosim.nir.timing`): in the training's forward pass a layer's
spikes of step ``t`` act on the next layer in step ``t``; on the engine, through
a projection of one step's delay, in step ``t + 2``.  So layer ``k`` runs
:data:`~neurosim.nir.timing.ENGINE_LATENCY` steps behind layer ``k - 1``
(*pipelining*), its bias switched on from the step its graph step 0 falls in,
and the run lasts the training's steps plus the last layer's shift.  A
recurrent layer's spikes feed back one step later in training, faster than the
engine can deliver: such a layer is refused.

The trained biases ``b`` enter the membrane as ``gain b + bias`` per step
through the propagator table (the model's ``bias`` column), which equals the
training's ``(I + b) gain + bias`` for ``alpha = 0``; with ``alpha > 0`` the
training lets ``b`` build up in the synaptic current, which the table cannot,
so such layers are refused too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.config import load_config_text, validate_config
from neurosim.config.train import DATASETS, Flatten, TrainConfig
from neurosim.errors import ConfigError
from neurosim.network import build_network
from neurosim.network.parameters import parameter_groups, propagator_table
from neurosim.nir.timing import ENGINE_LATENCY

#: The step of the engine network (lif_discrete counts in steps; any dt gives the same run).
DT = 1e-3
#: Name of the pixels' spike-generator population (bernoulli_rate input).
INPUT = "input"


@dataclass
class TrainedLayer:
    """One linear layer of the trained network."""

    name: str
    #: ``(out, in)`` float32 weights and ``(out,)`` float32 bias (zeros without one).
    weight: np.ndarray
    bias: np.ndarray
    #: The layer's ``lif_discrete`` parameters (``LifDiscreteParams``).
    params: object


@dataclass
class Deployed:
    """The built engine network of a trained one and how to drive it."""

    cfg: TrainConfig
    layers: list[TrainedLayer]
    network: object
    #: Engine step each layer's graph step 0 falls in.
    shifts: list[int]
    #: Engine steps of one sample.
    steps: int
    #: Whether the pixels are spikes (a spike-generator population) or the first layer's current.
    spiking_input: bool
    #: The propagator table with every bias off; its ``bias`` column.
    table: np.ndarray
    bias_column: int
    #: Rows of the table of each layer's neurons (one group per neuron).
    rows: list[np.ndarray]

    @property
    def output(self):
        """The output layer's population slice."""
        return self.network.population(self.layers[-1].name)

    def layer_bias(self, k: int) -> np.ndarray:
        """What layer ``k``'s trained bias adds to the membrane per step (float32)."""
        layer = self.layers[k]
        gain, bias = np.float32(layer.params.gain), np.float32(layer.params.bias)
        return (layer.bias * gain + bias).astype(np.float32)

    def table_at(self, step: int, first_current: np.ndarray | None) -> np.ndarray:
        """The table for engine steps from ``step``: the bias of every layer whose
        graph has started, and (constant-current input) the first layer's current
        ``(n,)``, already including its bias."""
        table = self.table.copy()
        for k, shift in enumerate(self.shifts):
            if shift > step:
                continue
            if k == 0 and first_current is not None:
                layer = self.layers[0]
                gain, bias = np.float32(layer.params.gain), np.float32(layer.params.bias)
                values = first_current.astype(np.float32) * gain + bias
            else:
                values = self.layer_bias(k)
            table[self.rows[k], self.bias_column] = values
        return table


def trained_layers(cfg: TrainConfig, weights: dict[str, np.ndarray]) -> list[TrainedLayer]:
    """The linear layers of a trained config with their tensors; one
    :class:`ConfigError` for what the engine cannot run exactly (module docstring)."""
    out = []
    for name, layer in cfg.network.layers.items():
        if isinstance(layer, Flatten):
            continue
        params = cfg.network.neuron_of(layer).params
        if layer.recurrent:
            raise ConfigError(f"layer '{name}' is recurrent: its spikes act on itself one step "
                              f"later in training, and the engine needs {ENGINE_LATENCY}; a "
                              "recurrent trained network cannot be deployed exactly")
        if params.alpha != 0:
            raise ConfigError(f"layer '{name}': alpha = {params.alpha:g}; deployment holds a "
                              "layer's bias in the membrane, which matches training for "
                              "alpha = 0 only")
        w = np.asarray(weights[f"layers.{name}.weight"], np.float32)
        b = weights.get(f"layers.{name}.bias")
        b = np.zeros(w.shape[0], np.float32) if b is None else np.asarray(b, np.float32)
        out.append(TrainedLayer(name, w, b, params))
    return out


def _population(layer: TrainedLayer) -> dict:
    p = layer.params
    return {"size": int(layer.weight.shape[0]), "model": "lif_discrete",
            "params": {"beta": p.beta, "alpha": 0.0, "gain": p.gain, "bias": 0.0,
                       "threshold": p.threshold, "reset": p.reset, "t_ref": "0 s"}}


def _projection(source: str, target: str, weight: np.ndarray) -> dict:
    post, pre = np.nonzero(weight)
    return {"source": source, "target": target, "receptor": "exc",
            "connect": {"rule": "arrays", "pre": pre.tolist(), "post": post.tolist(),
                        "weight": weight[post, pre].astype(np.float64).tolist()},
            "weight": 0.0, "delay": f"{DT!r} s"}


def deploy_train(config_text: str, weights: dict[str, np.ndarray], name: str = "deploy") -> Deployed:
    """The engine network of a trained result's config and weights (module docstring)."""
    cfg = load_config_text(config_text, name=name)
    layers = trained_layers(cfg, weights)
    spiking = cfg.encoding.kind != "constant_current"
    first = ENGINE_LATENCY if spiking else 0
    shifts = [first + ENGINE_LATENCY * k for k in range(len(layers))]
    steps = cfg.steps + shifts[-1]
    shape, _ = DATASETS[cfg.data.dataset]
    populations = {}
    projections = {}
    if spiking:
        populations[INPUT] = {"size": int(np.prod(shape)), "model": "spike_generator",
                              "params": {"times": [], "indices": []}}
    for layer in layers:
        populations[layer.name] = _population(layer)
    links = ([(INPUT, layers[0])] if spiking else []) + [
        (a.name, b) for a, b in zip(layers, layers[1:])]
    for source, layer in links:
        if np.any(layer.weight):
            projections[f"{source}->{layer.name}"] = _projection(source, layer.name, layer.weight)
    run_cfg = validate_config({
        "name": name, "dt": f"{DT!r} s", "duration": f"{steps * DT!r} s",
        "populations": populations, "projections": projections,
        "record": {"spikes": "none"}}, label=f"the network of '{name}'")
    net = build_network(run_cfg)
    # One parameter group per neuron of every layer: the biases are set per neuron.
    for layer in layers:
        pop = net.population(layer.name)
        pop.params = dict(pop.params, bias=np.arange(pop.size, dtype=np.float64))
    net.groups = parameter_groups(net.populations)
    table = propagator_table(net.populations, net.groups, net.dt, np.zeros(len(net.populations)))
    column = net.population(layers[0].name).model.propagators.index("bias")
    table[:, column] = 0.0
    index = {p.name: i for i, p in enumerate(net.populations)}
    rows = []
    for layer in layers:
        mine = np.flatnonzero(net.groups.population == index[layer.name])
        if mine.size != net.population(layer.name).size:
            raise AssertionError("a trained layer's neurons must be one group each")
        rows.append(mine)
    return Deployed(cfg, layers, net, shifts, steps, spiking, table, column, rows)
