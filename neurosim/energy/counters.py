"""The counter vocabulary the energy module prices, and helpers on counter dicts.

Counters are plain nested dicts, as in :attr:`neurosim.result.Result.counters`::

    {"populations": {name: {"neurons", "neuron_updates", "spikes"}},
     "projections": {name: {"synapses", "synaptic_events"}},
     "hardware":    {projection: {"crossbar_reads", "activated_rows",
                                  "adc_conversions", "dac_conversions",
                                  "digital_accumulations", "bytes_moved",
                                  "multiply_accumulates"}}}

The hardware keys are the backends' ``HARDWARE_COUNTERS`` plus
``multiply_accumulates``: dense multiply-accumulates of ANN layers (counted by
:mod:`neurosim.energy.torch_count`), which a spiking layer replaces by plain
accumulations. A missing key counts as zero, so counters from any source can
be priced and added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Counters priced per population.
POPULATION_KEYS = ("neuron_updates", "spikes")
#: Counters priced per projection.
PROJECTION_KEYS = ("synaptic_events",)
#: Counters priced per projection, in hardware terms.
HARDWARE_KEYS = ("crossbar_reads", "activated_rows", "adc_conversions", "dac_conversions",
                 "digital_accumulations", "bytes_moved", "multiply_accumulates")
#: Every counter a profile may price, in report order.
PRICED_KEYS = PROJECTION_KEYS + HARDWARE_KEYS + POPULATION_KEYS

#: Which report category each counter's energy goes to.
CATEGORY = {
    "synaptic_events": "synaptic operations",
    "digital_accumulations": "synaptic operations",
    "multiply_accumulates": "synaptic operations",
    "neuron_updates": "neuron updates",
    "spikes": "spike routing",
    "bytes_moved": "memory traffic",
    "crossbar_reads": "crossbar reads",
    "activated_rows": "crossbar reads",
    "adc_conversions": "ADC/DAC",
    "dac_conversions": "ADC/DAC",
}
#: Report categories in display order (``static`` is static power x time).
CATEGORIES = ("synaptic operations", "neuron updates", "spike routing", "memory traffic",
              "crossbar reads", "ADC/DAC", "static")

_SECTIONS = ("populations", "projections", "hardware")


def empty_counters() -> dict[str, dict[str, dict[str, int]]]:
    """Counters with no entries."""
    return {section: {} for section in _SECTIONS}


def add_counters(*many: Mapping) -> dict[str, dict[str, dict[str, int]]]:
    """Sum counter dicts entry by entry (e.g. the runs of several samples).

    Entries with the same section, name and key are added; ``neurons`` and
    ``synapses`` describe the network rather than work, so they are kept
    (the largest seen) instead of summed.
    """
    total = empty_counters()
    for counters in many:
        for section in _SECTIONS:
            for name, row in counters.get(section, {}).items():
                into = total[section].setdefault(name, {})
                for key, value in row.items():
                    if key in ("neurons", "synapses"):
                        into[key] = max(into.get(key, 0), int(value))
                    else:
                        into[key] = into.get(key, 0) + int(value)
    return total


def iter_counts(counters: Mapping) -> Iterable[tuple[str, str, str, int]]:
    """Every priced count as ``(section, name, key, count)``, zeros included."""
    for name, row in counters.get("populations", {}).items():
        for key in POPULATION_KEYS:
            yield "populations", name, key, int(row.get(key, 0))
    for name, row in counters.get("projections", {}).items():
        for key in PROJECTION_KEYS:
            yield "projections", name, key, int(row.get(key, 0))
    for name, row in counters.get("hardware", {}).items():
        for key in HARDWARE_KEYS:
            yield "hardware", name, key, int(row.get(key, 0))
