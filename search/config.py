"""The frozen description of a search, validated up front, and stored with its study."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from errors import UsageError
from search.data import (
    Dataset,
    Split,
    canonical_name,
    check_options,
    flips_keep_labels,
    split_validation,
)
from search.registry import COLORS, DEFAULT_PRUNER, OBJECTIVES, PRUNERS, SAMPLERS
from spaces import Bounds, get_space
from spaces.dimensions import Dimension, search_bounds

FLIP = "augment_flip"  # the one transform that can change a label

# The fields that define what a study measures; a resumed or joined study must match them.
IDENTITY = (
    "dataset",
    "space",
    "epochs",
    "objectives",
    "sets",
    "train_size",
    "val_fraction",
    "image_size",
    "color",
    "seed",
    "full_ranges",
    "sampler_only",
)
DEFAULT_TRIALS = 20  # the budget of a run without --trials and without a time limit


@dataclass(frozen=True)
class SearchConfig:
    """What to search, how, and how many trials. Invalid values raise `UsageError` at creation.

    A time limit is not part of the config: it is the study's deadline (`search.run.deadline`)."""

    dataset: str
    space: str = "convnet"
    study_name: str | None = None
    trials: int | None = None  # None: DEFAULT_TRIALS, or no limit in a timed run
    epochs: int = 10
    sampler: str = "tpe"
    pruner: str | None = None  # None: asha, or none for multi-objective studies
    objectives: tuple[str, ...] = ("accuracy",)
    sets: tuple[str, ...] = ()
    train_size: int | None = None
    val_fraction: float = 0.1
    seed: int | None = None
    # Image-folder options (folder:PATH, notmnist); None: the source's default.
    image_size: int | None = None
    color: str | None = None
    data_dir: str | None = None
    # The labs' full ranges instead of the default searched part of each dimension.
    full_ranges: bool = False
    # Models with more parameters are pruned before training (KerasTuner's max_model_size).
    max_params: int | None = None
    # Every trial from the sampler: no starting points, no greedy steps (a plain baseline).
    sampler_only: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", canonical_name(self.dataset))
        object.__setattr__(self, "objectives", tuple(self.objectives))
        object.__setattr__(self, "sets", tuple(self.sets))
        get_space(self.space)
        check_options(self.dataset, **self.data_options)
        _check(
            self.image_size is None or 4 <= self.image_size <= 512,
            f"--image-size must lie between 4 and 512 pixels, got {self.image_size}",
        )
        _check(
            self.color is None or self.color in COLORS,
            f"unknown --color {self.color!r}; choose one of {', '.join(COLORS)}",
        )
        self.bounds  # noqa: B018 - parses --set, raising on bad input
        _check(
            self.trials is None or self.trials >= 1,
            f"--trials must be at least 1, got {self.trials}",
        )
        _check(
            self.max_params is None or self.max_params >= 1,
            f"--max-params must be a positive number of parameters, got {self.max_params}",
        )
        _check(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}")
        _check(
            0 < self.val_fraction < 1,
            f"--val-fraction must lie between 0 and 1 (exclusive), got {self.val_fraction}",
        )
        _check(
            self.train_size is None or self.train_size >= 10,
            f"--train-size must be at least 10, got {self.train_size}",
        )
        _check(
            self.sampler in SAMPLERS,
            f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}",
        )
        _check(
            self.pruner is None or self.pruner in PRUNERS,
            f"unknown pruner {self.pruner!r}; choose one of {', '.join(PRUNERS)}",
        )
        unknown = [o for o in self.objectives if o not in OBJECTIVES]
        _check(
            not unknown,
            f"unknown objective {', '.join(unknown)}; choose from "
            f"{', '.join(OBJECTIVES)}, for example --objectives accuracy,time",
        )
        _check(
            self.objectives
            and self.objectives[0] == "accuracy"
            and len(set(self.objectives)) == len(self.objectives),
            "--objectives must start with accuracy and name each "
            "objective once, for example accuracy,time",
        )
        _check(
            not (self.multi_objective and self.pruner not in (None, "none")),
            "Optuna cannot prune multi-objective studies; drop --pruner or use --pruner none",
        )

    @property
    def study(self) -> str:
        # folder:/data/letters -> letters-SPACE: a path makes an awkward study name.
        dataset = (
            self.dataset.rstrip("/").rsplit("/", 1)[-1] if ":" in self.dataset else self.dataset
        )
        return self.study_name or f"{dataset}-{self.space}"

    @property
    def bounds(self) -> Bounds:
        dimensions = get_space(self.space).DIMENSIONS
        bounds = search_bounds(self.sets, dimensions, self.space, full=self.full_ranges)
        return _label_safe(bounds, dimensions, self.dataset)

    @property
    def data_options(self) -> dict[str, Any]:
        """What `search.data.load` takes besides the name."""
        return {"image_size": self.image_size, "color": self.color, "data_dir": self.data_dir}

    def split(self, dataset: Dataset) -> Split:
        """The study's training and validation images of `dataset`: the same for every trial,
        every worker and `evaluate`."""
        return split_validation(dataset, self.val_fraction, self.seed or 0, self.train_size)

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def pruner_name(self) -> str:
        return self.pruner or ("none" if self.multi_objective else DEFAULT_PRUNER)

    def budget(self, timed: bool) -> int | None:
        """Finished trials the study should hold: --trials; without it DEFAULT_TRIALS, or no
        limit (None) while the study has a deadline, whose time is then the budget."""
        if self.trials is not None:
            return self.trials
        return None if timed else DEFAULT_TRIALS

    @property
    def directions(self) -> list[str]:
        return [OBJECTIVES[o] for o in self.objectives]

    def to_attrs(self) -> dict[str, Any]:
        """JSON-friendly form, stored in the study's user attrs."""
        return {
            **dataclasses.asdict(self),
            "objectives": list(self.objectives),
            "sets": list(self.sets),
            "study_name": self.study,
        }

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any], **overrides: Any) -> SearchConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        # Studies stored before the searched ranges existed sampled the full ranges, and Optuna
        # refuses a categorical dimension whose choices change within a study.
        attrs = {"full_ranges": True, **attrs}
        return cls(**{k: v for k, v in {**attrs, **overrides}.items() if k in known})

    def differences(self, stored: SearchConfig) -> list[str]:
        """Human-readable differences in the fields that define a study."""
        return [
            f"{name} is {_show(getattr(stored, name))} in the study "
            f"but {_show(getattr(self, name))} here"
            for name in IDENTITY
            if getattr(stored, name) != getattr(self, name)
        ]


