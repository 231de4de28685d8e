"""Read, override, validate and write run configurations.

A configuration comes from a YAML file, from the name of a built-in config
(``cuba``, ``coba``, ``cuba_scaled``: the ``configs/`` folder, shipped as the
package ``neurosim.configs``), or from a string. Overrides such as
``duration=2s`` edit the raw mapping before validation, so they are checked
exactly like the file. Every problem ends up in one :class:`ConfigError` that
names the config and lists each bad key as ``path.to.key: reason``.

:func:`dump_config` writes the fully resolved configuration (defaults filled
in, quantities as exact SI values with units); that text is what result files
store, and loading it gives back an equal :class:`RunConfig`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from neurosim.config.base import error_reason, shown
from neurosim.config.run import RunConfig
from neurosim.errors import ConfigError
from neurosim.tasks import DEFAULT_TASK, TASKS, resolve

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.resources.abc import Traversable

    from neurosim.config.lsm import LSMConfig

_SUFFIXES = (".yaml", ".yml")
# libyaml's loader and dumper where PyYAML has them: the same documents, 5-8x
# faster (~10 ms of every `neurosim run`: the config is read once and written
# once into the result).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: Values that aliases may add to a document: far beyond the few shared
#: parameter blocks of a real config, far below what a "billion laughs"
#: document of a few hundred bytes expands to.
MAX_ALIAS_VALUES = 100_000
#: Deepest nesting of a document (real configs nest about 6 deep); deeper
#: ones would exhaust the recursion of the constructor and the validators.
MAX_DEPTH = 64


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return node.value if isinstance(node, yaml.SequenceNode) else []


def _check_graph(root: yaml.Node) -> None:
    """Refuse a composed document that aliases would blow up, or that nests itself.

    An alias is the same node as its anchor, so the composed graph is as
    small as the text; what is built from it (and copied by :func:`_unshare`)
    is the tree with every alias expanded.  Its size and depth are counted
    on the graph (each node once), before anything is built.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    entered: set[int] = set()  # the nodes on the path to the current one
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            entered.discard(key)
            continue
        if key in size:
            continue
        entered.add(key)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in entered:
                raise yaml.constructor.ConstructorError(
                    None, None, "an alias refers to its own anchor (a recursive document)",
                    kid.start_mark)
            stack.append((kid, False))
    added = size[id(root)] - len(size)
    if added > MAX_ALIAS_VALUES:
        raise yaml.constructor.ConstructorError(
            None, None, f"aliases expand the document by {added:,} values (at most "
                        f"{MAX_ALIAS_VALUES:,}): not a config", root.start_mark)
    if depth[id(root)] > MAX_DEPTH:
        raise yaml.constructor.ConstructorError(
            None, None, f"nested {depth[id(root)]} levels deep (at most {MAX_DEPTH})",
            root.start_mark)


class _ConfigLoader(_LOADER):
    """The safe loader (plain data only: no tag builds a Python object), with the
    graph checked before anything is built."""

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_graph(node)
        return node

    def construct_yaml_int(self, node):
        # Python refuses to read integers of more than 4,300 digits with a ValueError.
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {len(node.value):,} digits is not a number "
                            "any setting takes", node.start_mark) from None


_ConfigLoader.add_constructor("tag:yaml.org,2002:int", _ConfigLoader.construct_yaml_int)


def _yaml_problem(err: yaml.YAMLError) -> str:
    """One line for a YAML error: what, where (PyYAML's own text spans three lines)."""
    if not isinstance(err, yaml.MarkedYAMLError):
        return str(err)
    mark = err.problem_mark or err.context_mark
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    what = "; ".join(part for part in (err.context, err.problem) if part)
    return f"{what}{where}"


