"""Choose the device a notebook trains on, and say which one was chosen."""

from __future__ import annotations

import torch

_KNOWN = ("cuda", "mps", "cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(preferred: str | torch.device | None = None, verbose: bool = True) -> torch.device:
    """Return the best available device, or the one asked for.

    With ``preferred=None`` (or ``"auto"``) the order is CUDA, then Apple MPS, then CPU.
    Asking for a device that this machine lacks raises ``RuntimeError`` rather than
    silently training somewhere else.

    Args:
        preferred: ``None``/``"auto"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"`` or a
            ``torch.device``.
        verbose: print a one-line report of the choice.

    Returns:
        The chosen ``torch.device``.
    """
    if preferred is not None and not isinstance(preferred, (str, torch.device)):
        raise TypeError(
            f"preferred must be None, a string such as 'cuda' or a torch.device, "
            f"not {type(preferred).__name__}"
        )
    if preferred is None or preferred == "auto":
        if torch.cuda.is_available():
            device = torch.device("cuda")
        elif _mps_available():
            device = torch.device("mps")
        else:
            device = torch.device("cpu")
    else:
        try:
            device = torch.device(preferred)
        except RuntimeError as error:
            raise ValueError(
                f"unknown device {preferred!r}; use one of {_KNOWN} or None for automatic"
            ) from error
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "CUDA was asked for but no CUDA GPU is visible. On Colab choose "
                "Runtime > Change runtime type > T4 GPU; elsewhere pass preferred=None."
            )
        if device.type == "mps" and not _mps_available():
            raise RuntimeError("Apple MPS was asked for but is not available on this machine.")
    if verbose:
        print(describe_device(device))
    return device


def describe_device(device: torch.device) -> str:
    """One line naming the device, e.g. ``'Using device: cuda (Tesla T4, 15.0 GiB)'``."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        detail = f"{props.name}, {props.total_memory / 2**30:.1f} GiB"
    elif device.type == "mps":
        detail = "Apple GPU"
    else:
        detail = "no GPU found"
    return f"Using device: {device.type} ({detail})"
