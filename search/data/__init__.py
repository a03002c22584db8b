"""Dataset sources behind one registry: `load(name) -> Dataset`.

Public names: `load`, `SOURCES`, `canonical_name`, `Dataset`, `Split`, `split_validation`.
"""

from __future__ import annotations

from types import ModuleType

from errors import UsageError
from search.data import cifar10, digits, fashion_mnist, mnist
from search.data.dataset import Dataset, Split, split_validation

SOURCES: dict[str, ModuleType] = {m.NAME: m for m in (digits, mnist, fashion_mnist, cifar10)}
ALIASES = {"cifar": "cifar10", "fashion-mnist": "fashion_mnist", "fmnist": "fashion_mnist"}

__all__ = ["ALIASES", "SOURCES", "Dataset", "Split", "canonical_name", "load", "split_validation"]


def canonical_name(name: str) -> str:
    """The registry name for `name` (aliases resolved), or a UsageError listing the choices."""
    name = ALIASES.get(name, name)
    if name not in SOURCES:
        raise UsageError(
            f"unknown dataset {name!r}; choose one of {', '.join(SOURCES)} "
            f"(aliases: {', '.join(ALIASES)})"
        )
    return name


def load(name: str) -> Dataset:
    """Load a dataset by name, from a local copy when one exists, downloading otherwise."""
    return SOURCES[canonical_name(name)].load()
