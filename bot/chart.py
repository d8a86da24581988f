"""A small bar chart as a PNG data URI, which Teams shows in an Adaptive Card Image (PNG, at
most 1024x1024, data URIs since Adaptive Cards 1.2) without any image service.

Built with zlib and struct only: one stacked bar per day, a colour per kind of outcome, on a
white background with a baseline. The labels are the card's own text, not pixels.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Sequence

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
AXIS: Color = (150, 150, 150)
WIDTH, HEIGHT = 280, 96
GAP = 8  # pixels between bars
MARGIN = 4


def stacked_bars(columns: Sequence[Sequence[int]], colors: Sequence[Color]) -> bytes:
    """A PNG of one bar per column, each stacking its values bottom up in `colors` order."""
    pixels = [[WHITE] * WIDTH for _ in range(HEIGHT)]
    top = max((sum(c) for c in columns), default=0) or 1
    usable = HEIGHT - 2 * MARGIN
    bar = max(1, (WIDTH - 2 * MARGIN - GAP * (len(columns) - 1)) // max(len(columns), 1))
    for index, values in enumerate(columns):
        left = MARGIN + index * (bar + GAP)
        bottom = HEIGHT - MARGIN
        for value, color in zip(values, colors, strict=False):
            height = round(usable * value / top)
            for y in range(bottom - height, bottom):
                pixels[y][left : left + bar] = [color] * bar
            bottom -= height
    pixels[HEIGHT - MARGIN] = [AXIS] * WIDTH
    return _png(pixels)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _png(pixels: list[list[Color]]) -> bytes:
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(c for pixel in row for c in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)
