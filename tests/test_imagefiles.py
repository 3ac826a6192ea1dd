"""Learners' own folders: every awkward file is used, converted, skipped or refused, and
every image keeps its folder's label."""

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlhelpers.transfer import folders
from tlhelpers.storage import imagefiles


def _rgb(value: int, size=(20, 24)) -> np.ndarray:
    return np.full((*size, 3), value, np.uint8)


def _png16_rgb(path: Path, value: int) -> None:
    """A 48-bit RGB PNG (Pillow cannot write one)."""
    arr = np.full((6, 6, 3), value * 257, ">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in arr)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 6, 6, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def messy(tmp_path, monkeypatch) -> Path:
    """Three classes (pixel values 40, 120, 200) with every awkward case of the issue."""
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "my photos"
    for name, value in (("cats", 40), ("dögs", 120), ("zebra fish", 200)):
        (root / name).mkdir(parents=True)
        for j in range(4):
            Image.fromarray(_rgb(value)).save(root / name / f"{j} plain.jpg", quality=100)
    cats, dogs, fish = root / "cats", root / "dögs", root / "zebra fish"
    Image.fromarray(_rgb(40)).convert("L").save(cats / "gray.PNG")                 # grayscale: used
    Image.fromarray(_rgb(40)).save(cats / "UPPER.JPEG", quality=100)                # mixed case
    rgba = np.dstack([_rgb(40), np.full((20, 24), 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(cats / "alpha.png")                          # RGBA: convert
    Image.fromarray(_rgb(120)).convert("CMYK").save(dogs / "cmyk.jpg", quality=100)   # CMYK: convert
    Image.fromarray(np.full((6, 6), 120 * 257, np.uint16)).save(dogs / "gray16.png")  # I;16: convert
    _png16_rgb(dogs / "rgb16.png", 120)                                              # 48-bit: used
    Image.fromarray(_rgb(120)).save(dogs / "scan.tif")                              # TIFF: convert
    (dogs / "nested" / "deeper").mkdir(parents=True)
    Image.fromarray(_rgb(120)).save(dogs / "nested" / "deeper" / "été 1.jpg", quality=100)
    (fish / "notes.txt").write_text("not an image")                                # ignored
    (fish / "fake.jpg").write_text("<html>not a jpeg</html>")                      # skipped
    good = (cats / "0 plain.jpg").read_bytes()
    (fish / "truncated.jpg").write_bytes(good[: len(good) // 2])                   # skipped
    (fish / ".hidden.jpg").write_bytes(b"")                                        # hidden: not seen
    return root


def test_each_file_gets_a_decision(messy):
    dogs = messy / "dögs"
    assert imagefiles.check_image(messy / "cats" / "gray.PNG").action == "use"
    assert imagefiles.check_image(dogs / "rgb16.png").action == "use"
    for name, why in (("cmyk.jpg", "mode CMYK"), ("gray16.png", "mode I;16"), ("scan.tif", "TIFF format")):
        assert imagefiles.check_image(dogs / name) == imagefiles.FileCheck(dogs / name, "convert", why)
    assert imagefiles.check_image(messy / "zebra fish" / "fake.jpg").reason.startswith("not an image")
    assert imagefiles.check_image(messy / "zebra fish" / "truncated.jpg").reason.startswith("corrupt")


def test_messy_folder_loads_with_correct_labels_and_a_report(messy, capsys):
    data = folders.load_image_folder(messy, validation_split=0.25, seed=0)
    printed = capsys.readouterr().out
    assert data.class_names == ("cats", "dögs", "zebra fish")
    report = data.report()
    assert printed.strip().endswith(report)
    assert "converted to 8-bit RGB: 4 files (1 TIFF format, 1 mode CMYK, 1 mode I;16, 1 mode RGBA)" in report
    assert "skipped (unreadable): 2 files" in report and "truncated.jpg" in report and "fake.jpg" in report
    assert "ignored (no image extension): 1 files" in report and "nested sub-folders" in report
    n_used = len(data.train_paths) + len(data.val_paths)
    assert n_used == 7 + 9 + 4
    # every image, converted or not, ends up with its own folder's label
    for split in ("train", "validation"):
        paths, labels = data.split(split)
        for path, label in zip(paths, labels):
            original = Path(data.scan.originals.get(path, path))
            assert original.relative_to(messy).parts[0] == data.class_names[label]
    # and its pixels are those of its class (40, 120, 200), after streaming through TensorFlow
    x, y = next(iter(data.dataset("train", 16, batch_size=64)))
    means = np.asarray(x).reshape(len(y), -1).mean(axis=1)
    assert np.allclose(means, np.array([40, 120, 200])[np.asarray(y)], atol=3)


def test_conversion_happens_once(messy, capsys):
    first = folders.load_image_folder(messy, 0.25)
    converted = sorted(first.scan.originals)
    stamps = [Path(p).stat().st_mtime_ns for p in converted]
    again = folders.load_image_folder(messy, 0.25)
    assert sorted(again.scan.originals) == converted
    assert [Path(p).stat().st_mtime_ns for p in converted] == stamps
    assert again.tag() == first.tag()


def test_alpha_is_composited_on_white():
    rgba = Image.new("RGBA", (2, 2), (255, 0, 0, 0))   # fully transparent red
    assert imagefiles.to_rgb8(rgba).getpixel((0, 0)) == (255, 255, 255)
    sixteen = Image.fromarray(np.full((2, 2), 65535, np.uint16))
    assert imagefiles.to_rgb8(sixteen).getpixel((0, 0)) == (255, 255, 255)


def test_refusals_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "d"
    for name, n in (("a", 4), ("b", 1)):
        (root / name).mkdir(parents=True)
        for j in range(n):
            Image.fromarray(_rgb(10)).save(root / name / f"{j}.png")
    with pytest.raises(ValueError, match=r"Class 'b' has only 1 usable image\(s\).*at least 2"):
        folders.load_image_folder(root, 0.2, verbose=False)
    assert folders.load_image_folder(root, 0.0, verbose=False).num_classes == 2   # no split: fine
    (root / "b" / "0.png").write_text("broken")
    with pytest.raises(ValueError, match=r"only 0 usable image\(s\) \(1 unreadable, skipped: 0.png \["):
        folders.load_image_folder(root, 0.0, verbose=False)
    (root / "b" / "0.png").unlink()
    with pytest.raises(ValueError, match="has no images"):                      # empty class
        folders.load_image_folder(root, 0.0, verbose=False)


def test_clean_folder_prints_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("a", "b"):
        (tmp_path / "d" / name).mkdir(parents=True)
        for j in range(3):
            Image.fromarray(_rgb(9)).save(tmp_path / "d" / name / f"{j}.jpg")
    data = folders.load_image_folder(tmp_path / "d", 0.0)
    assert capsys.readouterr().out == "" and data.report() == "all files used as they are"


def test_skipped_files_are_named_when_a_class_is_refused(tmp_path, monkeypatch):
    """4 unreadable files and 1 good one: the refusal lists the 4, with max_per_class too."""
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "d"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
    for j in range(4):
        Image.fromarray(_rgb(10)).save(root / "a" / f"{j}.png")
        (root / "b" / f"bad{j}.jpg").write_bytes(b"<html>" if j % 2 else b"")
    Image.fromarray(_rgb(10)).save(root / "b" / "good.png")
    with pytest.raises(ValueError) as info:
        folders.load_image_folder(root, 0.2, max_per_class=10, verbose=False)
    text = str(info.value)
    assert "Class 'b' has only 1 usable image(s) (4 unreadable, skipped: " in text
    assert all(f"bad{j}.jpg [" in text for j in range(4))


def test_sixteen_bit_images_are_scaled_by_65535(tmp_path):
    """A dark 16-bit image stays dark (not stretched to its own maximum)."""
    dark = Image.fromarray(np.full((2, 2), 200, np.uint16))
    assert imagefiles.to_rgb8(dark).getpixel((0, 0)) == (1, 1, 1)
    Image.fromarray(np.full((2, 2), 128 * 257, np.uint16)).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as img:   # I;16 or I, depending on Pillow
        assert imagefiles.to_rgb8(img).getpixel((0, 0)) == (128, 128, 128)
    Image.fromarray(np.full((2, 2), 200, np.uint16)).save(tmp_path / "dark16.png")
    with Image.open(tmp_path / "dark16.png") as img:
        assert imagefiles.to_rgb8(img).getpixel((0, 0)) == (1, 1, 1)
