"""A weight matrix on crossbar tiles, and the batched analog matrix-vector product.

Mapping (as in aihwkit's single-pair converter): each tile scales its own
weights by ``w_max``, the largest magnitude among them; a weight ``w`` becomes
the pair ``G+ = g_min + (g_max - g_min) max(w, 0) / w_max`` and
``G- = g_min + (g_max - g_min) max(-w, 0) / w_max``, so
``w = (G+ - G-) * w_max / (g_max - g_min)``: that factor is the tile's
digital *gain*, applied after its ADC.  Partial sums of a row of tiles are
added digitally.  Tile ``t`` of a matrix is the one at tile row
``t // tile_cols``, tile column ``t % tile_cols``; edge tiles are padded with
unused cells (``w = 0``, both devices at ``g_min``, which still carry noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from pydantic import ValidationError

from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.loader import format_validation_error
from neurosim.crossbar.periphery import Periphery, noise_key, noise_pool, read_out
from neurosim.crossbar.random_device import random_pairs
from neurosim.crossbar.stages import Drift, device_chain
from neurosim.errors import ConfigError

#: Children ``SeedSequence(seed, spawn_key=(k,))`` of a matrix's seed, one
#: stream each: the programming draws, the properties fixed per device, the
#: read noise (:func:`~neurosim.crossbar.periphery.noise_key`).
PROGRAM_STREAM, DEVICE_STREAM, READ_NOISE_STREAM = 0, 1, 2


def device_params(**settings) -> CrossbarConfig:
    """A :class:`CrossbarConfig` from keyword settings; bad values raise one :class:`ConfigError`."""
    try:
        return CrossbarConfig.model_validate(settings)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, "'crossbar'")) from None


def tile_grid(n_in: int, n_out: int, rows: int, cols: int) -> tuple[int, int]:
    """Tiles needed down and across for an ``n_in x n_out`` matrix."""
    return -(-n_in // rows), -(-n_out // cols)


def to_tiles(matrix: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``(n_in, n_out)`` -> ``(tiles, rows, cols)``, zero-padded at the edges."""
    tr, tc = tile_grid(*matrix.shape, rows, cols)
    padded = np.zeros((tr * rows, tc * cols), dtype=matrix.dtype)
    padded[: matrix.shape[0], : matrix.shape[1]] = matrix
    return padded.reshape(tr, rows, tc, cols).transpose(0, 2, 1, 3).reshape(tr * tc, rows, cols)


def from_tiles(tiles: np.ndarray, tile_cols: int) -> np.ndarray:
    """Inverse of :func:`to_tiles`, keeping the padding: ``(tr * rows, tile_cols * cols)``."""
    n, rows, cols = tiles.shape
    tr = n // tile_cols
    grid = tiles.reshape(tr, tile_cols, rows, cols).transpose(0, 2, 1, 3)
    return grid.reshape(tr * rows, tile_cols * cols)


