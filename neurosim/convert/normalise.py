"""Data-based normalisation: the threshold of each converted layer.

An IF neuron with reset by subtraction fires at most once per step, so its
rate times its threshold stands for ANN activations up to the threshold and
clips the rest.  The threshold of each activated layer is therefore set from
its activations on training samples: at their maximum (Diehl et al. 2015:
nothing clips, but a rare outlier makes every other rate small and slow to
resolve), at a percentile of them (Rueckauer et al. 2017: 99.9 clips the
outliers only), or, for a QCFS-trained ANN, at the clip value it learnt
(Bu et al. 2022: there the ANN itself clips at it).
"""

from __future__ import annotations

import numpy as np
import torch

from neurosim.config.convert import ACTIVATION_SUFFIX, Clip, Maximum, Normalisation
from neurosim.errors import DataError


@torch.no_grad()
def layer_activations(model: torch.nn.Sequential, images: torch.Tensor,
                      batch_size: int) -> dict[str, torch.Tensor]:
    """Every activated layer's outputs on ``images``, by layer name, ``(n, *shape)``."""
    model.eval()
    found: dict[str, list[torch.Tensor]] = {}
    for first in range(0, len(images), batch_size):
        x = images[first:first + batch_size]
        for name, module in model.named_children():
            x = module(x)
            if name.endswith(ACTIVATION_SUFFIX):
                found.setdefault(name[:-len(ACTIVATION_SUFFIX)], []).append(x)
    return {name: torch.cat(parts) for name, parts in found.items()}


def thresholds(model: torch.nn.Sequential, normalisation: Normalisation, images: torch.Tensor,
               batch_size: int) -> dict[str, float]:
    """The threshold of every activated layer, by layer name (module docstring)."""
    if isinstance(normalisation, Clip):
        return {name[:-len(ACTIVATION_SUFFIX)]: float(module.clip.detach())
                for name, module in model.named_children() if name.endswith(ACTIVATION_SUFFIX)}
    out = {}
    for name, values in layer_activations(model, images, batch_size).items():
        if isinstance(normalisation, Maximum):
            level = float(values.max())
        else:  # numpy: torch.quantile refuses more than 2**24 values
            level = float(np.percentile(values.numpy().ravel(), normalisation.percentile))
        if not level > 0:  # ReLU outputs: 0 for a silent layer, NaN for broken weights
            raise DataError(f"layer {name!r}: its {_what(normalisation)} activation on the "
                            f"{len(images)} calibration samples is {level:g}, so no threshold "
                            "can stand for it; use more calibration samples or normalisation "
                            "max")
        out[name] = level
    return out


def _what(normalisation: Normalisation) -> str:
    return "largest" if isinstance(normalisation, Maximum) else (
        f"{normalisation.percentile:g}th-percentile")
