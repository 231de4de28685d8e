"""The zero-shot RRAM liquid: a fixed random LIF network read through a crossbar.

One network description, two weight sources, two implementations of one
projection (:class:`LiquidSynapses`, read by binary rows):

- software (:class:`DigitalSynapses`): ``W ~ N(0, sigma)`` siemens, dense,
  with ``sigma`` the std of the random device's differential conductance
  (zero mean, ~6.6 uS by default), read digitally (an exact matrix product);
- crossbar (:class:`CrossbarSynapses`): the weights live on RRAM tiles, read
  by :class:`~neurosim.crossbar.projection.CrossbarProjection` as the
  ``crossbar`` backend reads its projections: every step is one read with the
  spikes as binary row pulses, through the chain of non-idealities. In
  ``random_device`` mode the tiles draw their own random conductances (the
  paper's zero-shot idea); in ``programmed`` mode they are programmed with
  the software weights.

The liquid has ``n_in`` event inputs and ``n`` neurons; rows ``0..n_in-1``
of the weight matrix are the input synapses, rows ``n_in..n_in+n-1`` the
recurrent ones. The neurons are the model layer's ``lif_discrete`` with
``reset: zero`` (:mod:`neurosim.models.lif_discrete`), its synaptic input
acting in its own step (``alpha`` 0, ``gain`` 1): the paper's discrete-time
LIF, reset to 0::

    I_t = W_in^T x_t + W_rec^T s_{t-1}
    v_t = decay * v_{t-1} * (1 - s_{t-1}) + I_t
    s_t = v_t >= threshold

The features of a sample are its spike counts over all steps. The paper's
public scripts (github.com/MrLinNing/MemristorLSM) give the sizes 256-200-10,
50 steps, decay 0.9, threshold 5 and a searched weight constant, but not the
liquid's model file: the reset to 0 above (the usual ``decay v (1 - s)`` form
of that group's LIF) and dense input and recurrent matrices are assumptions.
"""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from numba import njit

from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.rram_lsm import CROP_SENSOR, FRAME, EncoderSection
from neurosim.crossbar.periphery import noise_key
from neurosim.crossbar.projection import CrossbarProjection, Matrix
from neurosim.crossbar.random_device import expected_weight_std
from neurosim.crossbar.tiles import READ_NOISE_STREAM
from neurosim.data import saccade_events
from neurosim.models.lif_discrete import MODEL as LIF_DISCRETE
from neurosim.models.lif_discrete import numba_kernels as lif_discrete

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


class LiquidSynapses(ABC):
    """The liquid's synapses: one projection, rows = the inputs then the
    neurons, read each step by the binary rows that spiked.

    ``samples_read`` counts the samples :func:`run_liquid` has driven
    through it (the next run numbers its reads from there).
    """

    dtype: np.dtype
    samples_read: int = 0

    @abstractmethod
    def read(self, x: np.ndarray, reads: np.ndarray) -> np.ndarray:
        """Synaptic input ``(batch, n)`` of binary rows ``x`` ``(batch, n_in + n)``;
        sample ``b``'s read is read number ``reads[b]``."""


class DigitalSynapses(LiquidSynapses):
    """Weights ``(n_in + n, n)`` in membrane units, read exactly."""

    def __init__(self, weights: np.ndarray, dtype=np.float64):
        self.weights = np.asarray(weights, dtype=dtype)
        self.dtype = self.weights.dtype

    def read(self, x: np.ndarray, reads: np.ndarray) -> np.ndarray:
        return x @ self.weights


