"""The plain PyTorch training loop. No database here: the job passes hooks that report and cancel."""

from __future__ import annotations

import copy
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from sklearn.utils.class_weight import compute_class_weight

from core.training.config import TrainConfig
from core.training.data import Encoded, collate, length_grouped_batches, sorted_batches
from core.training.device import DeviceInfo, autocast_for

INFERENCE_BATCH_SIZE = 64
# Training speed is measured over this many recent steps.
SPEED_WINDOW_STEPS = 20


@dataclass(frozen=True)
class StepReport:
    step: int
    total_steps: int
    epoch: float
    loss: float
    learning_rate: float
    samples_per_second: float


@dataclass(frozen=True)
class EvalReport:
    step: int
    epoch: float
    loss: float
    accuracy: float
    macro_f1: float
    # How long scoring the validation part took: the page's ETA reads the scoring speed from it.
    seconds: float = 0.0
    reviews: int = 0


@dataclass
class TrainOutcome:
    cancelled: bool = False
    best_epoch: int | None = None
    evaluations: list[EvalReport] = field(default_factory=list)
    samples_seen: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class TrainHooks:
    on_step: Callable[[StepReport], None] = lambda report: None
    on_eval: Callable[[EvalReport], None] = lambda report: None
    should_cancel: Callable[[], bool] = lambda: False


def _freeze(model: Any, config: TrainConfig) -> None:
    base = getattr(model, model.base_model_prefix, None)
    if base is None:
        return
    if config.freeze_embeddings and hasattr(base, "embeddings"):
        for parameter in base.embeddings.parameters():
            parameter.requires_grad = False
    layers = getattr(getattr(base, "encoder", None), "layer", [])
    for layer in list(layers)[: config.frozen_layers]:
        for parameter in layer.parameters():
            parameter.requires_grad = False


@contextmanager
def _attention_for_training(model: Any, device: DeviceInfo) -> Iterator[None]:
    """Switches the model to the device's faster training attention and back (see
    DeviceInfo.training_attention); a model that cannot switch keeps its own."""
    wanted = device.training_attention
    original = getattr(model.config, "_attn_implementation", None)
    switched = False
    if wanted and original and wanted != original:
        try:
            model.set_attn_implementation(wanted)
            switched = True
        except (AttributeError, ValueError):
            pass
    try:
        yield
    finally:
        if switched:
            model.set_attn_implementation(original)


def _set_dropout(model: Any, share: float | None) -> None:
    # Attention dropout reads its module's p at call time, so this reaches it too.
    if share is None:
        return
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = share


_LAYER_NUMBER = re.compile(r"\.layers?\.(\d+)\.")


def _learning_rate(name: str, model: Any, config: TrainConfig, depth: int) -> float:
    """The head (everything outside the pretrained base) gets its own rate; encoder layers decay
    downwards from the top one, and the embeddings sit below the lowest layer."""
    if not name.startswith(f"{model.base_model_prefix}."):
        return config.head_learning_rate
    match = _LAYER_NUMBER.search(name)
    if match is not None:
        below_top = depth - 1 - int(match.group(1))
    elif ".embeddings." in name or name.endswith("embeddings"):
        below_top = depth
    else:  # a pretrained pooler above the layers
        below_top = 0
    return config.learning_rate * config.layer_lr_decay ** max(0, below_top)


def _optimizer(model: Any, config: TrainConfig, device: DeviceInfo) -> torch.optim.Optimizer:
    depth = int(getattr(model.config, "num_hidden_layers", 0) or 0)
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        no_decay = parameter.ndim < 2 or "LayerNorm" in name or name.endswith(".bias")
        key = (_learning_rate(name, model, config, depth), 0.0 if no_decay else config.weight_decay)
        groups.setdefault(key, []).append(parameter)
    param_groups = [
        {"params": params, "lr": lr, "weight_decay": weight_decay}
        for (lr, weight_decay), params in groups.items()
    ]
    # Fused AdamW exists for CUDA and CPU (torch >= 2.4); it is what the HF Trainer picks by default too.
    return torch.optim.AdamW(param_groups, lr=config.learning_rate, fused=device.kind in ("cuda", "cpu"))


