"""The zero-shot RRAM liquid: a fixed random LIF network read through a crossbar.

One network description, two weight sources:

- software: ``W ~ N(0, sigma)`` siemens, dense, with ``sigma`` the std of the
  random device's differential conductance (zero mean, ~6.6 uS by default),
  read digitally (an exact matrix product);
- crossbar: the weights live on RRAM tiles (:class:`~neurosim.crossbar.CrossbarArray`,
  with its chain of non-idealities) and every step is one analog read with
  the spikes as binary row pulses. In ``random_device`` mode the tiles draw
  their own random conductances (the paper's zero-shot idea); in
  ``programmed`` mode they are programmed with the software weights.

The liquid has ``n_in`` event inputs and ``n`` LIF neurons; rows ``0..n_in-1``
of the weight matrix are the input synapses, rows ``n_in..n_in+n-1`` the
recurrent ones. Each step (the paper's discrete-time LIF, reset to 0)::

    I_t = W_in^T x_t + W_rec^T s_{t-1}
    v_t = decay * v_{t-1} * (1 - s_{t-1}) + I_t
    s_t = v_t > threshold

The features of a sample are its spike counts over all steps. The paper's
public scripts (github.com/MrLinNing/MemristorLSM) give the sizes 256-200-10,
50 steps, decay 0.9, threshold 5 and a searched weight constant, but not the
liquid's model file: the reset to 0 above (the usual ``decay v (1 - s)`` form
of that group's LIF) and dense input and recurrent matrices are assumptions.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.rram_lsm import CROP_SENSOR, FRAME, EncoderSection
from neurosim.crossbar import CrossbarArray
from neurosim.crossbar.random_device import expected_weight_std
from neurosim.crossbar.tiles import from_tiles
from neurosim.data import saccade_events

#: Siemens per microsiemens (weights are scaled per uS of conductance).
_PER_US = 1e6


# ---------------------------------------------------------------------------
# Event frames
# ---------------------------------------------------------------------------

def image_frames(image: np.ndarray, enc: EncoderSection) -> np.ndarray:
    """One image -> binary event frames ``(steps, n_inputs)`` (see :class:`EncoderSection`)."""
    if enc.frame == "downsample":
        h, w = (s // 2 * 2 for s in image.shape)
        small = image[:h, :w].reshape(h // 2, 2, w // 2, 2).astype(np.float64).mean(axis=(1, 3))
        ev, off = saccade_events(small, size=FRAME, amplitude=enc.amplitude,
                                 saccade_ms=enc.saccade_ms, threshold=enc.threshold), 0
    else:
        ev = saccade_events(image, size=CROP_SENSOR, amplitude=enc.amplitude,
                            saccade_ms=enc.saccade_ms, threshold=enc.threshold)
        off = (CROP_SENSOR - FRAME) // 2
    x, y = ev["x"].astype(np.int64) - off, ev["y"].astype(np.int64) - off
    keep = (x >= 0) & (x < FRAME) & (y >= 0) & (y < FRAME)
    if enc.polarity == "on":
        keep &= ev["p"] > 0
    elif enc.polarity == "off":
        keep &= ev["p"] < 0
    channel = (ev["p"] < 0).astype(np.int64) if enc.polarity == "both" else 0
    # events at t = 1 .. 3 * saccade_ms (ms) -> bins 0 .. steps - 1
    t_bin = (ev["t"].astype(np.int64) - 1) * enc.steps // (3 * enc.saccade_ms)
    frames = np.zeros((enc.steps, enc.n_inputs), dtype=bool)
    index = (channel * FRAME + y) * FRAME + x
    frames[t_bin[keep], index[keep]] = True
    return frames


def _frames_chunk(args) -> np.ndarray:
    images, enc = args
    frames = np.zeros((len(images), enc.steps, enc.n_inputs), bool)
    for k, image in enumerate(images):
        frames[k] = image_frames(image, enc)
    return frames


def encode_images(images: np.ndarray, enc: EncoderSection, workers: int = 1) -> np.ndarray:
    """Images ``(n, h, w)`` -> frames ``(n, steps, n_inputs)`` bool, in ``workers`` processes."""
    if workers <= 1 or len(images) < 2 * workers:
        return _frames_chunk((images, enc))
    chunks = np.array_split(np.arange(len(images)), 4 * workers)
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        parts = pool.map(_frames_chunk, [(images[c], enc) for c in chunks])
        return np.concatenate(list(parts))


# ---------------------------------------------------------------------------
# Weight sources
# ---------------------------------------------------------------------------

def software_weights(n_rows: int, n_neurons: int, device_std: float, scale: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Dense Gaussian weights in membrane units: ``N(0, device_std)`` siemens x ``scale`` per uS."""
    return rng.standard_normal((n_rows, n_neurons)) * (device_std * _PER_US * scale)


