"""Which device trains, chosen at run time (never at import): CUDA with bf16, then MPS, then CPU.

bf16 autocast is used where the hardware runs bf16 natively: CUDA GPUs that support it, and CPUs with
AVX512-BF16 or AMX (measured 1.6x faster per MiniLM training step on this project's 2-core AVX512-BF16
machine). On other CPUs bf16 is emulated and slower than fp32, so it stays off.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch

# Leave a core for the UI process while a CPU job runs (the Label page must stay responsive).
UI_RESERVED_CORES = 1


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda", "mps" or "cpu"
    name: str
    memory_gb: float | None
    threads: int
    bf16: bool

    def describe(self) -> str:
        if self.kind == "cuda":
            precision = ", bf16 autocast" if self.bf16 else ""
            return f"GPU: {self.name} ({self.memory_gb:.0f} GB){precision}"
        if self.kind == "mps":
            return f"Apple GPU ({self.name})"
        kept = " (one core kept for the app)" if self.threads < (os.cpu_count() or 1) else ""
        precision = ", bf16 autocast" if self.bf16 else ""
        return f"CPU: {self.threads} of {os.cpu_count()} threads{kept}{precision}"

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.kind)

    @property
    def training_attention(self) -> str | None:
        """The attention implementation to train with; None keeps the model's own (SDPA).

        On a CPU, SDPA's fused kernel trains slower than plain matrix products: one MiniLM step of 16
        reviews x 128 tokens in bf16 on one thread took 1.38 s with SDPA and 0.96 s with "eager"
        attention without dropout (1.17 s with dropout), measured on this project's AVX512-BF16 machine.
        Scoring runs at the same speed with either, so only training switches."""
        return "eager" if self.kind == "cpu" else None

    @property
    def pad_multiple(self) -> int:
        """Batches are padded to a multiple of this. On CUDA every new tensor shape costs a kernel choice
        (about 60 ms for the first bf16 batch of a length on an H100, then 4-6 ms), and dynamic padding makes
        almost every batch a new shape: rounding lengths up to 32 leaves 4 shapes per batch size at 128
        tokens and took the first bf16 epoch on the sample from 125 to 494 reviews/s. A CPU pays for every
        padded token instead, so it pads to the longest input only."""
        return 32 if self.kind == "cuda" else 1


def training_threads() -> int:
    return max(1, (os.cpu_count() or 1) - UI_RESERVED_CORES)


def cpu_has_native_bf16() -> bool:
    # torch exposes these probes only privately; a torch without them simply gets fp32.
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, probe, lambda: False)()) for probe in probes)


def choose_device(*, prefer_cpu: bool = False) -> DeviceInfo:
    if not prefer_cpu and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return DeviceInfo(
            "cuda", props.name, props.total_memory / 2**30, training_threads(), torch.cuda.is_bf16_supported()
        )
    if not prefer_cpu and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return DeviceInfo("mps", "mps", None, training_threads(), False)
    return DeviceInfo("cpu", "cpu", None, training_threads(), cpu_has_native_bf16())


def prepare_device(device: DeviceInfo) -> None:
    """Process-wide torch settings for a job on this device."""
    torch.set_num_threads(device.threads)
    if device.kind == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def autocast_for(device: DeviceInfo) -> AbstractContextManager[Any]:
    """bf16 autocast where the device runs it natively (see the module note); a no-op elsewhere."""
    if device.bf16 and device.kind in ("cuda", "cpu"):
        return torch.autocast(device.kind, dtype=torch.bfloat16)
    return nullcontext()
