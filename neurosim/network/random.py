"""Counter-based random numbers for network construction.

Every draw is a pure function of ``(key, counter)`` (a SplitMix64 hash), so
the network for a seed is the same whatever the thread count, the order the
passes run in, or whether a pass only counts synapses or fills them.  This is
what lets the builder generate connectivity twice (count, then fill) instead
of holding a temporary copy of every synapse.
"""

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / 9007199254740992.0

#: Stream numbers: independent draws for structure, weights, delays and
#: Poisson inputs.
STRUCTURE, WEIGHT, DELAY, POISSON = 0, 1, 2, 3


@njit(cache=True)
def mix64(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def row_key(seed, stream, row):
    """Key of one row (a source or target neuron) of one stream."""
    return mix64(seed ^ mix64(np.uint64(stream) * _GOLDEN + np.uint64(row)))


@njit(cache=True)
def uniform(key, counter):
    """Uniform float64 in [0, 1) from 53 random bits."""
    bits = mix64(key + (np.uint64(counter) + np.uint64(1)) * _GOLDEN) >> np.uint64(11)
    return float(bits) * _INV_2_53


@njit(cache=True)
def normal(key, counter):
    """Standard normal draw (Box-Muller on counters 2c and 2c+1)."""
    u1 = 1.0 - uniform(key, 2 * counter)  # in (0, 1]: log is finite
    u2 = uniform(key, 2 * counter + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


# Distribution codes shared with neurosim.network.build.
CONSTANT, UNIFORM, NORMAL, LOGNORMAL, RANDOM_SIGN = 0, 1, 2, 3, 4


@njit(cache=True)
def sample(dist, key, counter):
    """Draw from ``dist = (code, a, b, lo, hi)``, a tuple of floats.

    (A tuple rather than an array: scalars cross compiled calls without the
    reference counting an array argument costs on every synapse.)
    """
    code = int(dist[0])
    a = dist[1]
    b = dist[2]
    if code == CONSTANT:
        x = a
    elif code == UNIFORM:
        x = a + (b - a) * uniform(key, counter)
    elif code == NORMAL:
        x = a + b * normal(key, counter)
    elif code == RANDOM_SIGN:
        x = -a if uniform(key, counter) < 0.5 else a
    else:
        x = a * np.exp(b * normal(key, counter))
    return min(max(x, dist[3]), dist[4])
