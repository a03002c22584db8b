"""The learning-rate schedule of the "cosine" training: a warmup, then a cosine decay, sized to
the epochs a trial has. Saved with the model, so a trial trained on (a continuation) or loaded
again follows it too."""

from __future__ import annotations

import math

import keras
from keras import ops

WARMUP_FRACTION = 0.1  # of each cycle; at least one step


@keras.saving.register_keras_serializable(package="cnnsearch")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """A linear warmup to `peak`, then a cosine decay to zero, over `cycle_steps` steps.

    The cycle repeats (a warm restart): a model trained on past its trial's epochs, as a
    continuation does, gets a new cycle of the same length instead of a rate stuck at zero."""

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