class CrossbarSynapses(LiquidSynapses):
    """The same projection on RRAM tiles; every :meth:`read` is one read of
    the tiles per sample (:class:`~neurosim.crossbar.projection.CrossbarProjection`,
    read noise keyed by the read number).

    ``cfg.mode == "programmed"``: ``weights`` (membrane units) are programmed.
    ``cfg.mode == "random_device"``: every cell of the ``shape`` matrix gets a
    random pair; the read differential conductance is scaled by ``scale`` per uS.
    """

    def __init__(self, cfg: CrossbarConfig, seed: int, *, weights: np.ndarray | None = None,
                 shape: tuple[int, int] | None = None, scale: float = 1.0, dtype=np.float64):
        if cfg.mode == "programmed":
            matrix, self.factor = weights, 1.0
        else:
            # Every cell carries a synapse; the tile gain is then 1 / (g_max - g_min).
            matrix, self.factor = np.ones(shape), (cfg.g_max - cfg.g_min) * _PER_US * scale
        self.projection = CrossbarProjection(cfg, [Matrix(matrix, None, seed)], dtype,
                                             noise_key(seed, READ_NOISE_STREAM))
        self.dtype = self.projection.dtype

    def read(self, x: np.ndarray, reads: np.ndarray) -> np.ndarray:
        out = self.projection.read(x, reads)
        if self.factor != 1.0:
            out *= self.dtype.type(self.factor)
        return out

    def conductance_weights(self) -> np.ndarray:
        """The read-free differential conductance per synapse, siemens ``(n_in + n, n)``."""
        return self.projection.conductances(0)


def device_weight_std(cfg: CrossbarConfig) -> float:
    """Std (siemens) of the random device's G+ - G-: the software weights' std."""
    return expected_weight_std(cfg.random_device)


# ---------------------------------------------------------------------------
# The liquid
# ---------------------------------------------------------------------------

#: update_block's spike list, which it does not write (the engine's group loop scans).
_NO_SPIKE_LIST = np.zeros((1, 1), np.int32)


@njit(cache=True)
def _advance(v, x, par, spikes):
    """One ``lif_discrete`` step of every neuron (``v`` and the rows ``x``
    flat over the batch); ``spikes`` (bool, flat) gets the neurons that fired."""
    lif_discrete.update_block(0, v.size, v, x, par, 0, _NO_SPIKE_LIST, 0, 0)
    mark = lif_discrete.spike_mark(0)
    for i in range(v.size):
        spikes[i] = x[2, i] == mark


def liquid_parameters(decay: float, threshold: float, dtype) -> np.ndarray:
    """The ``lif_discrete`` propagators of the liquid, in the state's type (the
    arithmetic of a float32 liquid stays in float32)."""
    p = {"beta": [decay], "gain": [1.0], "alpha": [0.0], "bias": [0.0],
         "threshold": [threshold], "reset": ["zero"]}
    return LIF_DISCRETE.discretise(p, 1.0, None)[0].astype(dtype)


def run_liquid(frames: np.ndarray, synapses: LiquidSynapses, n_neurons: int, decay: float,
               threshold: float, batch: int = 1024, record: bool = False,
               first_sample: int | None = None):
    """Spike counts ``(n, n_neurons)`` uint16 of every sample of ``frames`` ``(n, steps, n_in)``.

    Samples are independent (state at rest at the start of each). With
    ``record`` the spike rasters ``(n, steps, n_neurons)`` are returned too.
    Sample ``k`` reads its synapses at step ``t`` as read number
    ``(first_sample + k) * steps + t``; by default ``first_sample`` is
    ``synapses.samples_read``, and the run leaves ``samples_read`` at
    ``first_sample + n``, so that every sample a crossbar reads gets read
    noise of its own (whatever the batch: the reads are numbered by sample).
    """
    n, steps, n_in = frames.shape
    first = synapses.samples_read if first_sample is None else first_sample
    dtype = synapses.dtype
    par = liquid_parameters(decay, threshold, dtype)
    counts = np.zeros((n, n_neurons), np.uint16)
    raster = np.zeros((n, steps, n_neurons), bool) if record else None
    for b0 in range(0, n, batch):
        b1 = min(b0 + batch, n)
        x = np.zeros((b1 - b0, n_in + n_neurons), dtype=dtype)
        v = np.zeros((b1 - b0) * n_neurons, dtype=dtype)
        state = np.zeros((LIF_DISCRETE.state_rows, v.size), dtype=dtype)  # I_e, I_i, count
        s = np.zeros((b1 - b0, n_neurons), dtype=bool)
        samples = np.arange(first + b0, first + b1, dtype=np.int64)
        for t in range(steps):
            x[:, :n_in] = frames[b0:b1, t]
            x[:, n_in:] = s
            state[0] = synapses.read(x, samples * steps + t).reshape(-1)
            _advance(v, state, par, s.reshape(-1))
            counts[b0:b1] += s
            if record:
                raster[b0:b1, t] = s
    synapses.samples_read = first + n
    return (counts, raster) if record else counts
