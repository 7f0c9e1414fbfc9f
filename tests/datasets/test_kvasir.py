"""Offline tests of the Kvasir-SEG loader on small files written in Kvasir-SEG's layout."""

import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from bios740.datasets import kvasir
from bios740.datasets.kvasir import load_kvasir, mask_boxes, read_boxes
from bios740.download import DataUnavailableError

# id -> (height, width, polyps as inclusive (xmin, ymin, xmax, ymax) pixel indices)
FAKE = {
    "cju0aaaa": (40, 60, [(5, 8, 24, 30)]),
    "cju0bbbb": (48, 32, [(2, 3, 10, 12), (18, 25, 29, 44)]),
    "cju0cccc": (36, 36, [(0, 0, 35, 17)]),
}


def write_fake(folder):
    """Write images/, masks/ and kavsir_bboxes.json as the release has them."""
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    rng = np.random.default_rng(0)
    entries = {}
    for image_id, (height, width, polyps) in FAKE.items():
        image = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        mask = np.zeros((height, width), dtype=np.uint8)
        for xmin, ymin, xmax, ymax in polyps:
            mask[ymin : ymax + 1, xmin : xmax + 1] = 255
        Image.fromarray(image).save(folder / "images" / f"{image_id}.jpg", quality=95)
        Image.fromarray(mask).save(folder / "masks" / f"{image_id}.jpg", quality=95)
        entries[image_id] = {
            "height": height,
            "width": width,
            "bbox": [
                {"label": "polyp", "xmin": x1, "ymin": y1, "xmax": x2, "ymax": y2}
                for x1, y1, x2, y2 in polyps
            ],
        }
    (folder / "kavsir_bboxes.json").write_text(json.dumps(entries))


def test_read_boxes_is_continuous(tmp_path):
    write_fake(tmp_path / "Kvasir-SEG")
    boxes = read_boxes(tmp_path / "Kvasir-SEG" / "kavsir_bboxes.json")
    assert sorted(boxes) == sorted(FAKE)
    assert boxes["cju0aaaa"].dtype == np.float32
    # the last pixel index becomes the far edge: width = number of columns covered
    assert boxes["cju0aaaa"].tolist() == [[5.0, 8.0, 25.0, 31.0]]
    assert boxes["cju0bbbb"].shape == (2, 4)


def test_load_local_folder_matches_masks(tmp_path):
    write_fake(tmp_path / "Kvasir-SEG")
    data = load_kvasir(root=tmp_path, download=False)
    assert data.ids == tuple(sorted(FAKE)) and len(data) == 3
    assert "3 images, 4 polyp boxes" in repr(data)
    for image, mask, boxes, image_id in zip(
        data.images, data.masks, data.boxes, data.ids, strict=True
    ):
        height, width, _ = FAKE[image_id]
        assert image.shape == (3, height, width) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert mask.shape == (height, width) and mask.dtype == bool
        # the JSON's boxes and the mask's regions agree in the continuous convention
        assert np.array_equal(np.sort(mask_boxes(mask), axis=0), np.sort(boxes, axis=0))


def test_resize_scales_boxes(tmp_path):
    write_fake(tmp_path / "Kvasir-SEG")
    data = load_kvasir(root=tmp_path, download=False, size=24, max_images=2)
    assert len(data) == 2 and all(i.shape == (3, 24, 24) for i in data.images)
    assert all(m.shape == (24, 24) for m in data.masks)
    # cju0aaaa is 60 wide and 40 high: x scales by 24/60, y by 24/40
    assert np.allclose(data.boxes[0], [[5 * 0.4, 8 * 0.6, 25 * 0.4, 31 * 0.6]])


def test_download_and_unpack_from_local_url(tmp_path, monkeypatch):
    source = tmp_path / "server"
    write_fake(source / "Kvasir-SEG")
    archive = tmp_path / "kvasir-seg.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted((source / "Kvasir-SEG").rglob("*")):
            handle.write(path, path.relative_to(source).as_posix())
    monkeypatch.setattr(kvasir, "URL", archive.as_uri())
    data = load_kvasir(root=tmp_path / "data")
    assert (tmp_path / "data" / "Kvasir-SEG" / "kavsir_bboxes.json").is_file()
    assert len(data) == 3
    # a second call uses the unpacked folder and does not need the server
    monkeypatch.setattr(kvasir, "URL", (tmp_path / "gone.zip").as_uri())
    assert len(load_kvasir(root=tmp_path / "data")) == 3


def test_archive_without_boxes_is_rejected(tmp_path, monkeypatch):
    archive = tmp_path / "kvasir-seg.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("something/else.txt", "not Kvasir")
    monkeypatch.setattr(kvasir, "URL", archive.as_uri())
    with pytest.raises(ValueError, match="kavsir_bboxes.json"):
        load_kvasir(root=tmp_path / "data")


def test_offline_errors_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(kvasir, "URL", (tmp_path / "nowhere.zip").as_uri())
    with pytest.raises(DataUnavailableError, match="kvasir-seg.zip"):
        load_kvasir(root=tmp_path)
    with pytest.raises(FileNotFoundError, match="kavsir_bboxes.json") as error:
        load_kvasir(root=tmp_path, download=False)
    assert str(tmp_path) in str(error.value)


def test_bad_input_and_bad_files(tmp_path):
    with pytest.raises(ValueError, match="size must be a positive integer"):
        load_kvasir(root=tmp_path, download=False, size=0)
    with pytest.raises(ValueError, match="max_images"):
        load_kvasir(root=tmp_path, download=False, max_images=True)
    with pytest.raises(ValueError, match="2-D bool"):
        mask_boxes(np.zeros((4, 4), dtype=np.uint8))
    folder = tmp_path / "Kvasir-SEG"
    write_fake(folder)
    (folder / "masks" / "cju0bbbb.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="cju0bbbb.jpg"):
        load_kvasir(root=tmp_path, download=False)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"x": {"height": 4, "width": 4, "bbox": [{"xmin": 1}]}}))
    with pytest.raises(ValueError, match="lacks"):
        read_boxes(bad)
    bad.write_text(json.dumps({"x": {"height": 4}}))
    with pytest.raises(ValueError, match="no 'bbox'"):
        read_boxes(bad)
    with pytest.raises(FileNotFoundError):
        read_boxes(tmp_path / "missing.json")
