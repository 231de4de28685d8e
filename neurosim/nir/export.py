"""neurosim -> NIR: a built network or a trained result as a NIR graph.

A network (:class:`neurosim.network.Network`): each spike source becomes an
``Input`` node, each ``lif_discrete`` population a ``LIF`` (``alpha = 0``),
``IF`` (``beta = 1``) or ``CubaLIF`` node, each ``lif_exp`` population a
``CubaLIF`` node (below), each projection one dense ``Linear`` node per delay
it uses, followed by a ``Delay`` node of the lag that the graph's discrete
reading needs to act when the engine's spike does (:mod:`neurosim.nir.timing`:
``delay + 1`` steps on a forward link, ``delay`` on a back edge); recurrent
projections are edges back into their population's node.  The populations
recorded get an ``Output`` node each.  The graph's metadata holds ``dt``.

``lif_exp`` (exact integration in the engine) maps to ``CubaLIF`` with
``tau_mem = tau_m``, ``r = tau_m / C_m``, ``v_leak = E_L + r I_e``,
``v_threshold = V_th``, ``v_reset = V_reset``, ``tau_syn`` its receptor's
(both receptors in use need equal ones), ``w_in = tau_syn / dt`` and weights
in amperes, so that a spike raises the current by its weight; ``t_ref`` goes
into the metadata.  Read back with ``integration: exact`` its propagators are
lif_exp's, but lif_discrete keeps integrating while refractory where lif_exp
clamps ``V``.

A trained result (``task: train``): ``Input`` (the sample's shape),
``Flatten``, then per linear layer an ``Affine`` (``Linear`` without bias)
and its neurons, the recurrent weights as a ``Linear`` back into them (the
trained recurrence acts in the next step: a back edge without delay).  A
trained network counts bare steps; ``dt`` only scales the time constants.
"""

from __future__ import annotations

import numpy as np
import nir

from neurosim import __version__
from neurosim.errors import ConfigError, ResourceError
from neurosim.nir.neurons import (RESET_KEY, T_REF_KEY, inverse, lif_node_fields,
                                  synapse_fields)
from neurosim.nir.timing import back_edges

#: Largest total of dense weight matrices a graph is written with (float32).
MAX_DENSE_BYTES = 1 << 30


