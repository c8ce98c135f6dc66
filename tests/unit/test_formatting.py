from core.training.device import DeviceInfo
from ui.formatting import device_text


def test_device_text_keeps_kind_and_precision_of_real_descriptions() -> None:
    cpu = DeviceInfo(kind="cpu", name="cpu", threads=1, bf16=True, memory_gb=0.0)
    gpu = DeviceInfo(kind="cuda", name="NVIDIA H100", threads=1, bf16=True, memory_gb=80.0)
    plain_cpu = DeviceInfo(kind="cpu", name="cpu", threads=2, bf16=False, memory_gb=0.0)

    assert device_text(cpu.describe()) == "CPU · bf16"
    assert device_text(gpu.describe()) == "GPU: NVIDIA H100 (80 GB) · bf16"
    assert device_text(plain_cpu.describe()) == "CPU"
    assert device_text(None) == "—"


def test_device_in_plain_words_from_real_descriptions() -> None:
    from ui.formatting import device_in_plain_words

    cpu = DeviceInfo(kind="cpu", name="cpu", threads=1, bf16=True, memory_gb=0.0)
    gpu = DeviceInfo(kind="cuda", name="NVIDIA H100", threads=1, bf16=True, memory_gb=80.0)
    assert device_in_plain_words(cpu.describe()) == "this computer's processor"
    assert device_in_plain_words(gpu.describe()) == "the graphics card (NVIDIA H100 (80 GB))"
    assert device_in_plain_words(None) == "a device being chosen"