def _load_yaml(text: str) -> Any:
    """Plain data from YAML text, or a ``yaml.YAMLError``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Undecodable bytes on the command line arrive as lone surrogates.
        raise yaml.YAMLError("not valid UTF-8 text") from None
    return yaml.load(text, Loader=_ConfigLoader)


def _configs_dir() -> Traversable:
    """The folder of built-in configs, installed or in a source checkout."""
    try:
        return resources.files("neurosim.configs")
    except ModuleNotFoundError:
        # Not installed (tests run from the repository): configs/ sits next
        # to the package folder, as pyproject.toml maps it.
        return Path(__file__).resolve().parents[2] / "configs"


def builtin_configs() -> list[str]:
    """Names of the built-in configs, sorted."""
    folder = _configs_dir()
    if not folder.is_dir():
        return []
    return sorted(
        entry.name.rsplit(".", 1)[0]
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIXES)
    )


def _builtin_list() -> str:
    return ", ".join(builtin_configs()) or "none found"


def _read_source(source: str | os.PathLike[str]) -> tuple[str, str, str]:
    """Find and read a config: returns (text, default name, label for messages)."""
    path = Path(source)
    try:
        found = path.is_file()
    except (OSError, ValueError) as err:  # a name too long, a NUL in it
        raise ConfigError(f"cannot read config file {shown(str(path))}: {err}") from None
    if found:
        try:
            return path.read_text(encoding="utf-8"), path.stem, repr(str(path))
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read config file {str(path)!r}: {err}") from None
    name = str(source)
    # A bare word (no folder, no suffix) names a built-in config.
    if name and os.sep not in name and "/" not in name and not name.endswith(_SUFFIXES):
        for suffix in _SUFFIXES:
            entry = _configs_dir() / f"{name}{suffix}"
            if entry.is_file():
                return entry.read_text(encoding="utf-8"), name, f"{name!r} (built-in)"
    what = ("is a folder, not a config file" if path.is_dir()
            else "is neither a file nor a built-in config")
    raise ConfigError(f"config {name!r} {what} (built-in configs: {_builtin_list()})")


def _parse_yaml(text: str, label: str) -> dict[str, Any]:
    try:
        raw = _load_yaml(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"config {label} is not valid YAML: {_yaml_problem(err)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"config {label}: expected a mapping of keys at the top, got {type(raw).__name__}"
        )
    return raw


def _unshare(node: Any) -> Any:
    """Copy a YAML tree so that no two keys share one object.

    The YAML loader returns the *same* dict for every alias of an anchor
    (``params: *lif``); without this copy an override of
    ``populations.exc.params.tau_m`` would also change ``inh``. (``deepcopy``
    would keep the sharing: it copies each shared object once.)
    """
    if isinstance(node, dict):
        return {key: _unshare(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_unshare(value) for value in node]
    return node


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``"KEY.PATH=VALUE"`` into the key path and the YAML-parsed value.

    ``VALUE`` goes through the same safe YAML loader: ``3`` is an int, ``2s`` a
    string, ``[1, 2]`` a list, an empty value ``null``.

    Raises
    ------
    ConfigError
        If there is no ``=``, the path is empty or has an empty part, or the
        value is not valid YAML.
    """
    key, sep, value_text = text.partition("=")
    path = key.strip().split(".")
    if not sep or any(part.strip() == "" for part in path):
        raise ConfigError(
            f"malformed override {shown(text)}: expected KEY.PATH=VALUE, e.g. duration=2s "
            "or populations.exc.size=100"
        )
    try:
        value = _load_yaml(value_text)
    except yaml.YAMLError as err:
        raise ConfigError(f"override {shown(text)}: value is not valid YAML: "
                          f"{_yaml_problem(err)}") from None
    return [part.strip() for part in path], value


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of the raw mapping with ``KEY.PATH=VALUE`` overrides applied.

    Missing intermediate keys are created as mappings (so a new trace or
    projection can be added from the command line); a path that runs through
    a value that is not a mapping is an error.
    """
    tree = _unshare(dict(raw))
    for text in overrides:
        path, value = parse_override(text)
        node = tree
        for depth, part in enumerate(path[:-1]):
            if node.get(part) is None:  # absent, or an empty YAML key ("record:")
                node[part] = {}
            child = node[part]
            if not isinstance(child, dict):
                where = ".".join(path[: depth + 1])
                raise ConfigError(f"override {shown(text)}: {where} is {shown(child)}, "
                                  "not a mapping")
            node = child
        node[path[-1]] = value
    return tree


def _format_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def format_validation_error(err: ValidationError, label: str) -> str:
    """One message for every problem of a pydantic error, one line each."""
    lines = [f"{_format_path(e['loc'])}: {error_reason(e)}" for e in err.errors()]
    count = f"{len(lines)} problems" if len(lines) > 1 else "1 problem"
    return f"invalid config {label} ({count}):\n  " + "\n  ".join(lines)


def schema_for(raw: Mapping[str, Any], label: str = "'run'") -> type:
    """The schema a raw mapping is validated with: its task's (:data:`neurosim.tasks.TASKS`).

    A mapping without a ``task`` key is a network run (:data:`~neurosim.tasks.DEFAULT_TASK`).
    """
    task = raw.get("task", DEFAULT_TASK)
    if not isinstance(task, str) or task not in TASKS:
        raise ConfigError(f"invalid config {label} (1 problem):\n  task: unknown task {task!r} "
                          f"(known: {', '.join(TASKS)})")
    # Imported only when asked for: building its pydantic models costs ~0.05 s.
    return resolve(TASKS[task].schema)


def validate_config(raw: Mapping[str, Any], label: str = "'run'") -> RunConfig | LSMConfig:
    """Validate a raw mapping; any problem becomes one :class:`ConfigError`.

    A top-level ``task`` key selects the config kind (:data:`neurosim.tasks.TASKS`); a
    schema without a ``task`` field (the network run's) is named by leaving the key out,
    or by its name (``task: network``), which is dropped before validation.
    """
    schema = schema_for(raw, label)
    if "task" in raw and "task" not in schema.model_fields:
        raw = {key: value for key, value in raw.items() if key != "task"}
    try:
        return schema.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, label)) from None


def load_config_text(text: str, name: str = "run",
                     overrides: Iterable[str] = ()) -> RunConfig | LSMConfig:
    """Load a config from YAML text.

    Parameters
    ----------
    text:
        The YAML document.
    name:
        Run name if the text has no ``name`` key; also names the config in
        error messages.
    overrides:
        ``KEY.PATH=VALUE`` strings applied before validation.
    """
    label = repr(name)
    raw = apply_overrides(_parse_yaml(text, label), overrides)
    raw.setdefault("name", name)
    return validate_config(raw, label)


def load_config(source: str | os.PathLike[str],
                overrides: Iterable[str] = ()) -> RunConfig | LSMConfig:
    """Load, override and validate a config file or built-in config.

    Parameters
    ----------
    source:
        Path of a YAML file, or the name of a built-in config (``cuba``,
        ``coba``, ``cuba_scaled``, see :func:`builtin_configs`). An existing
        file wins over a built-in of the same name.
    overrides:
        ``KEY.PATH=VALUE`` strings, e.g. ``["duration=2s", "seed=3"]``.

    Returns
    -------
    RunConfig or LSMConfig
        The validated configuration (a top-level ``task`` key selects the
        kind, see :data:`neurosim.tasks.TASKS`); ``name`` defaults to the file stem.

    Raises
    ------
    ConfigError
        If the source cannot be found or read, is not valid YAML, an override
        is malformed, or the config is invalid (all problems in one message).

    Examples
    --------
    >>> cfg = load_config("cuba", overrides=["duration=200 ms"])
    >>> cfg.duration
    0.2
    """
    text, name, label = _read_source(source)
    raw = apply_overrides(_parse_yaml(text, label), overrides)
    raw.setdefault("name", name)
    return validate_config(raw, label)


def dump_config(cfg: RunConfig | LSMConfig) -> str:
    """The fully resolved config as YAML; :func:`load_config_text` gives it back.

    Quantities are written as exact SI values with their unit (``0.02 s``),
    so ``load_config_text(dump_config(cfg)) == cfg``. This is the text result
    files store.
    """
    # Optional top-level sections left out when absent (no ``crossbar: null``); None inside a
    # section can mean something (e.g. ``adc_bits: null`` is an ideal ADC), so it stays.
    absent = {name for name, value in cfg if value is None}
    data = cfg.model_dump(mode="json", exclude=absent, by_alias=True)  # connect: lambda
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True,
                     default_flow_style=False)
