"""Download a data file once, check it, and explain what to do when offline."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

_HASHES = ("sha256", "md5")


class DataUnavailableError(RuntimeError):
    """A data file is missing and could not be downloaded (offline, timeout, bad checksum)."""


def file_hash(path: str | Path, algorithm: str = "sha256", chunk_size: int = 1 << 20) -> str:
    """Return the hex digest of a file (``"sha256"`` or ``"md5"``)."""
    if algorithm not in _HASHES:
        raise ValueError(f"algorithm must be one of {_HASHES}, got {algorithm!r}")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def _check(path: Path, expected: str | None, algorithm: str) -> bool:
    return expected is None or file_hash(path, algorithm) == expected.lower()


def download(
    url: str,
    destination: str | Path,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Fetch ``url`` to ``destination`` unless a verified copy is already there.

    The file is written to a temporary name and moved into place only after its
    checksum matches, so an interrupted download never leaves a corrupt file behind.

    Args:
        url: an ``http(s)://`` or ``file://`` address.
        destination: the file to create (its folder is created if needed).
        sha256: expected SHA-256 hex digest (preferred), or
        md5: expected MD5 hex digest, for data sets that publish only MD5.
        timeout: seconds to wait for the server before giving up.
        progress: show a ``tqdm`` progress bar.

    Returns:
        The path of the verified file.

    Raises:
        DataUnavailableError: offline, timed out, HTTP error or checksum mismatch; the
            message names the file needed and where to put it.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"url must be a full address such as https://..., got {url!r}")
    if sha256 is not None and md5 is not None:
        raise ValueError("give sha256 or md5, not both")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    algorithm, expected = ("md5", md5) if md5 is not None else ("sha256", sha256)
    destination = Path(destination)
    how_to_fix = (
        f"Download {url} yourself (for example on a machine with internet) and put it at "
        f"{destination.resolve()}; or set BIOS740_DATA_DIR to a folder that already has it."
    )
    if destination.is_file():
        if _check(destination, expected, algorithm):
            return destination
        raise DataUnavailableError(
            f"{destination} exists but its {algorithm} does not match the expected "
            f"{expected}; the file is corrupt or a different version. Delete it and run "
            f"again. {how_to_fix}"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False, suffix=".part") as tmp:
        partial = Path(tmp.name)
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                total = int(response.headers.get("Content-Length") or 0) or None
                with (
                    open(partial, "wb") as out,
                    tqdm(
                        total=total,
                        unit="B",
                        unit_scale=True,
                        desc=destination.name,
                        disable=not progress,
                    ) as bar,
                ):
                    for block in iter(lambda: response.read(1 << 16), b""):
                        out.write(block)
                        bar.update(len(block))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise DataUnavailableError(
                f"Could not download {destination.name} ({error}). This machine may be "
                f"offline or the server may be down. {how_to_fix}"
            ) from error
        if not _check(partial, expected, algorithm):
            raise DataUnavailableError(
                f"The download of {url} has {algorithm} {file_hash(partial, algorithm)}, "
                f"not the expected {expected}. {how_to_fix}"
            )
        shutil.move(str(partial), destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination
