"""What a report is made of: sections of text, headings, bullet lists, tables and Optuna plots,
which the HTML and Markdown renderers write out each in their own way."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    shading: list[list[float]] | None = None  # per cell, 0..1: how dark its background is (HTML)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Plot:
    """One of Optuna's plots; `draw` gets optuna.visualization or its matplotlib twin."""

    name: str
    draw: Callable[[ModuleType], Any]


Block = str | Heading | Bullets | Table | Plot


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


def quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)
