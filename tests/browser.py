"""A real browser for the tests that look at what a reviewer sees: Chromium,
headless, and a PNG reader to count the pixels it painted."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium is not installed: `sh scripts/setup.sh --test` installs it (Debian: apt-get install chromium)")


def headless(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    env = {**os.environ, "HOME": str(tmp_path)}  # keep the browser's caches out of the real home
    return subprocess.run(cmd, capture_output=True, timeout=180, env=env, check=False)


def png_rows(data: bytes, keep: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``keep`` decoded rows of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body), "bad CRC"
        chunks.append((kind, body))
        pos += 12 + n
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(raw) == height * (stride + 1)
    rows, prev = [], bytearray(stride)
    for y in range(min(keep, height)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG filter of the row
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif kind == 4:
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line if bpp == 3 else bytes(x for k, x in enumerate(line) if k % 4 != 3)))
        prev = line
    return width, height, rows


def count_colour(rows: list[bytes], rgb: bytes) -> int:
    """Pixels of exactly this colour (each channel plane mapped to 0/1 bytes, then ANDed)."""
    tables = [bytes(int(v == c) for v in range(256)) for c in rgb]
    total = 0
    for row in rows:
        r, g, b = (int.from_bytes(row[k::3].translate(tables[k]), "big") for k in range(3))
        total += (r & g & b).bit_count()
    return total


def screenshot(tmp_path: Path, url: str, width: int, height: int) -> list[bytes]:
    """The page at ``url`` as Chromium paints it in a window of this size: its rows of RGB pixels."""
    shot = tmp_path / f"shot-{len(list(tmp_path.iterdir()))}.png"
    res = headless(tmp_path, f"--screenshot={shot}", f"--window-size={width},{height}", url)
    assert shot.is_file(), f"no screenshot: {res.stderr.decode(errors='replace')[-2000:]}"
    w, h, rows = png_rows(shot.read_bytes(), keep=height)
    assert (w, h) == (width, height)
    return rows
