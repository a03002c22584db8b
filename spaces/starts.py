"""Starting points: known-good models a new study trains first, before the sampler proposes.

A short budget is won or lost in its first trials. Instead of random draws, a study starts from
the models that people reach for (the classic Keras CNN, the labs' main model), the way SMAC
starts from the default configuration and AutoKeras' first trial is the Keras CNN. Each start
names only the dimensions it cares about; the space's reference values fill in the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spaces.dimensions import Bounds, Dimension, Value

# A first epoch of fewer steps than this leaves most models at chance, so a start's batch size
# shrinks on small data sets (1,300 digits images: batches of 64, not 256).
MIN_STEPS_PER_EPOCH = 30


@dataclass(frozen=True)
class Start:
    """A named starting point: the dimensions it fixes, the reference values for the rest."""

    name: str
    params: Mapping[str, Value] = field(default_factory=dict)


def start_params(
    start: Start, dimensions: Sequence[Dimension], bounds: Bounds, n_train: int
) -> dict[str, Value]:
    """The parameters to enqueue for `start`: its values over the reference values, without
    those that `--set` moved out of reach (the sampler picks them), with a batch size that gives
    each epoch at least MIN_STEPS_PER_EPOCH steps where the searched sizes allow."""
    params = {d.name: d.reference for d in dimensions} | dict(start.params)
    if "batch_size" in params:
        params["batch_size"] = _batch_size(params["batch_size"], bounds, dimensions, n_train)
    if not params.get("n_dense", 1):
        params.pop("dense_units", None)  # a conditional dimension, absent without dense layers
    if params.get("head") == "flatten":
        params.pop("global_pool", None)  # likewise, absent without the global head
    return {
        d.name: params[d.name]
        for d in dimensions
        if d.name in params and bounds[d].contains(params[d.name])
    }


def _batch_size(wanted: int, bounds: Bounds, dimensions: Sequence[Dimension], n_train: int) -> int:
    (dim,) = (bounds[d] for d in dimensions if d.name == "batch_size")
    fitting = [b for b in dim.choices if b <= wanted and n_train / b >= MIN_STEPS_PER_EPOCH]
    if fitting:
        return max(fitting)
    return wanted if n_train / wanted >= MIN_STEPS_PER_EPOCH else min(dim.choices)
