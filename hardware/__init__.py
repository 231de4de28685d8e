"""Hardware profiles (YAML), shipped as package data ``neurosim.hardware``."""
