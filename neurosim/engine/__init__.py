"""The event-driven engine: compiled kernels and the chunked driver."""
