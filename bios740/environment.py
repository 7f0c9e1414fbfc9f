"""Where is this code running: Google Colab, a CI runner or a local machine?"""

from __future__ import annotations

import os
import sys

ENVIRONMENTS = ("colab", "ci", "local")


def in_colab() -> bool:
    """Return True inside a Google Colab runtime.

    Colab preloads the ``google.colab`` module in its kernels and sets
    ``COLAB_RELEASE_TAG``; either is taken as proof.
    """
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def in_ci() -> bool:
    """Return True on a continuous-integration runner (``CI`` set to a true value)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def detect_environment() -> str:
    """Name the environment: ``"colab"``, ``"ci"`` or ``"local"`` (checked in that order)."""
    if in_colab():
        return "colab"
    if in_ci():
        return "ci"
    return "local"
