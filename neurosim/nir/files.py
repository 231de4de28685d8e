"""The files of ``neurosim nir``: graphs (``nir.read`` / ``nir.write``, HDF5),
what is exported (a config or a result file), and the imported YAML."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import yaml

from neurosim.errors import ConfigError, DataError
from neurosim.io.hdf5 import atomic_path


def read_graph(path: str | os.PathLike):
    """The NIR graph in ``path``; one :class:`DataError` if it is not one."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise DataError(f"{path} is not a NIR graph (not an HDF5 file)")
    try:
        return nir.read(path)
    except Exception as err:  # nir.read raises bare KeyErrors and asserts on foreign files
        raise DataError(f"{path} is not a NIR graph nir {nir.__version__} reads "
                        f"({type(err).__name__}: {err})") from None


def write_graph(graph, path: str | os.PathLike) -> Path:
    """Write ``graph`` to ``path`` atomically."""
    import nir

    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return Path(path)


def source_graph(source: str, overrides=(), dt: float | None = None):
    """The graph of what ``neurosim nir export`` is given: a network config (built
    first), a network run's result file (its config, built again) or a
    trained result (``dt``: the step its time constants are written for;
    default 1 ms)."""
    from neurosim.config import load_config, load_config_text
    from neurosim.nir.export import network_graph, train_graph

    if Path(source).is_file() and h5py.is_hdf5(source):
        from neurosim.io import open_result

        with open_result(source) as rf:
            task, text = rf.header.task, rf.header.config
        if task == "train":
            from neurosim.training.result import load_train

            return train_graph(load_train(source), 1e-3 if dt is None else dt)
        if task != "network":
            raise DataError(f"{source} is a {task} result: neurosim nir export takes a network "
                            "config, a network run's result or a trained result")
        cfg = load_config_text(text, name=Path(source).stem, overrides=overrides)
    else:
        cfg = load_config(source, overrides=overrides)
    from neurosim.config.run import RunConfig

    if not isinstance(cfg, RunConfig):
        hint = " (export its result, written by neurosim train)" if getattr(
            cfg, "task", None) == "train" else ""
        raise ConfigError(f"{source}: a {getattr(cfg, 'task', type(cfg).__name__)} config has "
                          f"no network to export{hint}")
    if dt is not None and dt != cfg.dt:
        raise ConfigError(f"--dt is for trained results; {source} steps with its own dt "
                          f"({cfg.dt:g} s)")
    from neurosim.network import build_network

    spikes = cfg.record.spikes
    recorded = None if spikes == "all" else [] if spikes == "none" else list(spikes)
    return network_graph(build_network(cfg), recorded, name=cfg.name)


def read_inputs(path: str | os.PathLike) -> dict[str, np.ndarray] | np.ndarray:
    """Input spikes: a ``.npy`` array (the graph's one Input node) or a ``.npz``
    of arrays named by Input node."""
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a .npy or .npz array file ({err})") from None
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        return {name: loaded[name] for name in loaded.files}


def write_config(config: dict, path: str | os.PathLike) -> Path:
    """The imported config as YAML, lists of numbers on one line each."""
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=1 << 30)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)
