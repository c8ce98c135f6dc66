"""TrainConfig: frozen, serialized with each run so a run can be reproduced and compared."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInputError

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
MAX_EPOCHS = 50


@dataclass(frozen=True)
class TrainConfig:
    model_source: str = BUNDLED_MODEL
    epochs: int = 4
    # A small training part gets more passes, until the run takes at least this many optimizer steps
    # (see passes_for); 0 keeps `epochs` as it is.
    min_steps: int = 0
    # A large training part gets fewer passes, and the last one may stop part-way, so the run takes at
    # most this many optimizer steps (see steps_for); 0: no limit. A preset named for its time must keep
    # it on twenty thousand reviews too: there Quick reads a shuffled sample rather than all of them.
    max_steps: int = 0
    # The pretrained encoder's learning rate; layers nearer the input get less (layer_lr_decay).
    learning_rate: float = 1e-4
    # The freshly initialised classification head starts from nothing, so it learns faster than the
    # encoder it sits on: the clearest single gain measured on the sample (issue #14).
    head_learning_rate: float = 1e-3
    # Each encoder layer below the top trains at this share of the one above it; 1.0 turns it off
    # (0.9 scored lower on the sample's validation splits than no decay).
    layer_lr_decay: float = 1.0
    batch_size: int = 16
    max_tokens: int = 256
    # A review longer than max_tokens keeps its start and its end (core.training.data.head_and_tail)
    # rather than its start only.
    keep_tail: bool = True
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 13
    validation_share: float = 0.15
    early_stopping_patience: int = 2
    # False: a fixed schedule that keeps the last epoch. A validation split of ~100 reviews is too
    # noisy to pick an epoch with (issue #14: best-epoch picks scored 0.57-0.62 on test).
    restore_best_epoch: bool = False
    # Two ways to keep rare labels from being skipped; use one. Class weights: rare labels weigh
    # (largest class / class size) ** class_weight_power, where 1 is fully balanced and 0.5 its square
    # root, which trades less accuracy for most of the rare-label gain.
    class_weighting: bool = True
    class_weight_power: float = 0.5
    # Or take away the head start that common labels get in training: the loss sees each logit plus
    # logit_adjustment x log(the label's share of the training part) (logit-adjusted loss, Menon et
    # al., ICLR 2021), and predictions use the plain logits. 0.5 corrects as much of the imbalance as
    # square-root weights do (see rare_label_power). On the sample's four validation splits it beat
    # them for Quick (0.745 / 0.534 accuracy / macro-F1 against 0.737 / 0.524) and lost to them for
    # Balanced (0.720 / 0.556 against 0.743 / 0.566), so each preset keeps its winner.
    logit_adjustment: float = 0.0
    # The word embeddings hold half of MiniLM's weights: frozen, a step is ~18% faster at the same
    # validation scores on the sample.
    freeze_embeddings: bool = True
    frozen_layers: int = 0
    # Dropout share for every dropout layer of the model while it trains; None keeps the model's own
    # (0.1 for MiniLM). Off, a short schedule scored the same on the sample's validation splits and a
    # CPU step is ~18% faster (drawing the masks is slow there).
    dropout: float | None = 0.0
    gradient_clip: float = 1.0
    # Share of each target spread evenly over the other labels (cross-entropy label smoothing). 0.1
    # raised validation macro-F1 by ~3 points on the sample's four validation splits, for Quick and for
    # Balanced, mostly on the rare label: a model not pushed to full certainty on the common labels
    # leaves room for the rare one. Temperature scaling afterwards keeps the confidences honest.
    label_smoothing: float = 0.1
    # "mean" (mean-pooled token states; measured better on the sample) or "cls" (the model's own head).
    pooling: str = "mean"
    # bf16 autocast where the device runs it natively (see core.training.device); off means fp32.
    mixed_precision: bool = True
    # Edited copies of reviews from small classes (core.training.augment); training part only.
    augment_small_classes: bool = False

    def validated(self) -> TrainConfig:
        problems = []
        if not 1 <= self.epochs <= MAX_EPOCHS:
            problems.append(f"Epochs must be between 1 and {MAX_EPOCHS}.")
        if not 0 <= self.min_steps <= 100_000:
            problems.append("The least number of training steps must be between 0 and 100,000.")
        if not 0 <= self.max_steps <= 1_000_000:
            problems.append("The most training steps must be between 0 (no limit) and 1,000,000.")
        elif self.max_steps and self.min_steps > self.max_steps:
            problems.append("The least number of training steps cannot be above the most.")
        if not 1e-7 <= self.learning_rate <= 1e-2:
            problems.append("The learning rate must be between 0.0000001 and 0.01.")
        if not 1 <= self.batch_size <= 512:
            problems.append("The batch size must be between 1 and 512.")
        if not 16 <= self.max_tokens <= 512:
            problems.append("Max tokens must be between 16 and 512.")
        if not 1e-7 <= self.head_learning_rate <= 1e-1:
            problems.append("The head's learning rate must be between 0.0000001 and 0.1.")
        if not 0.1 <= self.layer_lr_decay <= 1:
            problems.append("The layer learning-rate decay must be between 0.1 and 1.")
        if not 0 <= self.class_weight_power <= 1:
            problems.append("The class-weighting strength must be between 0 and 1.")
        if not 0 <= self.logit_adjustment <= 2:
            problems.append("The rarity offset must be between 0 and 2.")
        if self.class_weighting and self.logit_adjustment:
            problems.append("Help rare labels in one way: class weights or the rarity offset, not both.")
        if not 0 <= self.warmup_ratio < 1:
            problems.append("Warmup must be a share between 0 and 1.")
        if not 0 < self.validation_share < 0.5:
            problems.append("The validation share must be between 0 and 0.5.")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            problems.append("Dropout must be a share between 0 and 1.")
        if not 0 <= self.label_smoothing < 0.5:
            problems.append("Label smoothing must be a share between 0 and 0.5.")
        if self.frozen_layers < 0:
            problems.append("The number of frozen layers cannot be negative.")
        if self.pooling not in ("mean", "cls"):
            problems.append("Pooling must be mean or cls.")
        if not self.model_source.strip():
            problems.append("Pick a model.")
        if problems:
            raise InvalidInputError(" ".join(problems))
        return self

    def passes_for(self, train_size: int) -> int:
        """Passes over a training part of `train_size` reviews: `epochs`, or more when that many would
        take fewer than `min_steps` optimizer steps. Fine-tuning that stops after a few dozen updates
        is underfit and swings between seeds (Mosbach et al., ICLR 2021, on small fine-tuning sets). On
        twelve conditions from 263 training reviews, seven passes instead of three scored 0.79 / 0.72
        accuracy / macro-F1 on held-out reviews against 0.72 / 0.56 (bench/recipe_validation.py
        --label-set condition-12, seeds 13-15)."""
        passes = self._passes_wanted(train_size)
        if self.max_steps:
            passes = min(passes, math.ceil(self.max_steps / self._steps_per_pass(train_size)))
        return passes

    def step_limit_applies(self, train_size: int) -> bool:
        """Whether max_steps makes the run read `train_size` reviews fewer times than its passes ask."""
        wanted = self._passes_wanted(train_size) * self._steps_per_pass(train_size)
        return bool(self.max_steps) and wanted > self.max_steps

    def _passes_wanted(self, train_size: int) -> int:
        return min(MAX_EPOCHS, max(self.epochs, math.ceil(self.min_steps / self._steps_per_pass(train_size))))

    def _steps_per_pass(self, train_size: int) -> int:
        return max(1, math.ceil(train_size / self.batch_size))

    def steps_for(self, train_size: int) -> int:
        """Optimizer steps over a training part of `train_size` reviews with `epochs` passes, at most
        max_steps: the last pass then stops part-way, having read a shuffled share of the reviews."""
        steps = self._steps_per_pass(train_size) * self.epochs
        return min(steps, self.max_steps) if self.max_steps else steps

    def passes_read(self, train_size: int) -> float:
        """How many times the run reads the training part, a pass cut short by max_steps counting as
        its share: below 1 when it reads only a shuffled sample of the reviews."""
        passes = dataclasses.replace(self, epochs=self.passes_for(train_size))
        return passes.steps_for(train_size) / self._steps_per_pass(train_size)

    @property
    def rare_label_power(self) -> float | None:
        """How far training corrects for label imbalance, as the power of (largest class / class size)
        that class weights would use: the keyword baseline is weighted by it, so both models lean
        toward rare labels alike. Weights w shift a model's log-odds by log w at the optimum, and the
        offset by the same amount, so logit_adjustment t matches power t. None: no correction."""
        if self.class_weighting:
            return self.class_weight_power
        return self.logit_adjustment or None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        kept = {k: v for k, v in values.items() if k in known}
        if "head_learning_rate" not in values:
            # Stored before the issue #14 recipe: read back as what that run really did.
            kept = {**_LEGACY_RECIPE, "head_learning_rate": kept.get("learning_rate", 5e-5), **kept}
        if "label_smoothing" not in values:
            # Stored before label smoothing: those runs trained without it.
            kept["label_smoothing"] = 0.0
        if "dropout" not in values:
            # Stored before the dropout field: those runs trained with the model's own dropout.
            kept["dropout"] = None
        return cls(**kept)


# What runs stored before these fields existed were trained with.
_LEGACY_RECIPE: dict[str, Any] = {
    "learning_rate": 5e-5,
    "layer_lr_decay": 1.0,
    "restore_best_epoch": True,
    "class_weight_power": 1.0,
    "keep_tail": False,
    "freeze_embeddings": False,
}


# Each preset takes at least the steps its passes take on 500 training reviews (batches of 16), the
# size its passes were chosen at: a smaller part gets more passes, a larger one keeps its count.
STEPS_PER_PASS_AT_500 = math.ceil(500 / TrainConfig.batch_size)
# And at most ten times that (Quick: 320 steps, about five minutes on one CPU thread, 5,120 reviews
# read): on a larger part its passes thin out, down to one part-way pass. Balanced: twice Quick's.
QUICK_MOST_STEPS = 10 * STEPS_PER_PASS_AT_500

# Chosen on two validation splits (150 reviews each) of the sample's training file, never its test file;
# bench/train_quality.py prints their test scores over seeds. Every preset keeps the last pass.
PRESETS: dict[str, TrainConfig] = {
    # About a minute and a half of learning on one CPU thread: three passes over reviews read up to
    # 128 tokens (start and end).
    "Quick": TrainConfig(
        epochs=3,
        min_steps=3 * STEPS_PER_PASS_AT_500,
        max_steps=QUICK_MOST_STEPS,
        max_tokens=128,
        class_weighting=False,
        logit_adjustment=0.5,
    ),
    # Longer reviews read in full (256 tokens) and one more pass.
    "Balanced": TrainConfig(
        epochs=4, min_steps=4 * STEPS_PER_PASS_AT_500, max_steps=2 * QUICK_MOST_STEPS, max_tokens=256
    ),
    # Meant for a GPU: the longest inputs and more passes, on every review however many.
    "Best": TrainConfig(epochs=6, min_steps=6 * STEPS_PER_PASS_AT_500, max_tokens=384),
}
DEFAULT_PRESET = "Balanced"
