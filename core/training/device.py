"""Which device trains, chosen at run time (never at import): CUDA with bf16, then MPS, then CPU."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
            return f"GPU: {self.name} ({self.memory_gb:.0f} GB), bf16 autocast"
        if self.kind == "mps":
            return f"Apple GPU ({self.name})"
        kept = " (one core kept for the app)" if self.threads < (os.cpu_count() or 1) else ""
        return f"CPU: {self.threads} of {os.cpu_count()} threads{kept}"

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.kind)


def training_threads() -> int:
    return max(1, (os.cpu_count() or 1) - UI_RESERVED_CORES)


def choose_device(*, prefer_cpu: bool = False) -> DeviceInfo:
    if not prefer_cpu and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return DeviceInfo(
            "cuda", props.name, props.total_memory / 2**30, training_threads(), torch.cuda.is_bf16_supported()
        )
    if not prefer_cpu and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return DeviceInfo("mps", "mps", None, training_threads(), False)
    return DeviceInfo("cpu", "cpu", None, training_threads(), False)


def prepare_device(device: DeviceInfo) -> None:
    """Process-wide torch settings for a job on this device."""
    torch.set_num_threads(device.threads)
    if device.kind == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
