"""Run configurations: the YAML schema, its loader and its writer.

>>> from neurosim.config import load_config
>>> cfg = load_config("cuba", overrides=["seed=3"])
>>> cfg.populations["exc"].params["tau_m"]
0.02
"""

from neurosim.config.loader import (
    apply_overrides,
    builtin_configs,
    dump_config,
    format_validation_error,
    load_config,
    load_config_text,
    parse_override,
    validate_config,
)
from neurosim.config.network import (
    CONNECT_RULES,
    AllToAll,
    Arrays,
    ConnectRule,
    FixedIndegree,
    FixedOutdegree,
    FixedProbability,
    OneToOne,
    Population,
    Projection,
)
from neurosim.config.run import CurrentSource, Output, Record, RunConfig, Trace
from neurosim.config.values import (
    DISTRIBUTIONS,
    Constant,
    LogNormal,
    Normal,
    QuantityList,
    RandomSign,
    Uniform,
    Value,
    parse_value,
)


def __getattr__(name: str):
    # Loaded on first use, as the loader loads it: a plain run never needs it.
    if name == "LSMConfig":
        from neurosim.config.lsm import LSMConfig

        return LSMConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONNECT_RULES", "DISTRIBUTIONS",
    "AllToAll", "Arrays", "ConnectRule", "Constant", "CurrentSource", "FixedIndegree",
    "FixedOutdegree", "FixedProbability", "LSMConfig", "LogNormal",
    "Normal", "OneToOne", "Output", "Population", "Projection", "QuantityList", "RandomSign",
    "Record", "RunConfig", "Trace", "Uniform", "Value",
    "apply_overrides", "builtin_configs", "dump_config", "format_validation_error",
    "load_config", "load_config_text", "parse_override", "parse_value", "validate_config",
]
