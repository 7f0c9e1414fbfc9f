"""Where course data lives: one function, overridable by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

from .environment import in_colab

ENV_VAR = "BIOS740_DATA_DIR"
COLAB_DATA_DIR = Path("/content/drive/MyDrive/BIOS740-data")
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """The data folder before any override.

    On Colab it is on Google Drive when Drive is mounted (so downloads survive the
    runtime), else ``/content/data``; locally it is ``data/`` at the repository root
    (git-ignored).
    """
    if in_colab():
        if COLAB_DATA_DIR.parent.is_dir():
            return COLAB_DATA_DIR
        return Path("/content/data")
    return REPOSITORY_ROOT / "data"


def data_dir(name: str | None = None, create: bool = True) -> Path:
    """Return the course data folder, or a named subfolder of it.

    ``$BIOS740_DATA_DIR`` overrides the default (see :func:`default_data_dir`).

    Args:
        name: a subfolder such as ``"mnist"``; a plain relative name, no ``..``.
        create: create the folder if it does not exist.
    """
    override = os.environ.get(ENV_VAR, "").strip()
    root = Path(override).expanduser() if override else default_data_dir()
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("name must be a non-empty string such as 'mnist'")
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(
                f"name must be a relative folder name inside the data folder, got {name!r}"
            )
        root = root / relative
    if create:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OSError(
                f"cannot create the data folder {root}: {error}. "
                f"Set {ENV_VAR} to a folder you can write to."
            ) from error
    return root
