"""Draws the Syrinx icon (a rising bird-call chirp over spectrogram bands) as RGBA PNGs.

Run once: python3 assets/make_icon.py  -> src-tauri/icons/{32x32,128x128,icon}.png
Pure standard library (zlib), so it needs nothing installed.
"""
import math
import os
import struct
import zlib

def png(path, size, pixel):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            row.extend(pixel(x / size, y / size, size))
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)

def pixel(u, v, size):
    # rounded square
    r = 0.18
    dx = max(abs(u - 0.5) - (0.5 - r), 0)
    dy = max(abs(v - 0.5) - (0.5 - r), 0)
    if dx * dx + dy * dy > r * r:
        return (0, 0, 0, 0)
    bg = (16, 24, 38)
    # faint spectrogram bands
    band = 0.5 + 0.5 * math.sin(v * 40)
    base = tuple(int(c + 10 * band) for c in bg)
    # a chirp: frequency rises then falls (a bird call), drawn as a glowing curve
    t = (u - 0.12) / 0.76
    best = 0.0
    if 0 <= t <= 1:
        for harmonic, gain in ((1.0, 1.0), (1.9, 0.45)):
            f = 0.78 - harmonic * (0.28 * math.sin(math.pi * t) + 0.12 * t)
            d = abs(v - f)
            w = 0.035 * (1.0 if harmonic == 1.0 else 0.7)
            best = max(best, gain * math.exp(-(d / w) ** 2))
    c1 = (64, 224, 196)
    col = tuple(int(b + (c - b) * best) for b, c in zip(base, c1))
    return col + (255,)

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "src-tauri", "icons")
os.makedirs(out, exist_ok=True)
for name, size in (("32x32.png", 32), ("128x128.png", 128), ("icon.png", 512)):
    png(os.path.join(out, name), size, pixel)
