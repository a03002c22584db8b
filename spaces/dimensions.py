"""Search dimensions, their ranges and reference values, and the `--set` overrides on them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from errors import UsageError

Value = int | float | str | bool


@dataclass(frozen=True)
class Dimension:
    """One searchable dimension: an int or float range, or a list of choices."""

    name: str
    reference: Value
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Value, ...] | None = None
    integer: bool = False
    help: str = ""
    # The part of the range a default search spends its trials on, in `--set` syntax: the values
    # that train in a few epochs. `--set` (or `--full-ranges`) reaches the rest of the range.
    searched: str | None = None
    # A conditional dimension exists only in the trials where this holds ("n_dense > 0"); the
    # others lack it, so importance rates it on the trials that have it.
    only_when: str = ""

    @property
    def is_range(self) -> bool:
        return self.choices is None

    def contains(self, value: Value) -> bool:
        if self.choices is not None:
            return value in self.choices
        return self.low <= value <= self.high

    def describe(self) -> str:
        """The values this dimension takes, as a person would write them."""
        if self.choices is not None:
            return ", ".join(format_value(c) for c in self.choices)
        if self.low == self.high:
            return format_value(self.low)
        return f"{format_value(self.low)}..{format_value(self.high)}" + (" log" if self.log else "")


def log_int(name: str, reference: int, low: int, high: int, **details: Any) -> Dimension:
    """A range of whole numbers sampled on a log scale, as widths and unit counts are."""
    return Dimension(name, reference, low=low, high=high, log=True, integer=True, **details)


@dataclass(frozen=True)
class Bounds:
    """What `--set` made of each dimension: a narrower range, fewer choices, or one value."""

    overrides: Mapping[str, Dimension]

    def __getitem__(self, dim: Dimension) -> Dimension:
        return self.overrides.get(dim.name, dim)

    def as_strings(self) -> dict[str, str]:
        return {name: dim.describe() for name, dim in sorted(self.overrides.items())}


NO_BOUNDS = Bounds({})


def search_bounds(
    assignments: Iterable[str], dimensions: Sequence[Dimension], space: str, full: bool = False
) -> Bounds:
    """What a search samples: each dimension's default searched part (its full range when
    `full`), replaced by whatever `--set` says of it."""
    defaults = {} if full else {d.name: narrow(d, d.searched) for d in dimensions if d.searched}
    return Bounds({**defaults, **parse_sets(assignments, dimensions, space).overrides})


def suggest(trial: optuna.trial.BaseTrial, dim: Dimension, bounds: Bounds = NO_BOUNDS) -> Any:
    """Ask the trial for a value of `dim`, inside whatever `--set` narrowed it to."""
    dim = bounds[dim]
    if dim.choices is not None:
        return trial.suggest_categorical(dim.name, list(dim.choices))
    if dim.integer:
        return trial.suggest_int(dim.name, int(dim.low), int(dim.high), log=dim.log)
    return trial.suggest_float(dim.name, dim.low, dim.high, log=dim.log)


def parse_sets(assignments: Iterable[str], dimensions: Sequence[Dimension], space: str) -> Bounds:
    """Turn `--set dim=value` and `--set dim=lo..hi` strings into validated bounds."""
    by_name = {d.name: d for d in dimensions}
    overrides: dict[str, Dimension] = {}
    for text in assignments:
        name, sep, value = text.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise UsageError(
                f"--set {text!r}: expected dim=value, dim=lo..hi or dim=a,b,c, for example "
                "--set n_conv=3, --set filters=16..64 or --set activation=relu,tanh"
            )
        if name not in by_name:
            raise UsageError(
                f"--set {text!r}: {space!r} has no dimension {name!r}; "
                f"its dimensions are {', '.join(by_name)}"
            )
        overrides[name] = narrow(by_name[name], value)
    return Bounds(overrides)


def narrow(dim: Dimension, text: str) -> Dimension:
    """`dim` restricted to the value, `lo..hi` range or `a,b,c` choices in `text`, or a
    UsageError saying why not."""
    if dim.choices is not None and "," in text:
        values = tuple(dict.fromkeys(_single_choice(dim, v) for v in text.split(",") if v.strip()))
        return _replace(dim, choices=tuple(c for c in dim.choices if c in values))
    if ".." in text:
        lo_text, _, hi_text = text.partition("..")
        low, high = _parse(dim, lo_text), _parse(dim, hi_text)
        if isinstance(low, str) or isinstance(high, str):
            raise UsageError(f"--set {dim.name}={text}: a range needs numbers, like 1..4")
        if low > high:
            raise UsageError(f"--set {dim.name}={text}: the range is empty ({low} > {high})")
        if dim.choices is not None:
            kept = tuple(c for c in dim.choices if _numeric(c) and low <= c <= high)
            if not kept:
                raise UsageError(
                    f"--set {dim.name}={text}: no choice of {dim.name} lies in that range "
                    f"(choices: {dim.describe()})"
                )
            return _replace(dim, choices=kept)
        _check_inside(dim, low, text)
        _check_inside(dim, high, text)
        return _replace(dim, low=low, high=high)
    value = _parse(dim, text)
    if dim.choices is not None:
        if value not in dim.choices:
            raise UsageError(
                f"--set {dim.name}={text}: not one of {dim.name}'s choices ({dim.describe()})"
            )
        return _replace(dim, choices=(value,))
    _check_inside(dim, value, text)
    return _replace(dim, low=value, high=value)


def _single_choice(dim: Dimension, text: str) -> Value:
    return narrow(dim, text).choices[0]


def _parse(dim: Dimension, text: str) -> Value:
    text = text.strip()
    sample = dim.choices[0] if dim.choices is not None else (0 if dim.integer else 0.0)
    try:
        if isinstance(sample, bool):
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if isinstance(sample, int):
            return int(text)
        if isinstance(sample, float):
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        return text
    except ValueError:
        kind = {bool: "true or false", int: "a whole number", float: "a number"}[type(sample)]
        raise UsageError(f"--set {dim.name}={text}: {dim.name} takes {kind}") from None


def _check_inside(dim: Dimension, value: float, text: str) -> None:
    if not dim.low <= value <= dim.high:
        raise UsageError(
            f"--set {dim.name}={text}: {value} is outside {dim.name}'s range {dim.describe()}"
        )


def _numeric(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _replace(dim: Dimension, **changes: Any) -> Dimension:
    fields = {**dim.__dict__, **changes}
    return Dimension(**fields)


def format_value(value: Value | None) -> str:
    """A parameter value as a person reads it: booleans in lower case, floats to 4 digits."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
