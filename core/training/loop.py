"""The plain PyTorch training loop. No database here: the job passes hooks that report and cancel."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
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


def _optimizer(model: Any, config: TrainConfig, device: DeviceInfo) -> torch.optim.Optimizer:
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name or name.endswith(".bias") else decay).append(
            parameter
        )
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # Fused AdamW exists for CUDA and CPU (torch >= 2.4); it is what the HF Trainer picks by default too.
    return torch.optim.AdamW(groups, lr=config.learning_rate, fused=device.kind in ("cuda", "cpu"))


def _linear_schedule(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def class_weights(labels: list[int], num_labels: int) -> torch.Tensor:
    present = np.unique(labels)
    weights = np.ones(num_labels, dtype=np.float32)
    weights[present] = compute_class_weight("balanced", classes=present, y=np.array(labels))
    return torch.tensor(weights)


def predict_probabilities(model: Any, encoded: Encoded, pad_token_id: int, device: DeviceInfo) -> np.ndarray:
    """Class probabilities in the order of `encoded`, longest inputs batched first."""
    model.eval()
    lengths = [len(ids) for ids in encoded.input_ids]
    output = np.zeros((len(encoded), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode(), autocast_for(device):
        for indices in sorted_batches(lengths, INFERENCE_BATCH_SIZE):
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
    """Fine-tune in place; on return the model holds the weights of the best validation macro-F1."""
    torch.manual_seed(config.seed)
    model.to(device.torch_device)
    _freeze(model, config)
    num_labels = model.config.num_labels
    weight = (
        class_weights(train.labels, num_labels).to(device.torch_device) if config.class_weighting else None
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    lengths = [len(ids) for ids in train.input_ids]
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimizer = _optimizer(model, config, device)
    scheduler = _linear_schedule(optimizer, int(total_steps * config.warmup_ratio), total_steps)

    outcome = TrainOutcome()
    best_f1, best_state, stale = -1.0, None, 0
    started = time.perf_counter()
    step = 0
    for epoch in range(config.epochs):
        model.train()
        for indices in length_grouped_batches(lengths, config.batch_size, seed=config.seed + epoch):
            if hooks.should_cancel():
                outcome.cancelled = True
                break
            padded = collate(train, indices, pad_token_id, pad_multiple=device.pad_multiple)
            batch = {k: v.to(device.torch_device) for k, v in padded.items()}
            labels = batch.pop("labels")
            with autocast_for(device):
                logits = model(**batch).logits
            loss = loss_fn(logits.float(), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.gradient_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            outcome.samples_seen += len(indices)
            elapsed = time.perf_counter() - started
            hooks.on_step(
                StepReport(
                    step=step,
                    total_steps=total_steps,
                    epoch=epoch + (step - epoch * steps_per_epoch) / steps_per_epoch,
                    loss=float(loss.detach()),
                    learning_rate=float(scheduler.get_last_lr()[0]),
                    samples_per_second=outcome.samples_seen / elapsed if elapsed else 0.0,
                )
            )
        if outcome.cancelled:
            break
        val_loss, accuracy, macro_f1 = evaluate(model, validation, pad_token_id, device)
        report = EvalReport(step, float(epoch + 1), val_loss, accuracy, macro_f1)
        outcome.evaluations.append(report)
        hooks.on_eval(report)
        if macro_f1 > best_f1:
            best_f1, stale, outcome.best_epoch = macro_f1, 0, epoch + 1
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        else:
            stale += 1
            if stale >= config.early_stopping_patience:
                break
    outcome.seconds = time.perf_counter() - started
    if best_state is not None and not outcome.cancelled:
        model.load_state_dict(best_state)
    return outcome
