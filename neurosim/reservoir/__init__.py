"""Liquid state machines, reservoirs and their metrics."""