def _linear_schedule(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def class_weight_array(labels: Sequence[int], num_labels: int, *, power: float = 1.0) -> np.ndarray:
    """scikit-learn's "balanced" weights raised to `power` (1 balanced, 0.5 square root, 0 none),
    scaled so the average example still weighs 1."""
    present = np.unique(labels)
    weights = np.ones(num_labels, dtype=np.float64)
    weights[present] = compute_class_weight("balanced", classes=present, y=np.array(labels)) ** power
    counts = np.bincount(np.asarray(labels), minlength=num_labels)
    return weights * len(labels) / float((weights * counts).sum())


def class_weights(labels: Sequence[int], num_labels: int, *, power: float = 1.0) -> torch.Tensor:
    return torch.tensor(class_weight_array(labels, num_labels, power=power), dtype=torch.float32)


def logit_offsets(labels: Sequence[int], num_labels: int, *, strength: float) -> torch.Tensor:
    """strength x log(each label's share of `labels`), added to the logits in training only. A label
    absent from `labels` counts as seen once, so its offset stays finite."""
    counts = np.maximum(np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_labels), 1)
    return torch.tensor(strength * np.log(counts / counts.sum()), dtype=torch.float32)


def training_loss(
    config: TrainConfig, labels: Sequence[int], num_labels: int, device: torch.device
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Cross-entropy on a batch's logits, with the config's help for rare labels: class weights, or
    the logit-adjusted loss's offsets (see TrainConfig.logit_adjustment)."""
    weight = (
        class_weights(labels, num_labels, power=config.class_weight_power).to(device)
        if config.class_weighting
        else None
    )
    cross_entropy = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=config.label_smoothing)
    if not config.logit_adjustment:
        return lambda logits, targets: cross_entropy(logits.float(), targets)
    offsets = logit_offsets(labels, num_labels, strength=config.logit_adjustment).to(device)
    return lambda logits, targets: cross_entropy(logits.float() + offsets, targets)


def head_linear(model: Any) -> torch.nn.Linear | None:
    """The last linear layer of the classification head: its input is the features the head sees,
    and scaling it scales the logits (temperature). None for heads shaped otherwise."""
    head = getattr(model, "classifier", None)
    if isinstance(head, torch.nn.Linear):
        return head
    projection = getattr(head, "out_proj", None)
    return projection if isinstance(projection, torch.nn.Linear) else None


class StopRequested(Exception):
    """Raised between inference batches when the caller asked to stop (a cancelled run's scoring)."""


