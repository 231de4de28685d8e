r"""``alif``: ``lif_exp`` with an adaptive threshold (Bellec et al. 2018, LSNN).

::

    C_m dV/dt = -(C_m / tau_m) (V - E_L) + I_syn_e + I_syn_i + I_e     (as lif_exp)
    db/dt = -b / tau_b,       b += 1 on a spike
    spike when V >= V_th + beta b

``b`` (dimensionless) is a low-pass filtered spike train; each spike raises
the threshold by ``beta`` and the rise decays with ``tau_b``, so a regular
train of period ``T`` drives ``b`` just after the ``k``-th spike to
``(1 - q^k) / (1 - q)`` with ``q = exp(-T / tau_b)``.  The membrane is
integrated exactly as ``lif_exp``'s; ``b`` decays exactly, and the
threshold of a step uses ``b`` after that step's decay.  Bellec et al. write
the increment as ``(1 - rho)`` per spike with ``rho = exp(-dt / tau_b)``;
their ``beta`` is ours times ``1 / (1 - rho)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from neurosim.config.base import PositiveTime, Unit, q
from neurosim.models.base import decay
from neurosim.models.lif_exp import LifExp, LifExpParams, exp_propagators


class AlifParams(LifExpParams):
    """Parameters of ``alif``: those of ``lif_exp`` and the threshold adaptation."""

    tau_b: PositiveTime = q("200 ms")
    """Decay time constant of the threshold adaptation."""
    beta: Annotated[float, Unit("V", ge=0)] = q("1 mV")
    """Threshold increase per unit of ``b`` (per spike, before it decays)."""


@dataclass(frozen=True)
class Alif(LifExp):
    """Adaptive-threshold LIF (module docstring)."""

    def discretise(self, p, dt, extra_current):
        columns = exp_propagators(p, dt, extra_current) + [decay(dt, p["tau_b"]),
                                                           np.asarray(p["beta"], np.float64)]
        return np.stack(np.broadcast_arrays(*columns), axis=1)


MODEL = Alif(
    name="alif",
    params=AlifParams,
    state={"v": "V", "I_syn_e": "A", "I_syn_i": "A", "b": ""},
    propagators=("p22", "p21e", "p21i", "p11e", "p11i", "drive", "V_th", "V_reset", "p_b",
                 "beta"),
    weight_dims=("A", "V"),
    time_constants=("tau_m", "tau_syn_e", "tau_syn_i", "tau_b"),
)
