"""Attention maps, rollout and integrated gradients on a real (tiny) trained run."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from core.config import Settings
from core.db import Database
from core.explain import (
    IG_MIN_STEPS,
    IG_STEPS,
    attention_rollout,
    attention_view,
    ig_steps,
    integrated_gradients,
    received_attention,
    review_words,
    tokenize_review,
    warm_up,
    word_attention,
    word_weights,
)
from core.inference import load_run_model
from core.training.data import encode
from tests.integration.test_results import trained_run

pytestmark = pytest.mark.integration


def test_attention_shapes_and_rollout(db: Database, settings: Settings, tiny_model: str) -> None:
    _, run_id = trained_run(db, settings, tiny_model)
    model = load_run_model(db, run_id, attention=True)
    view = attention_view(model, "works well and no side effects")
    tokens = len(view.review.tokens)
    assert view.review.tokens[0] == "[CLS]" and view.review.tokens[-1] == "[SEP]"
    assert view.attentions.shape == (2, 2, tokens, tokens)  # the tiny BERT: 2 layers, 2 heads
    np.testing.assert_allclose(view.attentions.sum(axis=-1), 1.0, atol=1e-4)
    assert view.probabilities.shape == (2,) and view.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    rollout = attention_rollout(view.attentions)
    assert rollout.shape == (tokens, tokens)
    np.testing.assert_allclose(rollout.sum(axis=-1), 1.0, atol=1e-6)
    # One layer of uniform attention rolls out to half identity, half uniform.
    uniform = np.full((1, 1, 4, 4), 0.25)
    np.testing.assert_allclose(attention_rollout(uniform), 0.5 * np.eye(4) + 0.125)
    assert received_attention(rollout, source="cls").shape == (tokens,)
    np.testing.assert_allclose(received_attention(uniform[0, 0], source="mean"), 0.25)
    assert not view.review.truncated


def test_truncation_is_reported_where_it_cuts(db: Database, settings: Settings, tiny_model: str) -> None:
    _, run_id = trained_run(db, settings, tiny_model)
    model = load_run_model(db, run_id, attention=True)
    text = " ".join(f"word{i}" for i in range(200))
    view = attention_view(model, text)
    assert view.review.truncated
    assert len(view.review.tokens) == model.max_tokens == 32
    assert view.review.cut_chars is not None
    start, end = view.review.cut_chars
    assert 0 < start < end < len(text)  # the middle of the review: its start and end were read
    before, after = view.review.tokens_before_cut, view.review.tokens_before_cut
    assert text[:start].endswith(text[slice(*view.review.offsets[before - 1])])
    assert text[end:].startswith(text[slice(*view.review.offsets[after])])
    assert text[end:].endswith(text[slice(*view.review.offsets[-2])])  # the last word, before [SEP]
    # The same tokens the model is trained and predicts on.
    trained_on = encode(model.tokenizer, [text], [0], model.max_tokens, keep_tail=True).input_ids[0]
    assert view.review.input_ids[0].tolist() == trained_on


def test_integrated_gradients_attribute_the_probability_change(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    _, run_id = trained_run(db, settings, tiny_model)
    model = load_run_model(db, run_id)
    review, attributions, delta = integrated_gradients(
        model, "great relief and highly recommend", target=1, steps=64
    )
    assert attributions.shape == (len(review.tokens),)
    # Completeness: attributions sum to p(target | review) - p(target | baseline), up to the delta.
    assert delta < 0.05
    assert np.isfinite(attributions).all() and np.abs(attributions).sum() > 0


def test_longer_reviews_get_fewer_steps_within_bounds() -> None:
    assert ig_steps(12) == ig_steps(128) == IG_STEPS
    assert ig_steps(256) == IG_MIN_STEPS == ig_steps(2048)
    assert IG_MIN_STEPS < ig_steps(180) < IG_STEPS


def test_default_steps_still_converge_after_warm_up(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    # The app warms the model up, then uses the default steps (bf16 autocast where the CPU has it).
    _, run_id = trained_run(db, settings, tiny_model)
    model = load_run_model(db, run_id, attention=True)
    warm_up(model)
    review, attributions, delta = integrated_gradients(model, "terrible headaches, stopped after a week", 0)
    assert len(review.tokens) <= 128 and attributions.shape == (len(review.tokens),)
    assert delta < 0.05


def test_attention_waits_while_an_attribution_hooks_the_shared_model(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    # The app shares one loaded model between browser sessions, each in its own thread. Hold an
    # attribution inside its hooked forward pass, then read attention on the same model from here.
    _, run_id = trained_run(db, settings, tiny_model)
    model = load_run_model(db, run_id, attention=True)
    embeddings = model.model.base_model.embeddings.word_embeddings
    inside = threading.Event()

    def hold_the_interpolated_pass(
        _module: object, inputs: tuple[torch.Tensor, ...], _output: object
    ) -> None:
        if inputs[0].shape[0] > 1:  # the batch of interpolation steps: captum's hook is in place
            inside.set()
            time.sleep(0.5)

    handle = embeddings.register_forward_hook(hold_the_interpolated_pass)
    failures: list[BaseException] = []

    def attribute() -> None:
        try:
            integrated_gradients(model, "the tablets helped a lot but the nausea was awful " * 4, 1, steps=8)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    worker = threading.Thread(target=attribute)
    worker.start()
    try:
        assert inside.wait(timeout=30)
        view = attention_view(model, "fine")
    finally:
        worker.join()
        handle.remove()
    assert not failures
    assert view.review.tokens == ["[CLS]", "fine", "[SEP]"]
    assert view.attentions.shape[-1] == 3 and view.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_word_pieces_map_back_to_the_words_as_written(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    _, run_id = trained_run(db, settings, tiny_model)
    model = load_run_model(db, run_id, attention=True)
    text = "Hydrocodone  eased my L5-S1 pain, Ã©tÃ© aside."
    review = tokenize_review(model, text)
    assert len(review.tokens) > 10  # the uncased tokenizer splits and lowercases these into pieces
    words = review_words(review)
    assert [text[w.start : w.end] for w in words] == text.split()
    assert sorted(t for w in words for t in w.tokens) == [
        i for i, (a, b) in enumerate(review.offsets) if a != b
    ]  # every real token in exactly one word; [CLS] and [SEP] in none
    weights = np.arange(len(review.tokens), dtype=float)
    assert word_weights(words, weights).sum() == pytest.approx(weights[1:-1].sum())
    view = attention_view(model, text)
    matrix = word_attention(words, view.attentions[0].mean(axis=0))
    assert matrix.shape == (len(words), len(words))
    # A word's row is the average of its pieces' rows, summed over the words it looks at: what the
    # pieces gave [CLS] and [SEP] is left out, so rows sum to at most 1.
    assert (matrix.sum(axis=1) <= 1 + 1e-6).all() and (matrix >= 0).all()