def network_graph(net, recorded: list[str] | None = None, name: str = "network") -> nir.NIRGraph:
    """The NIR graph of a built network; ``recorded`` populations get Output nodes
    (None: every population with dynamics)."""
    dt = net.dt
    pops = {p.name: p for p in net.populations}
    nodes: dict[str, nir.NIRNode] = {}
    used = {p.name: set() for p in net.populations}
    for info in net.projections:
        used[info.target].add(info.receptor)
    for pop in net.populations:
        nodes[pop.name] = _population_node(pop, used[pop.name], dt)
    plans = _projection_plans(net)
    links = {(source, target) for _, source, target, _, _ in plans}
    back = back_edges(pops, links)
    edges = []
    for node_name, source, target, delay, matrix in plans:
        nodes[node_name] = nir.Linear(weight=matrix)
        edges.append((source, node_name))
        lag = delay + (0 if (source, target) in back else 1)
        if lag:
            nodes[f"{node_name}.delay"] = nir.Delay(delay=np.full(matrix.shape[0], lag * dt))
            edges += [(node_name, f"{node_name}.delay"), (f"{node_name}.delay", target)]
        else:
            edges.append((node_name, target))
    if recorded is None:
        recorded = [p.name for p in net.populations if not p.model.is_source]
    for pop_name in recorded:
        nodes[f"{pop_name}.output"] = nir.Output(output_type=np.array([pops[pop_name].size]))
        edges.append((pop_name, f"{pop_name}.output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=_metadata(dt, name),
                        type_check=False)


def _metadata(dt: float, name: str) -> dict:
    return {"dt": float(dt), "name": name, "generator": f"neurosim {__version__}"}


def _constant(pop, key: str) -> float:
    values = np.unique(np.asarray(pop.params[key], dtype=np.float64))
    if values.size > 1:
        raise ConfigError(f"population '{pop.name}': {key} differs between neurons; the "
                          "node's metadata holds one value")
    return float(values[0])


def _population_node(pop, receptors: set[int], dt: float) -> nir.NIRNode:
    size = pop.size
    if pop.model.is_source:
        return nir.Input(input_type=np.array([size]))
    full = lambda key: np.broadcast_to(  # noqa: E731
        np.asarray(pop.params[key], dtype=np.float64), (size,)).copy()
    if pop.model.name == "lif_discrete":
        arrays = {k: full(k) for k in ("beta", "gain", "bias", "alpha", "threshold")}
        return _lif_discrete_node(f"population '{pop.name}'", arrays, str(pop.params["reset"]),
                                  _constant(pop, "t_ref"), dt)
    if pop.model.name == "lif_exp":
        return _lif_exp_node(pop, receptors, full, dt)
    raise ConfigError(f"population '{pop.name}': model {pop.model.name} has no NIR node "
                      "(exported: lif_discrete, lif_exp, spike sources)")


def _lif_discrete_node(where: str, p: dict[str, np.ndarray], reset: str, t_ref: float,
                       dt: float) -> nir.NIRNode:
    """``p``: beta, gain, bias, alpha, threshold, one value per neuron."""
    beta, gain, bias, alpha = p["beta"], p["gain"], p["bias"], p["alpha"]
    meta = {RESET_KEY: reset, T_REF_KEY: t_ref}
    zeros = np.zeros(beta.size)
    if np.all(beta == 1.0) and np.all(alpha == 0.0):
        if np.any(bias != 0):
            raise ConfigError(f"{where}: beta = 1 with a bias has no NIR node "
                              "(IF has no constant input)")
        r = np.array([inverse(lambda x: x * dt, g, g / dt) for g in gain])
        return nir.IF(r=r, v_threshold=p["threshold"], v_reset=zeros, metadata=meta)
    if np.any(beta == 1.0):
        raise ConfigError(f"{where}: beta = 1 (no leak) is exported only without a synaptic "
                          "current (alpha 0), as NIR's IF")
    fields = [lif_node_fields(b, g, c, dt) for b, g, c in zip(beta, gain, bias)]
    lif = {k: np.array([f[k] for f in fields]) for k in fields[0]}
    if np.all(alpha == 0.0):
        return nir.LIF(tau=lif["tau"], r=lif["r"], v_leak=lif["v_leak"],
                       v_threshold=p["threshold"], v_reset=zeros, metadata=meta)
    syn = [synapse_fields(a, dt) for a in alpha]
    return nir.CubaLIF(tau_syn=np.array([s["tau_syn"] for s in syn]), tau_mem=lif["tau"],
                       r=lif["r"], v_leak=lif["v_leak"], v_threshold=p["threshold"],
                       v_reset=zeros, w_in=np.array([s["w_in"] for s in syn]), metadata=meta)


def _lif_exp_node(pop, receptors: set[int], full, dt: float) -> nir.NIRNode:
    taus = {0: full("tau_syn_e"), 1: full("tau_syn_i")}
    in_use = sorted(receptors) or [0]
    if len(in_use) == 2 and not np.array_equal(taus[0], taus[1]):
        raise ConfigError(f"population '{pop.name}': both receptors are in use with different "
                          "tau_syn_e and tau_syn_i; NIR's CubaLIF has one synaptic current")
    tau_syn = taus[in_use[0]]
    r = full("tau_m") / full("C_m")
    # w_in = tau_syn / dt: a spike of weight W raises the current by W amperes.
    w_in = np.array([inverse(lambda w: dt / t * w, 1.0, t / dt) for t in tau_syn])
    return nir.CubaLIF(tau_syn=tau_syn, tau_mem=full("tau_m"), r=r,
                       v_leak=full("E_L") + r * full("I_e"), v_threshold=full("V_th"),
                       v_reset=full("V_reset"), w_in=w_in,
                       metadata={T_REF_KEY: _constant(pop, "t_ref")})


def _projection_plans(net) -> list[tuple[str, str, str, int, np.ndarray]]:
    """``(node name, source, target, delay, dense NIR weights)`` per projection and delay."""
    sizes = []
    for info in net.projections:
        src, tgt = net.population(info.source), net.population(info.target)
        delays = np.unique(net.synapses(info.name)["delay"])
        sizes.append((info.name, delays.size, tgt.size, src.size))
    total = sum(4 * n_delays * rows * cols for _, n_delays, rows, cols in sizes)
    if total > MAX_DENSE_BYTES:
        worst = max(sizes, key=lambda s: s[1] * s[2] * s[3])
        raise ResourceError(f"the network's projections would take {total / 1e6:,.0f} MB as "
                            f"dense NIR matrices (at most {MAX_DENSE_BYTES / 1e6:,.0f} MB); the "
                            f"largest, '{worst[0]}', is {worst[1]} x {worst[2]:,} x {worst[3]:,}")
    plans = []
    for info in net.projections:
        syn = net.synapses(info.name)
        tgt = net.population(info.target)
        weight = syn["weight"].astype(np.float64) * _nir_weight_factor(net, tgt, info)
        delays = np.unique(syn["delay"])
        for d in delays:
            keep = syn["delay"] == d
            matrix = np.zeros((tgt.size, net.population(info.source).size), dtype=np.float64)
            np.add.at(matrix, (syn["post"][keep], syn["pre"][keep]), weight[keep])
            node_name = info.name if delays.size == 1 else f"{info.name}.d{int(d)}"
            plans.append((node_name, info.source, info.target, int(d),
                          matrix.astype(net.dtype)))
    return plans


def _nir_weight_factor(net, target, info) -> float:
    """NIR weight per engine weight: lif_exp keeps R I_syn (volts) per spike, NIR amperes."""
    if target.model.name != "lif_exp":
        return 1.0
    r = np.unique(np.asarray(target.params["tau_m"]) / np.asarray(target.params["C_m"]))
    if r.size > 1:
        raise ConfigError(f"projection '{info.name}': tau_m / C_m of '{target.name}' differs "
                          "between neurons, so its weights have no single NIR unit")
    return 1.0 / float(r[0])


def train_graph(result, dt: float) -> nir.NIRGraph:
    """The NIR graph of a trained result (:class:`neurosim.training.result.TrainResult`)."""
    from neurosim.config import load_config_text
    from neurosim.config.train import DATASETS, Flatten

    cfg = load_config_text(result.config_text, name=result.name)
    shape, _ = DATASETS[cfg.data.dataset]
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.array(shape))}
    edges, last = [], "input"
    for name, layer in cfg.network.layers.items():
        if isinstance(layer, Flatten):
            nodes[name] = nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0)
            edges.append((last, name))
            last, shape = name, (int(np.prod(shape)),)
            continue
        weights = {k.split(".")[-1]: v for k, v in result.weights.items()
                   if k.startswith(f"layers.{name}.")}
        linear = f"{name}.linear"
        nodes[linear] = (nir.Affine(weight=weights["weight"], bias=weights["bias"])
                         if "bias" in weights else nir.Linear(weight=weights["weight"]))
        params = cfg.network.neuron_of(layer).params
        nodes[name] = _trained_neurons(params, layer.out_features, dt)
        edges += [(last, linear), (linear, name)]
        if "recurrent" in weights:
            nodes[f"{name}.recurrent"] = nir.Linear(weight=weights["recurrent"])
            edges += [(name, f"{name}.recurrent"), (f"{name}.recurrent", name)]
        last, shape = name, (layer.out_features,)
    nodes["output"] = nir.Output(output_type=np.array(shape))
    edges.append((last, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=_metadata(dt, result.name),
                        type_check=False)


def _trained_neurons(params, size: int, dt: float) -> nir.NIRNode:
    values = params.model_dump()
    arrays = {k: np.full(size, float(values[k]))
              for k in ("beta", "gain", "bias", "alpha", "threshold")}
    return _lif_discrete_node("trained layer", arrays, values["reset"], 0.0, dt)
