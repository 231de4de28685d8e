"""Populations, projections and their compiled construction into CSR form."""

from neurosim.network.build import Network, PopulationSlice, ProjectionInfo, build_network

__all__ = ["Network", "PopulationSlice", "ProjectionInfo", "build_network"]
