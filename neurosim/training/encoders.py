"""Images -> the first layer's input at every step, on torch tensors.

``constant_current`` hands the images through unchanged: the same input at
every step, so the first layer's product is taken once for all steps.
``bernoulli_rate`` draws a spike per pixel and step with the pixel value as
probability, from a generator the caller seeds per batch (so a batch's
spikes depend on the seed and its place alone, whatever ran before).
"""

from __future__ import annotations

import torch


def constant_current(images: torch.Tensor, steps: int, generator: torch.Generator) -> torch.Tensor:
    """The images themselves, ``(batch, *sample)``: the input of every step."""
    return images


def bernoulli_rate(images: torch.Tensor, steps: int, generator: torch.Generator) -> torch.Tensor:
    """Spikes ``(steps, batch, *sample)``, each with its pixel's value as probability."""
    draws = torch.rand((steps, *images.shape), generator=generator, dtype=images.dtype)
    return (draws < images).to(images.dtype)


#: Encoders by their config name (``encoding.kind``).
ENCODERS = {"constant_current": constant_current, "bernoulli_rate": bernoulli_rate}