def _label_safe(bounds: Bounds, dimensions: Sequence[Dimension], dataset: str) -> Bounds:
    """`bounds` without flips where `dataset` does not say they keep its labels: never on
    digits or letters (a `--set` asking for them is refused), and on an image folder only
    when `--set` asks for them."""
    flip = next((d for d in dimensions if d.name == FLIP), None)
    keeps = flips_keep_labels(dataset)
    if flip is None or keeps:
        return bounds
    # augment_flip has no default searched part: an override of it comes from --set.
    asked = FLIP in bounds.overrides and bounds[flip].contains(True)
    _check(
        not (asked and keeps is False),
        f"--set {FLIP}: a mirrored image of {dataset} can change its label (digits and letters "
        f"are not symmetric), so {dataset} is never flipped; drop --set {FLIP} or set it to false",
    )
    if asked:
        return bounds  # the user says flips keep this folder's labels
    return Bounds({**bounds.overrides, FLIP: dataclasses.replace(flip, choices=(False,))})


def check_tta(dataset: str) -> None:
    """A UsageError when test-time augmentation, which flips, would change `dataset`'s labels."""
    _check(
        flips_keep_labels(dataset) is not False,
        f"--tta averages each image with its mirror, and a mirrored image of {dataset} can "
        f"change its label (digits and letters are not symmetric); drop --tta",
    )


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "(none)"
    return "(all)" if value is None else str(value)
