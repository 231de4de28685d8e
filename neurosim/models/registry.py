"""The one table of models, and the lookup of their implementations.

Adding a neuron model is one line in :data:`_NEURONS` plus the model's own
package (its description in ``__init__.py``, its kernels in
``<family>_kernels.py``).  Implementations are found by key, never by
importing a folder: :func:`implementation` imports
``<model package>.<family>_kernels`` when a backend first needs it.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from neurosim.errors import ConfigError
from neurosim.models.base import NeuronModel

#: Neuron models by name: (module, attribute of its description).  The order
#: fixes the models' integer codes in the numba kernels.
_NEURONS: dict[str, tuple[str, str]] = {
    "lif_exp": ("neurosim.models.lif_exp", "MODEL"),
    "lif_cond_exp": ("neurosim.models.lif_cond_exp", "MODEL"),
    "alif": ("neurosim.models.alif", "MODEL"),
    "lif_discrete": ("neurosim.models.lif_discrete", "MODEL"),
    "poisson": ("neurosim.models.sources", "POISSON"),
    "spike_generator": ("neurosim.models.sources", "SPIKE_GENERATOR"),
}

#: Backend families and the backends that use them (for error messages).
FAMILIES = {"numba": ("cpu", "crossbar"), "torch": ("torch",)}

_loaded: dict[str, NeuronModel] = {}


def neuron_models() -> dict[str, NeuronModel]:
    """Every registered neuron model, in registry order."""
    for name in _NEURONS:
        get_model(name)
    return {name: _loaded[name] for name in _NEURONS}


def get_model(name: str) -> NeuronModel:
    """Look a model up by name; unknown names are a :class:`ConfigError`."""
    if name not in _loaded:
        if name not in _NEURONS:
            raise ConfigError(f"unknown neuron model '{name}' "
                              f"(known: {', '.join(sorted(_NEURONS))})")
        module, attribute = _NEURONS[name]
        _loaded[name] = getattr(importlib.import_module(module), attribute)
    return _loaded[name]


def spiking_models() -> list[str]:
    """Names of the models with dynamics, in registry order (their kernel codes)."""
    return [name for name, model in neuron_models().items() if not model.is_source]


def model_code(name: str) -> int:
    """The integer a numba kernel dispatches on: -1 for sources."""
    names = spiking_models()
    return names.index(name) if name in names else -1


def has_implementation(name: str, family: str) -> bool:
    """Whether ``name`` has kernels for ``family`` (without importing them)."""
    if get_model(name).is_source:
        return False
    return importlib.util.find_spec(f"{_NEURONS[name][0]}.{family}_kernels") is not None


def implementation(name: str, family: str, backend: str | None = None) -> ModuleType:
    """The kernels of model ``name`` for a backend family (``numba``, ``torch``).

    Raises one :class:`ConfigError` naming the model and the backend when
    the model has no implementation there.
    """
    model = get_model(name)
    where = backend or " / ".join(FAMILIES.get(family, (family,)))
    if model.is_source:
        raise ConfigError(f"model '{name}' is a spike source: it has no kernels to run")
    module = f"{_NEURONS[name][0]}.{family}_kernels"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        have = [m for m in spiking_models() if has_implementation(m, family)]
        raise ConfigError(f"model '{name}' is not implemented on backend '{where}' "
                          f"(it runs {', '.join(have) or 'no models'})") from None
