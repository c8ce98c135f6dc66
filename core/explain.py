"""Why a model decided: attention maps, attention rollout, and integrated-gradients token attributions.

Attention needs the model loaded with eager attention (core.inference.load_model_folder(attention=True));
other implementations do not return attention weights. Attributions come from captum's
LayerIntegratedGradients on the word embeddings, against a baseline where every token but [CLS] and
[SEP] is [PAD]: they say how much each token moved the chosen class's probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.inference import LoadedModel
from core.training.data import kept_positions, special_wrapping
from core.training.device import autocast_for

# Integrated gradients costs steps x tokens of forward and backward work. 32 steps at 128 tokens keeps
# a review near 1 s on a 2-core CPU; longer inputs get fewer steps (16 at 256 tokens), which measured a
# convergence error still below 0.01 (bench/explain_speed.py), instead of taking twice as long.
IG_STEPS = 32
IG_MIN_STEPS = 16
IG_TOKEN_STEP_BUDGET = 128 * IG_STEPS


def ig_steps(token_count: int) -> int:
    """Interpolation steps for a review of this many tokens."""
    return max(IG_MIN_STEPS, min(IG_STEPS, IG_TOKEN_STEP_BUDGET // max(token_count, 1)))


@dataclass(frozen=True)
class TokenizedReview:
    input_ids: torch.Tensor  # 1 x tokens
    attention_mask: torch.Tensor
    tokens: list[str]
    offsets: list[tuple[int, int]]  # character span of each token in the text; (0, 0) for specials
    # Characters the model did not read (a long review's end, or its middle when it keeps the tail),
    # and how many of `tokens` come before that gap. None: it read everything.
    cut_chars: tuple[int, int] | None
    tokens_before_cut: int

    @property
    def truncated(self) -> bool:
        return self.cut_chars is not None

    def cut_text(self, text: str) -> str:
        return text[self.cut_chars[0] : self.cut_chars[1]] if self.cut_chars else ""


@dataclass(frozen=True)
class Word:
    """A word of the review as written: its character span, and the tokens it was split into."""

    start: int
    end: int
    tokens: tuple[int, ...]  # positions in TokenizedReview.tokens


def review_words(review: TokenizedReview) -> list[Word]:
    """Tokens merged back into the text's words: pieces whose character spans touch ("hydro", "##co",
    "##done"; "L5", "-", "S1") form one word, shown as the review wrote it (case and accents kept).
    Special tokens, which have no characters, belong to no word; nothing is merged across the cut."""
    words: list[Word] = []
    for index, (start, end) in enumerate(review.offsets):
        if start == end:
            continue
        across_cut = review.truncated and index == review.tokens_before_cut
        if words and words[-1].end == start and not across_cut:
            last = words[-1]
            words[-1] = Word(last.start, end, (*last.tokens, index))
        else:
            words.append(Word(start, end, (index,)))
    return words


def word_weights(words: Sequence[Word], token_weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Each word's weight: the sum over its tokens (attributions add up; so does attention received)."""
    weights = np.asarray(token_weights, dtype=np.float64)
    return np.array([weights[list(word.tokens)].sum() for word in words])


def word_attention(words: Sequence[Word], matrix: np.ndarray) -> np.ndarray:
    """A tokens x tokens attention matrix as words x words: where a word looks is the average over its
    tokens, and what it receives the sum over its tokens, so each row still sums to at most 1."""
    rows = np.stack([matrix[list(word.tokens)].mean(axis=0) for word in words]) if words else matrix[:0]
    return (
        np.stack([rows[:, list(word.tokens)].sum(axis=1) for word in words], axis=1) if words else rows[:, :0]
    )


@dataclass(frozen=True)
class AttentionView:
    review: TokenizedReview
    attentions: np.ndarray  # layers x heads x tokens x tokens; each row sums to 1
    probabilities: np.ndarray


