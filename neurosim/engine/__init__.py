"""The event-driven engine: the compiled step loops that every numba backend runs."""
