"""Learning-rate schedules sized to the steps a model has: the "cosine" training's warmup and
decay over a trial's epochs, and the decay to zero of a model trained on until a deadline. Both
are saved with the model, so a model loaded again follows its schedule on."""

from __future__ import annotations

import math

import keras
from keras import ops

WARMUP_FRACTION = 0.1  # of each cycle; at least one step


@keras.saving.register_keras_serializable(package="cnnsearch")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """A linear warmup to `peak`, then a cosine decay to zero, over `cycle_steps` steps.

    The cycle repeats (a warm restart): a model trained past its trial's epochs (`evaluate`
    training a continued trial again) gets a new cycle instead of a rate stuck at zero."""

    def __init__(self, peak: float, cycle_steps: int) -> None:
        self.peak = float(peak)
        self.cycle_steps = max(int(cycle_steps), 2)
        self.warmup_steps = max(1, int(self.cycle_steps * WARMUP_FRACTION))

    def __call__(self, step):
        position = ops.mod(ops.cast(step, "float32"), float(self.cycle_steps))
        warmup = self.peak * (position + 1.0) / self.warmup_steps
        decayed = (position - self.warmup_steps) / (self.cycle_steps - self.warmup_steps)
        cosine = self.peak * 0.5 * (1.0 + ops.cos(math.pi * decayed))
        return ops.where(position < self.warmup_steps, warmup, cosine)

    def get_config(self) -> dict:
        return {"peak": self.peak, "cycle_steps": self.cycle_steps}


@keras.saving.register_keras_serializable(package="cnnsearch")
class DecayToZero(keras.optimizers.schedules.LearningRateSchedule):
    """A cosine decay from `rate` at step `first_step` to zero at `first_step + steps`, then zero:
    the schedule of a model trained on for a known budget. Decaying to zero exactly when the
    budget ends beats a constant or plateau-halved rate for the same budget (Li, Yumer and
    Ramanan, "Budgeted Training", ICLR 2020)."""

    def __init__(self, rate: float, first_step: int, steps: int) -> None:
        self.rate, self.first_step, self.steps = float(rate), int(first_step), max(int(steps), 1)

    def __call__(self, step):
        done = ops.clip((ops.cast(step, "float32") - self.first_step) / self.steps, 0.0, 1.0)
        return self.rate * 0.5 * (1.0 + ops.cos(math.pi * done))

    def get_config(self) -> dict:
        return {"rate": self.rate, "first_step": self.first_step, "steps": self.steps}