class DigitalSynapses:
    """Weights ``(n_in + n, n)`` in membrane units, read exactly."""

    def __init__(self, weights: np.ndarray, dtype=np.float64):
        self.weights = np.asarray(weights, dtype=dtype)
        self.dtype = self.weights.dtype

    def read(self, x: np.ndarray) -> np.ndarray:
        """Synaptic input ``(batch, n)`` of binary rows ``x`` ``(batch, n_in + n)``."""
        return x @ self.weights


class CrossbarSynapses:
    """The same weights on RRAM tiles; every :meth:`read` is one analog read.

    ``cfg.mode == "programmed"``: ``weights`` (membrane units) are programmed.
    ``cfg.mode == "random_device"``: every cell of the ``shape`` matrix gets a
    random pair; the read differential conductance is scaled by ``scale`` per uS.
    """

    def __init__(self, cfg: CrossbarConfig, seed: int, *, weights: np.ndarray | None = None,
                 shape: tuple[int, int] | None = None, scale: float = 1.0, dtype=np.float64):
        if cfg.mode == "programmed":
            self.xbar = CrossbarArray(weights, cfg, seed, dtype=dtype)
            self.factor = 1.0
        else:
            # Every cell carries a synapse; the tile gain is then 1 / (g_max - g_min).
            self.xbar = CrossbarArray(np.ones(shape), cfg, seed, dtype=dtype)
            self.factor = (cfg.g_max - cfg.g_min) * _PER_US * scale
        self.dtype = self.xbar.dtype

    def read(self, x: np.ndarray) -> np.ndarray:
        out = self.xbar.matvec(x)
        if self.factor != 1.0:
            out *= self.dtype.type(self.factor)
        return out

    def conductance_weights(self) -> np.ndarray:
        """The read-free differential conductance per synapse, siemens ``(n_in + n, n)``."""
        m = self.xbar.matrix
        return from_tiles(m.g_diff, m.tile_cols)[: m.n_in, : m.n_out]


def device_weight_std(cfg: CrossbarConfig) -> float:
    """Std (siemens) of the random device's G+ - G-: the software weights' std."""
    return expected_weight_std(cfg.random_device)


# ---------------------------------------------------------------------------
# The liquid
# ---------------------------------------------------------------------------

def lif_step(v: np.ndarray, s: np.ndarray, current: np.ndarray, decay: float,
             threshold: float) -> None:
    """One step in place: ``v = decay v (1 - s) + current``, ``s = v > threshold``."""
    v *= decay
    v[s] = 0.0
    v += current
    np.greater(v, threshold, out=s)


def run_liquid(frames: np.ndarray, synapses, n_neurons: int, decay: float, threshold: float,
               batch: int = 1024, record: bool = False):
    """Spike counts ``(n, n_neurons)`` uint16 of every sample of ``frames`` ``(n, steps, n_in)``.

    Samples are independent (state at rest at the start of each). With
    ``record`` the spike rasters ``(n, steps, n_neurons)`` are returned too.
    """
    n, steps, n_in = frames.shape
    counts = np.zeros((n, n_neurons), np.uint16)
    raster = np.zeros((n, steps, n_neurons), bool) if record else None
    for b0 in range(0, n, batch):
        b1 = min(b0 + batch, n)
        x = np.zeros((b1 - b0, n_in + n_neurons), dtype=synapses.dtype)
        v = np.zeros((b1 - b0, n_neurons), dtype=synapses.dtype)
        s = np.zeros((b1 - b0, n_neurons), dtype=bool)
        for t in range(steps):
            x[:, :n_in] = frames[b0:b1, t]
            x[:, n_in:] = s
            lif_step(v, s, synapses.read(x), decay, threshold)
            counts[b0:b1] += s
            if record:
                raster[b0:b1, t] = s
    return (counts, raster) if record else counts