def predict_probabilities(
    model: Any,
    encoded: Encoded,
    pad_token_id: int,
    device: DeviceInfo,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Class probabilities in the order of `encoded`, longest inputs batched first."""
    model.eval()
    lengths = [len(ids) for ids in encoded.input_ids]
    output = np.zeros((len(encoded), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode(), autocast_for(device):
        for indices in sorted_batches(lengths, INFERENCE_BATCH_SIZE):
            if should_stop is not None and should_stop():
                raise StopRequested
            batch = collate(
                encoded, indices, pad_token_id, with_labels=False, pad_multiple=device.pad_multiple
            )
            logits = model(**{k: v.to(device.torch_device) for k, v in batch.items()}).logits
            output[indices] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
    return output


def evaluate(
    model: Any, encoded: Encoded, pad_token_id: int, device: DeviceInfo
) -> tuple[float, float, float]:
    """(loss, accuracy, macro-F1) on labeled data."""
    probabilities = predict_probabilities(model, encoded, pad_token_id, device)
    labels = np.array(encoded.labels)
    loss = float(-np.mean(np.log(probabilities[np.arange(len(labels)), labels] + 1e-12)))
    predicted = probabilities.argmax(axis=1)
    return (
        loss,
        accuracy_score(labels, predicted),
        f1_score(labels, predicted, average="macro", zero_division=0),
    )


def train_model(
    model: Any,
    train: Encoded,
    validation: Encoded,
    *,
    pad_token_id: int,
    config: TrainConfig,
    device: DeviceInfo,
    hooks: TrainHooks = TrainHooks(),
) -> TrainOutcome:
    """Fine-tune in place. On return the model holds the last epoch's weights, or with
    config.restore_best_epoch those of the best validation macro-F1."""
    with _attention_for_training(model, device):
        return _train(
            model, train, validation, pad_token_id=pad_token_id, config=config, device=device, hooks=hooks
        )


def _train(
    model: Any,
    train: Encoded,
    validation: Encoded,
    *,
    pad_token_id: int,
    config: TrainConfig,
    device: DeviceInfo,
    hooks: TrainHooks,
) -> TrainOutcome:
    torch.manual_seed(config.seed)
    started = time.perf_counter()
    model.to(device.torch_device)
    _freeze(model, config)
    _set_dropout(model, config.dropout)
    loss_fn = training_loss(config, train.labels, model.config.num_labels, device.torch_device)
    lengths = [len(ids) for ids in train.input_ids]
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total_steps = config.steps_for(len(train))
    optimizer = _optimizer(model, config, device)
    scheduler = _linear_schedule(optimizer, int(total_steps * config.warmup_ratio), total_steps)

    outcome = TrainOutcome()
    best_f1, best_state, stale = -1.0, None, 0
    step = 0
    recent: deque[tuple[int, float]] = deque(maxlen=SPEED_WINDOW_STEPS)
    for epoch in range(config.epochs):
        model.train()
        for indices in length_grouped_batches(lengths, config.batch_size, seed=config.seed + epoch):
            if step >= total_steps:  # max_steps reached part-way through this pass
                break
            if hooks.should_cancel():
                outcome.cancelled = True
                break
            step_started = time.perf_counter()
            padded = collate(train, indices, pad_token_id, pad_multiple=device.pad_multiple)
            batch = {k: v.to(device.torch_device) for k, v in padded.items()}
            labels = batch.pop("labels")
            with autocast_for(device):
                logits = model(**batch).logits
            loss = loss_fn(logits, labels)
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.gradient_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            outcome.samples_seen += len(indices)
            # Throughput counts training steps only, so the ETA does not charge validation time twice,
            # and only recent ones: the first steps pay one-off kernel set-up and would inflate the ETA.
            recent.append((len(indices), time.perf_counter() - step_started))
            recent_samples, recent_seconds = (sum(column) for column in zip(*recent, strict=True))
            hooks.on_step(
                StepReport(
                    step=step,
                    total_steps=total_steps,
                    epoch=epoch + (step - epoch * steps_per_epoch) / steps_per_epoch,
                    loss=float(loss.detach()),
                    learning_rate=float(scheduler.get_last_lr()[0]),
                    samples_per_second=recent_samples / recent_seconds if recent_seconds else 0.0,
                )
            )
        if outcome.cancelled:
            break
        eval_started = time.perf_counter()
        val_loss, accuracy, macro_f1 = evaluate(model, validation, pad_token_id, device)
        report = EvalReport(
            step,
            min(float(epoch + 1), step / steps_per_epoch),
            val_loss,
            accuracy,
            macro_f1,
            seconds=time.perf_counter() - eval_started,
            reviews=len(validation),
        )
        outcome.evaluations.append(report)
        hooks.on_eval(report)
        if not config.restore_best_epoch:
            outcome.best_epoch = epoch + 1
        elif macro_f1 > best_f1:
            best_f1, stale, outcome.best_epoch = macro_f1, 0, epoch + 1
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        else:
            stale += 1
            if stale >= config.early_stopping_patience:
                break
        if step >= total_steps:  # max_steps reached: no pass after this one would take a step
            break
    outcome.seconds = time.perf_counter() - started
    if best_state is not None and not outcome.cancelled:
        model.load_state_dict(best_state)
    return outcome
