"""Configs as data: a config dataclass is the single source of its settings, written to and read from JSON.

`from_dict(cls, data)` rebuilds any (nested, frozen) config dataclass from the dict `asdict` made of it: nested
dataclass fields recurse, tuple fields come back from JSON lists, and an unknown or missing key is one BMError
naming it (with its path, e.g. `model.width`). `read_config` takes a file, a run folder's config.json (the config
under "config" beside its provenance) or inline JSON.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from bm.errors import BMError
from bm.jsonfiles import parse_json, read_json_file

__all__ = [
    "JsonConfig",
    "as_tuple",
    "layered",
    "normalize_tuples",
    "Setting",
    "flatten",
    "from_dict",
    "from_saved",
    "read_config",
    "setting",
    "settings",
    "to_dict",
    "with_changes",
]

T = TypeVar("T")


def setting(
    default: Any = dataclasses.MISSING, *, help: str, flag: str | None = None, factory: Any = dataclasses.MISSING
) -> Any:
    """A config field with its help text: the one place a setting, its default and its help live (its check lives in
    the class's __post_init__). `flag`: its command-line name where that is not the field's (`--classes` for
    data.num_classes); `factory`: a default built per instance (a nested config)."""
    return dataclasses.field(default=default, default_factory=factory, metadata={"help": help, "flag": flag})


class Setting(typing.NamedTuple):
    """A leaf field of a (nested) config: its dotted path, command-line flag, type, default and help."""

    path: str
    flag: str
    hint: Any
    default: Any
    help: str


def settings(cls: type, prefix: str = "", defaults: Any = None) -> list[Setting]:
    """Every leaf setting of config dataclass `cls`, nested configs recursed into (paths like model.width), in field
    order; a field without help is refused (TypeError), so that no setting reaches the command line unexplained."""
    hints = typing.get_type_hints(cls)
    defaults = defaults if defaults is not None else cls()
    out = []
    for f in dataclasses.fields(cls):
        value = getattr(defaults, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            out += settings(hints[f.name], f"{prefix}{f.name}.", value)
            continue
        if "help" not in f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} has no help; declare it with bm.configs.setting")
        out.append(
            Setting(
                prefix + f.name,
                f.metadata["flag"] or f.name.replace("_", "-"),
                hints[f.name],
                value,
                f.metadata["help"],
            )
        )
    return out


def to_dict(config) -> dict[str, Any]:
    """The JSON-ready dict of a config dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level with dotted keys ({"model": {"width": 4}} -> {"model.width": 4}); lists as tuples."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
    return out


MAX_INT = 2**63  # every integer setting below this in magnitude (seeds, steps, widths, counts)


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON / command-line value has the type a field declares (int refuses 2.5, 1e308 and True)."""
    if hint is Any:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_INT
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)  # NaN / inf: the class's own check
    if hint is str:
        return isinstance(value, str)
    if hint is Path:
        return isinstance(value, (str, Path))
    if origin is tuple:
        return isinstance(value, (list, tuple)) and all(_fits(v, args[0]) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    return True  # a type bm does not check here (its class's __post_init__ does)


def _typed(cls: type, values: dict[str, Any], where: str) -> None:
    """One BMError naming the first value whose type is not its field's."""
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        hint = hints.get(name)
        if hint is not None and not dataclasses.is_dataclass(hint) and not _fits(value, hint):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise BMError(f"{where}{name} must be {_described(hint)}; got {shown}")


def _described(hint: Any) -> str:
    words = {
        int: "an integer (|x| < 2**63)",
        float: "a number",
        bool: "true or false",
        str: "a string",
        type(None): "null",
        Path: "a path",
    }
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_described(a) for a in args)
    if typing.get_origin(hint) is tuple:
        return f"a list, each {_described(args[0])}"
    return words.get(hint, getattr(hint, "__name__", str(hint)))


