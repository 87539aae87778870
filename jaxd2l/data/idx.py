"""Reading and validating IDX files (the MNIST / Fashion-MNIST format), gzipped or not.

Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
then one big-endian uint32 per dimension and the data. Anything else raises an
IdxFormatError that names the file: never a reshape traceback or silent garbage.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from jaxd2l.checks.errors import IdxFormatError

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, decompressed when it is gzipped (by its magic, not its name)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        return raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise IdxFormatError(
            f"{path}: corrupt or truncated gzip data ({e}); delete it and fetch it again"
        ) from None


def parse_idx(raw: bytes, magic: int, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes whose magic number must be `magic`; returns a uint8 array."""
    if len(raw) < 4:
        raise IdxFormatError(f"{source}: {len(raw)} bytes is too short for an IDX header")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise IdxFormatError(
            f"{source}: magic number 0x{found:08x}, expected 0x{magic:08x} "
            f"({'images' if magic == IMAGES_MAGIC else 'labels'}): "
            "not the right IDX file (or not an IDX file at all)"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxFormatError(f"{source}: truncated inside the IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected, found_bytes = math.prod(dims), len(raw) - header
    if found_bytes < expected:
        raise IdxFormatError(
            f"{source}: truncated: header says {dims} = {expected} bytes of data, "
            f"the file has {found_bytes}; fetch it again"
        )
    if found_bytes > expected:
        raise IdxFormatError(
            f"{source}: {found_bytes - expected} bytes after the {dims} data the header "
            "announces: corrupt file"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def read_images(path: str | os.PathLike, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Images [N, H, W, 1] uint8 from an idx3 file; `shape` checks (H, W)."""
    images = parse_idx(read_bytes(path), IMAGES_MAGIC, str(path))
    if shape is not None and images.shape[1:] != tuple(shape):
        raise IdxFormatError(f"{path}: images are {images.shape[1:]}, expected {tuple(shape)}")
    return images[..., None]


def read_labels(path: str | os.PathLike, num_classes: int | None = None) -> np.ndarray:
    """Labels [N] int32 from an idx1 file; `num_classes` checks the range."""
    labels = parse_idx(read_bytes(path), LABELS_MAGIC, str(path)).astype(np.int32)
    if num_classes is not None and labels.size and labels.max() >= num_classes:
        raise IdxFormatError(
            f"{path}: label {labels.max()} is out of range for {num_classes} classes"
        )
    return labels


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool = True) -> None:
    """Write a uint8 array as IDX (gzipped by default): for tests and small fixtures."""
    array = np.asarray(array, np.uint8)
    header = struct.pack(f">I{array.ndim}I", 0x0800 | array.ndim, *array.shape)
    data = header + array.tobytes()
    with open(path, "wb") as fh:
        fh.write(gzip.compress(data, mtime=0) if compress else data)
