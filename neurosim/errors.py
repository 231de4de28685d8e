"""One exception tree for everything a user can get wrong.

Every error a user can cause is a :class:`NeurosimError`; the command line
prints its message alone (no traceback) and exits with a non-zero code.
"""


class NeurosimError(Exception):
    """Base class of all user-facing errors."""


class ConfigError(NeurosimError, ValueError):
    """A configuration is malformed or describes an impossible network.

    The message names the key path (``populations.exc.params.tau_m``) and why.
    """


class ResourceError(NeurosimError):
    """A run would need more memory (or other resources) than the machine has."""


class DataError(NeurosimError):
    """A data set or result file is missing, unreadable or malformed."""


class OutputError(NeurosimError):
    """A result or plot cannot be written where the user asked."""


class NumericalError(NeurosimError):
    """A run's numbers left the range of its precision: NaN or infinity in what it
    would save.  Nothing is written; the message names where it first appeared."""
