"""Batch padding: to the longest input on a CPU, to a multiple of 32 on CUDA (fewer distinct shapes)."""

from __future__ import annotations

import torch

from core.training.data import Encoded, collate
from core.training.device import DeviceInfo


def test_collate_pads_to_the_longest_or_to_the_next_multiple() -> None:
    encoded = Encoded(input_ids=[[101, 7, 8, 102], [101, 9, 102], [101, *range(40), 102]], labels=[0, 1, 1])
    plain = collate(encoded, [0, 1], pad_token_id=0)
    assert plain["input_ids"].tolist() == [[101, 7, 8, 102], [101, 9, 102, 0]]
    assert plain["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert plain["labels"].tolist() == [0, 1]

    rounded = collate(encoded, [0, 1], pad_token_id=0, pad_multiple=32)
    assert rounded["input_ids"].shape == rounded["attention_mask"].shape == (2, 32)
    assert rounded["attention_mask"].sum(dim=1).tolist() == [4, 3]  # padding is masked out
    assert torch.equal(rounded["input_ids"][:, :4], plain["input_ids"])
    assert collate(encoded, [2], pad_token_id=0, pad_multiple=32)["input_ids"].shape == (1, 64)  # 42 -> 64


def test_only_cuda_rounds_batch_lengths_up() -> None:
    def device(kind: str) -> DeviceInfo:
        return DeviceInfo(kind, kind, None, 1, bf16=False)

    assert [device(kind).pad_multiple for kind in ("cuda", "cpu", "mps")] == [32, 1, 1]