def target_pairs(w_tiles: np.ndarray, g_min: float, g_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Target conductance pairs ``(2, tiles, rows, cols)`` and each tile's ``w_max``."""
    w_max = np.abs(w_tiles).max(axis=(1, 2))
    w_max = np.where(w_max > 0, w_max, 1.0)
    frac = w_tiles / w_max[:, None, None]
    span = g_max - g_min
    pairs = np.stack([g_min + span * np.maximum(frac, 0.0), g_min + span * np.maximum(-frac, 0.0)])
    return pairs, w_max


@dataclass
class TiledMatrix:
    """Programmed tiles: per cell ``g_diff = G+ - G-`` as read (siemens), per
    tile the digital ``gain`` (weight per siemens, drift compensation included)."""

    g_diff: np.ndarray
    gain: np.ndarray
    n_in: int
    n_out: int
    rows: int
    cols: int
    tile_cols: int


def program(weights: np.ndarray, cfg: CrossbarConfig, seed: int,
            used: np.ndarray | None = None, dtype=np.float64) -> TiledMatrix:
    """Map ``weights`` (``n_in x n_out``) onto tiles and apply the device chain.

    ``seed`` seeds, through separate children (:data:`PROGRAM_STREAM`,
    :data:`DEVICE_STREAM`), the programming draws and the properties fixed per
    device: one seed is one chip programmed once.  ``used`` marks the cells that carry a
    synapse (default: non-zero weights); in ``random_device`` mode those
    cells get random pairs (:mod:`neurosim.crossbar.random_device`) and the
    others stay pristine.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2:
        raise ConfigError(f"crossbar: weights must be a 2-D matrix (got shape {weights.shape})")
    rows, cols = cfg.tile_rows, cfg.tile_cols
    program_seq, device_seq = (np.random.SeedSequence(seed, spawn_key=(k,))
                               for k in (PROGRAM_STREAM, DEVICE_STREAM))
    rng = np.random.default_rng(program_seq)
    w_tiles = to_tiles(weights, rows, cols)
    pairs, w_max = target_pairs(w_tiles, cfg.g_min, cfg.g_max)
    if cfg.mode == "random_device":
        mask = to_tiles(weights != 0 if used is None else np.asarray(used, bool), rows, cols)
        drawn = random_pairs(mask.shape, cfg.random_device, rng)
        pairs = np.where(mask, drawn, cfg.random_device.g_pristine)
    chain = device_chain(cfg, int(device_seq.generate_state(1, np.uint32)[0]))
    pairs = chain(pairs, rng)
    drift = chain.find(Drift)
    compensation = drift.compensation if cfg.drift_compensation else 1.0
    gain = w_max / (cfg.g_max - cfg.g_min) * compensation
    return TiledMatrix(g_diff=(pairs[0] - pairs[1]).astype(dtype), gain=gain,
                       n_in=weights.shape[0], n_out=weights.shape[1], rows=rows, cols=cols,
                       tile_cols=tile_grid(*weights.shape, rows, cols)[1])


@njit(cache=True)
def _read_out_batch(partial, noise_std, key, first_read, step, half, pool):
    """:func:`read_out` on every row (sample) of ``partial``: one read each,
    counted from ``first_read``."""
    n = partial.shape[1]
    for b in range(partial.shape[0]):
        read_out(partial[b], n, noise_std[b], key, first_read + b, step, half, pool)


class CrossbarArray:
    """A weight matrix programmed onto crossbar tiles, for batched analog inference.

    Parameters
    ----------
    weights:
        ``(n_in, n_out)``: output ``y = x @ weights`` when ideal.
    cfg:
        Device settings (default: :class:`CrossbarConfig` defaults).
    seed:
        Seeds programming, device properties and read noise (separate
        streams: :data:`PROGRAM_STREAM`, :data:`DEVICE_STREAM`,
        :data:`READ_NOISE_STREAM`).
    dtype:
        Floating type of the stored conductances and the products
        (float32 halves the time of the matrix products).

    Each :meth:`matvec` call is one read of every tile per sample: inputs are
    scaled by their largest magnitude per sample (and the output scaled
    back, as aihwkit's "abs-max" noise management does), converted by the
    DAC, multiplied on the tiles (with read noise), digitised per tile by the
    ADC and accumulated digitally.
    """

    def __init__(self, weights: np.ndarray, cfg: CrossbarConfig | None = None, seed: int = 0,
                 dtype=np.float64):
        self.cfg = cfg if cfg is not None else CrossbarConfig()
        self.dtype = np.dtype(dtype)
        self.matrix = program(weights, self.cfg, seed, dtype=self.dtype)
        self.periphery = Periphery.from_config(self.cfg)
        self._key = noise_key(seed, READ_NOISE_STREAM)
        self._reads = 0  # tile reads so far: the read-noise counter

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.n_in, self.matrix.n_out

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``x`` (``batch x n_in``, or one vector) -> ``batch x n_out``."""
        x = np.asarray(x, dtype=self.dtype)
        single = x.ndim == 1
        x = np.atleast_2d(x)
        m, per = self.matrix, self.periphery
        if x.shape[1] != m.n_in:
            raise ConfigError(f"crossbar: input has {x.shape[1]} entries, the matrix {m.n_in} rows")
        scale = np.maximum(x.max(axis=1, keepdims=True), -x.min(axis=1, keepdims=True))
        scale[scale == 0] = 1.0
        xq = per.dac(x / scale)
        y = np.zeros((x.shape[0], m.n_out), dtype=self.dtype)
        for rb in range(-(-m.n_in // m.rows)):
            r0, r1 = rb * m.rows, min((rb + 1) * m.rows, m.n_in)
            xs = xq[:, r0:r1]
            std = np.broadcast_to(per.column_std((xs * xs).sum(axis=1)), (x.shape[0],))
            for cb in range(m.tile_cols):
                t = rb * m.tile_cols + cb
                c0, c1 = cb * m.cols, min((cb + 1) * m.cols, m.n_out)
                partial = xs @ m.g_diff[t, : r1 - r0, : c1 - c0]
                _read_out_batch(partial, np.ascontiguousarray(std, dtype=np.float64), self._key,
                                self._reads, per.adc_step, per.adc_half, noise_pool())
                self._reads += partial.shape[0]
                y[:, c0:c1] += partial * self.dtype.type(m.gain[t])
        y *= scale
        return y[0] if single else y
