"""Built-in run configurations (YAML), shipped as package data ``neurosim.configs``."""
