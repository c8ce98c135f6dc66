"""The training loop's device-level choices: CPU attention and dropout apply while training, then undo."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from core.training.config import TrainConfig
from core.training.data import encode
from core.training.device import choose_device
from core.training.loop import TrainHooks, train_model
from core.training.modeling import load_for_training

pytestmark = pytest.mark.integration


def _train(tiny_model: str, config: TrainConfig) -> tuple[list[str], list[list[float]], str, object]:
    model, tokenizer = load_for_training(tiny_model, ["bad", "good"], pooling=config.pooling)
    texts = ["great drug, no side effects", "awful, made me sick"] * 8
    labels = [1, 0] * 8
    encoded = encode(tokenizer, texts, labels, 32)
    attention_seen: list[str] = []
    dropout_seen: list[list[float]] = []

    def look(_report: object) -> None:
        attention_seen.append(model.config._attn_implementation)
        dropout_seen.append([m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)])

    train_model(
        model,
        encoded,
        encoded,
        pad_token_id=tokenizer.pad_token_id,
        config=config,
        device=dataclasses.replace(choose_device(prefer_cpu=True), threads=1),
        hooks=TrainHooks(on_step=look),
    )
    return attention_seen, dropout_seen, model.config._attn_implementation, model


def test_cpu_training_uses_eager_attention_and_gives_the_model_its_own_back(tiny_model: str) -> None:
    config = TrainConfig(epochs=1, batch_size=8, max_tokens=32, mixed_precision=False)
    attention_seen, dropout_seen, after, _ = _train(tiny_model, config)
    assert set(attention_seen) == {"eager"}
    assert after == "sdpa"
    assert dropout_seen and all(p == 0.0 for step in dropout_seen for p in step)


def test_dropout_none_keeps_the_models_own(tiny_model: str) -> None:
    config = TrainConfig(epochs=1, batch_size=8, max_tokens=32, mixed_precision=False, dropout=None)
    _, dropout_seen, _, _ = _train(tiny_model, config)
    assert {p for step in dropout_seen for p in step} == {0.1}


def test_eager_and_sdpa_attention_give_the_same_outputs(tiny_model: str) -> None:
    # The switch is for speed only: a model must score the same either way.
    model, tokenizer = load_for_training(tiny_model, ["bad", "good"], pooling="mean")
    model.eval()
    batch = tokenizer(["great drug", "awful, made me sick for weeks"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        sdpa = model(**batch).logits
        model.set_attn_implementation("eager")
        eager = model(**batch).logits
    torch.testing.assert_close(sdpa, eager, rtol=1e-4, atol=1e-5)


def test_loading_for_training_keeps_the_expected_key_report_out_of_the_log(tiny_model: str) -> None:
    import logging

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    # A fresh head and an unused pooler are by design; transformers would log a boxed "LOAD REPORT".
    seen = Collect()
    for name in ("transformers.modeling_utils", "transformers.distributed.tensor_parallel"):
        logging.getLogger(name).addHandler(seen)
    try:
        load_for_training(tiny_model, ["bad", "mixed", "good"], pooling="mean")
    finally:
        for name in ("transformers.modeling_utils", "transformers.distributed.tensor_parallel"):
            logging.getLogger(name).removeHandler(seen)
    assert not [m for m in seen.messages if "LOAD REPORT" in m or "not sharded" in m]
    assert logging.getLogger("transformers.modeling_utils").filters == []
