#!/usr/bin/env python3
"""Writes the seed corpora of the storage fuzz targets (tests/fuzz/corpus/<target>/).

segment_recovery_fuzz inputs are [flags][index length, 2 bytes][index][segment bytes]; the
seeds hold valid v2 batches (CRC32C computed here), a torn tail and a flipped bit, so the
fuzzer starts from bytes that reach deep into recovery. Run from the repository root.
"""
import os
import struct

POLY = 0x82F63B78
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v):
    z = (v << 1) ^ (v >> 63)
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def batch(base, count, epoch=0, ts=1000, value=b"hello"):
    recs = b""
    for i in range(count):
        r = b"\x00" + varint(i) + varint(i) + varint(-1) + varint(len(value)) + value + varint(0)
        recs += varint(len(r)) + r
    body = struct.pack(">hiqqqhii", 0, count - 1, ts, ts + count - 1, -1, -1, -1, count) + recs
    crc = crc32c(body)
    head = struct.pack(">qiibI", base, 49 + len(recs), epoch, 2, crc)
    return head + body


def fuzz_input(flags, index, segment):
    return bytes([flags]) + struct.pack(">H", len(index)) + index + segment


def main():
    seg = batch(0, 3) + batch(3, 1, epoch=1) + batch(4, 5, epoch=2, value=b"x" * 100)
    index = struct.pack(">ii", 3, len(batch(0, 3)))
    seeds = {
        "valid": fuzz_input(2, b"", seg),
        "valid_unclean": fuzz_input(1, index, seg),
        "torn_tail": fuzz_input(0, b"", seg[:-7]),
        "flipped": fuzz_input(0, b"", seg[:50] + bytes([seg[50] ^ 4]) + seg[51:]),
        "garbage_index": fuzz_input(3, b"\xff" * 24, seg),
    }
    out = "tests/fuzz/corpus/segment_recovery_fuzz"
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    out = "tests/fuzz/corpus/checkpoint_fuzz"
    os.makedirs(out, exist_ok=True)
    for name, text in {"offsets": "0\n2\norders 0 17\norders 1 4\n",
                       "epochs": "0\n2\n0 0\n3 10\n", "empty": "0\n0\n"}.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