def from_dict(cls: type[T], data: dict[str, Any], where: str = "") -> T:
    """cls(**data) for a config dataclass, nested dataclasses and tuples restored; unknown or missing keys refused."""
    if not isinstance(data, dict):
        raise BMError(f"config{' ' + where if where else ''} must be a JSON object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]  # cls: a dataclass
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    missing = sorted(set(fields) - set(data))
    if unknown or missing:
        parts = ([f"unknown key(s) {', '.join(where + k for k in unknown)}"] if unknown else []) + (
            [f"missing key(s) {', '.join(where + k for k in missing)}"] if missing else []
        )
        raise BMError(f"{cls.__name__}: " + "; ".join(parts))
    values = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            value = from_dict(hint, value, f"{where}{name}.")  # type: ignore[arg-type]  # a dataclass type
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            value = tuple(value)
        values[name] = value
    _typed(cls, {k: v for k, v in values.items() if not dataclasses.is_dataclass(v)}, where)
    try:
        return cls(**values)
    except TypeError as e:
        raise BMError(f"{cls.__name__}: {e}") from None


class JsonConfig:
    """A config dataclass that is its own JSON: `to_json` (nested configs, tuples as lists) and `from_json` (the
    same back, unknown or missing keys refused by name)."""

    def to_json(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_json(cls: type[T], data: dict[str, Any]) -> T:
        return from_dict(cls, data)


def from_saved(cls: type[T], data: dict[str, Any]) -> T:
    """`from_dict` for a config an earlier bm saved: keys of fields added since take their defaults (nested ones
    included); a key this version does not know is still refused."""
    return layered(cls, cls(), data)


def with_changes(config: T, changes: dict[str, Any], where: str = "") -> T:
    """The config with fields replaced, nested ones by dotted path: {"model.width": 4, "lr": 1e-3}; a value of
    another type than its field's is one BMError naming it (`where`: the prefix of nested paths)."""
    top = {k: v for k, v in changes.items() if "." not in k}
    for name in {k.split(".", 1)[0] for k in changes if "." in k}:
        inner = {k.split(".", 1)[1]: v for k, v in changes.items() if k.startswith(name + ".")}
        top[name] = with_changes(getattr(config, name), inner, f"{where}{name}.")
    _typed(type(config), {k: v for k, v in top.items() if not dataclasses.is_dataclass(v)}, where)
    return dataclasses.replace(config, **top)  # type: ignore[type-var]  # config: a dataclass


def read_config(source: str | Path) -> dict[str, Any]:
    """A config dict from inline JSON (text starting with '{'), a JSON file, or a run folder's config.json
    (whose config sits under "config", beside bm_version, git_sha and the other provenance)."""
    text = str(source).strip()
    if not text.startswith("{"):
        path = Path(text)
        if path.is_dir():
            path = path / "config.json"  # a run folder (bm.runs.RunFolder.CONFIG)
        data = read_json_file(path, f"config {path}")
    else:
        data = parse_json(text, f"config {text[:60]!r}")
    if isinstance(data, dict) and "config" in data and "bm_version" in data:
        data = data["config"]
    return data


def as_tuple(value) -> tuple:
    """None, a list or one value as a tuple (the library functions take any of them)."""
    return () if value is None else (value,) if isinstance(value, (int, str)) else tuple(value)


def normalize_tuples(config, *names: str) -> None:
    """Each named field of a frozen dataclass as a tuple (after `as_tuple`)."""
    for name in names:
        object.__setattr__(config, name, as_tuple(getattr(config, name)))


def layered(cls: type[T], base: T, data: Any) -> T:
    """`base` with a JSON object's keys laid over it, nested objects key by key (a whole config replaces every
    field; a partial one only its own); an unknown key or a value of the wrong type is one BMError."""
    if not isinstance(data, dict):
        raise BMError(f"config must be a JSON object, got {type(data).__name__}")

    def merged(under: dict, over: dict) -> dict:
        return {
            **under,
            **{
                k: merged(under[k], v) if isinstance(under.get(k), dict) and isinstance(v, dict) else v
                for k, v in over.items()
            },
        }

    return from_dict(cls, merged(to_dict(base), data))