def tokenize_review(model: LoadedModel, text: str) -> TokenizedReview:
    """The review as the model reads it: the same tokens and the same cut as training and Predict."""
    plain = model.tokenizer(
        text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
    )
    ids, spans = list(plain["input_ids"]), [(int(a), int(b)) for a, b in plain["offset_mapping"]]
    prefix, suffix = special_wrapping(model.tokenizer)
    budget = model.max_tokens - len(prefix) - len(suffix)
    head, tail = kept_positions(len(ids), budget) if model.keep_tail else (min(len(ids), budget), 0)
    kept = [*range(head), *range(len(ids) - tail, len(ids))]
    cut_chars = None
    if len(kept) < len(ids):
        cut_start = spans[head - 1][1] if head else 0
        cut_end = spans[len(ids) - tail][0] if tail else len(text)
        cut_chars = (cut_start, cut_end)
    input_ids = [*prefix, *(ids[i] for i in kept), *suffix]
    tensor = torch.tensor([input_ids], dtype=torch.long, device=model.device.torch_device)
    return TokenizedReview(
        input_ids=tensor,
        attention_mask=torch.ones_like(tensor),
        tokens=model.tokenizer.convert_ids_to_tokens(input_ids),
        offsets=[(0, 0)] * len(prefix) + [spans[i] for i in kept] + [(0, 0)] * len(suffix),
        cut_chars=cut_chars,
        tokens_before_cut=len(prefix) + head,
    )


def attention_view(model: LoadedModel, text: str) -> AttentionView:
    if getattr(model.model.config, "_attn_implementation", "eager") != "eager":
        raise ValueError("Load the model with attention=True (eager attention) to read attention weights.")
    review = tokenize_review(model, text)
    with model.lock, torch.inference_mode():  # not while an attribution hooks the same model
        output = model.model(
            input_ids=review.input_ids, attention_mask=review.attention_mask, output_attentions=True
        )
    attentions = torch.stack([layer[0].float() for layer in output.attentions]).cpu().numpy()
    probabilities = torch.softmax(output.logits.float(), dim=-1)[0].cpu().numpy()
    return AttentionView(review, attentions, probabilities)


def attention_rollout(attentions: np.ndarray) -> np.ndarray:
    """Abnar & Zuidema (2020): average heads, add the residual path, renormalize, multiply up the layers."""
    size = attentions.shape[-1]
    rollout = np.eye(size)
    for layer in attentions:
        mixed = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(size)
        mixed = mixed / mixed.sum(axis=-1, keepdims=True)
        rollout = mixed @ rollout
    return rollout


def received_attention(matrix: np.ndarray, *, source: str = "cls") -> np.ndarray:
    """How much attention each token receives: from [CLS] (row 0), or averaged over all tokens."""
    received: np.ndarray = matrix[0] if source == "cls" else matrix.mean(axis=0)
    return received


def integrated_gradients(
    model: LoadedModel, text: str, target: int, *, steps: int | None = None
) -> tuple[TokenizedReview, np.ndarray, float]:
    """(review, attribution per token, convergence delta) for class index `target`.

    steps defaults to ig_steps(number of tokens).
    """
    from captum.attr import LayerIntegratedGradients

    review = tokenize_review(model, text)
    steps = steps or ig_steps(len(review.tokens))
    network = model.model
    embeddings = getattr(network, network.base_model_prefix).embeddings.word_embeddings
    tokenizer = model.tokenizer
    special = {tokenizer.cls_token_id, tokenizer.sep_token_id}
    baseline = torch.tensor(
        [[i if i in special else tokenizer.pad_token_id for i in review.input_ids[0].tolist()]],
        device=review.input_ids.device,
    )

    def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
        # bf16 where the hardware has it: about 1.8x faster here, and the convergence error stays
        # around 1e-3 (bench/explain_speed.py prints it), because gradients land on fp32 embeddings.
        with autocast_for(model.device):
            logits = network(input_ids=input_ids, attention_mask=attention_mask).logits
        return torch.softmax(logits.float(), dim=-1)

    with model.lock:  # the hook on the shared embedding layer is there only inside attribute()
        attributions, delta = LayerIntegratedGradients(forward, embeddings).attribute(
            review.input_ids,
            baselines=baseline,
            target=target,
            additional_forward_args=(review.attention_mask,),
            n_steps=steps,
            internal_batch_size=steps,
            return_convergence_delta=True,
        )
    per_token = attributions.sum(dim=-1)[0].detach().float().cpu().numpy()
    return review, per_token, float(delta.abs().sum())


def warm_up(model: LoadedModel) -> None:
    """One tiny attribution, so the first review a user explains does not pay for first-call setup.

    The first backward pass in a process allocates and initialises kernels: it measured 1.9 s against
    0.9 s for the next review, which is past the 2 s bar on the longest reviews.
    """
    integrated_gradients(model, "warm up", 0, steps=2)
