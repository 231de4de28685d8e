"""The counter vocabulary the energy module prices, and helpers on counter dicts.

Counters are plain nested dicts, as in :attr:`neurosim.result.Result.counters`::

    {"populations": {name: {"neurons", "neuron_updates", "spikes"}},
     "projections": {name: {"synapses", "synaptic_events", "multiply_accumulates"}},
     "hardware":    {projection: {key: count for key in HARDWARE_COUNTERS}}}

Two kinds of counts, priced by two kinds of profiles:

* **Workload** (the ``populations`` and ``projections`` sections): the work
  the network itself asks for, the same whichever backend ran it.
  ``neuron_updates``: one per neuron per step; ``spikes``: spikes emitted;
  ``synaptic_events``: (spike, synapse) deliveries; ``multiply_accumulates``:
  multiply-adds of a dense layer whose input is not spikes (ANN layers, counted
  by :mod:`neurosim.energy.torch_count`). A *digital* profile (cpu_core, gpu,
  horowitz45, loihi, truenorth, spinnaker, spinnaker2) describes a target
  running the network, so it prices these and only these; the memory reads an
  operation needs on that target are part of its per-operation figure.
* **Hardware** (the ``hardware`` section,
  :data:`neurosim.result.HARDWARE_COUNTERS`): how the backend did the synaptic
  work. They matter only for a profile of the device that backend emulates:
  the crossbar counters (``crossbar_reads``, ``activated_rows``,
  ``adc_conversions``, ``dac_conversions`` and the ``digital_accumulations`` of
  ADC outputs) are priced by ``rram_crossbar`` alone. A profile prices a
  hardware key from this section only, and a workload key from the workload
  sections only, so the dense ``multiply_accumulates`` a simulator backend did
  (torch's dense path) are never taken for an ANN layer's: no profile models
  the simulator's own implementation.

A profile that prices hardware counters names in ``requires`` the ones a
projection must have; projections without them (a cpu-backend run) have
their synaptic work left unpriced, and the report says so. A missing key
counts as zero, so counters from any source can be priced and added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from neurosim.result import HARDWARE_COUNTERS

#: Workload counters priced per population.
POPULATION_KEYS = ("neuron_updates", "spikes")
#: Workload counters priced per projection.
PROJECTION_KEYS = ("synaptic_events", "multiply_accumulates")
#: Workload counters: the same on every backend.
WORKLOAD_KEYS = PROJECTION_KEYS + POPULATION_KEYS
#: Hardware counters: the backend's way of doing the synaptic work.
HARDWARE_KEYS = tuple(key for key in HARDWARE_COUNTERS if key not in WORKLOAD_KEYS)
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
