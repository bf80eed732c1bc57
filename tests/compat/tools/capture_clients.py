#!/usr/bin/python3
"""Records the exact request bytes real Kafka clients send, for gregor's golden tests.

A throwaway single-node "broker" on loopback answers just enough of the protocol
(ApiVersions, Metadata, Produce, ListOffsets, Fetch) for kcat (librdkafka) and kafka-python
to produce and consume, and writes every request frame it receives to
tests/compat/data/requests/<client>/NNN-<api>-v<version>.bin (the frame without its 4-byte
size prefix: request header + body). For produce runs it also writes the record set of
the first Produce request to tests/compat/data/produce/<client>-<codec>.bin, with the
records the client was asked to send in <client>-<codec>.json.

The golden files are committed; CI never runs this. Regenerate with
    /usr/bin/python3 tests/compat/tools/capture_clients.py
(needs kcat, python3-kafka, and for kafka-python's codecs python3-snappy, python3-lz4,
python3-zstandard). Timestamps inside the captured batches differ on every run.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "data"))
API_NAMES = {0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata", 18: "api_versions"}
# What this stand-in advertises: only non-flexible versions except ApiVersions v3.
# Produce starts at v0 because librdkafka before its fix for issue 4956 (Debian 12 ships
# 2.0.2) turns gzip and snappy off when the broker does not list Produce v0, and lz4 when it
# does not list FindCoordinator v0; it still sends Produce v3+ with magic 2 batches.
# FindCoordinator is listed but never answered.
ADVERTISED = {0: (0, 8), 1: (4, 11), 2: (1, 5), 3: (0, 8), 10: (0, 2), 18: (0, 3)}
TOPIC = "gregor-golden"
RECORDS = [{"key": f"key-{i}", "value": f"value-{i} " + "x" * i,
            "headers": [["h1", f"v{i}"]] if i % 2 == 0 else []} for i in range(20)]


class Out:
    def __init__(self):
        self.buf = bytearray()

    def i8(self, v): self.buf += struct.pack(">b", v); return self
    def i16(self, v): self.buf += struct.pack(">h", v); return self
    def i32(self, v): self.buf += struct.pack(">i", v); return self
    def i64(self, v): self.buf += struct.pack(">q", v); return self

    def uvarint(self, v):
        while v >= 0x80:
            self.buf.append((v & 0x7F) | 0x80)
            v >>= 7
        self.buf.append(v)
        return self

    def string(self, s):
        if s is None:
            return self.i16(-1)
        b = s.encode()
        self.i16(len(b)); self.buf += b
        return self

    def array(self, items, fn):
        self.i32(len(items))
        for it in items:
            fn(it)
        return self


def api_versions_response(version):
    o = Out().i16(0)
    keys = sorted(ADVERTISED.items())
    if version >= 3:
        o.uvarint(len(keys) + 1)
        for k, (lo, hi) in keys:
            o.i16(k).i16(lo).i16(hi).uvarint(0)
        o.i32(0).uvarint(0)
    else:
        o.array(keys, lambda kv: o.i16(kv[0]).i16(kv[1][0]).i16(kv[1][1]))
        if version >= 1:
            o.i32(0)
    return o.buf


def metadata_response(version, port):
    o = Out()
    if version >= 3:
        o.i32(0)

    def broker(_):
        o.i32(1).string("127.0.0.1").i32(port)
        if version >= 1:
            o.string(None)
    o.array([1], broker)
    if version >= 2:
        o.string("gregor-golden-cluster")
    if version >= 1:
        o.i32(1)

    def partition(_):
        o.i16(0).i32(0).i32(1)
        if version >= 7:
            o.i32(0)
        o.array([1], o.i32).array([1], o.i32)
        if version >= 5:
            o.array([], o.i32)

    def topic(_):
        o.i16(0).string(TOPIC)
        if version >= 1:
            o.i8(0)
        o.array([0], partition)
        if version >= 8:
            o.i32(-2147483648)
    o.array([TOPIC], topic)
    if version >= 8:
        o.i32(-2147483648)
    return o.buf


class Body:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.d[self.p:self.p + n].decode()
        self.p += n
        return s


def produce_response(version, body, on_records):
    b = Body(body)
    b.string()  # transactional id
    acks = b.take(">h")
    b.take(">i")
    topics = []
    for _ in range(b.take(">i")):
        name = b.string()
        parts = []
        for _ in range(b.take(">i")):
            index = b.take(">i")
            n = b.take(">i")
            on_records(b.d[b.p:b.p + n])
            b.p += n
            parts.append(index)
        topics.append((name, parts))
    if acks == 0:
        return None
    o = Out()

    def partition(index):
        o.i32(index).i16(0).i64(0)
        o.i64(-1)
        if version >= 5:
            o.i64(0)
        if version >= 8:
            o.array([], o.i32).string(None)
    o.array(topics, lambda t: (o.string(t[0]), o.array(t[1], partition)))
    o.i32(0)
    return o.buf


def list_offsets_response(version):
    o = Out()
    if version >= 2:
        o.i32(0)

    def partition(_):
        o.i32(0).i16(0).i64(-1).i64(0)
        if version >= 4:
            o.i32(0)
    o.array([TOPIC], lambda t: (o.string(t), o.array([0], partition)))
    return o.buf


def fetch_response(version):
    o = Out().i32(0)
    if version >= 7:
        o.i16(0).i32(0)

    def partition(_):
        o.i32(0).i16(0).i64(0).i64(0)
        if version >= 5:
            o.i64(0)
        o.i32(0)  # empty aborted transactions array
        if version >= 11:
            o.i32(-1)
        o.i32(0)  # empty records, never null: null breaks librdkafka
    o.array([TOPIC], lambda t: (o.string(t), o.array([0], partition)))
    return o.buf


class Capture:
    def __init__(self, client):
        self.client = client
        self.seq = 0
        self.lock = threading.Lock()
        self.records = None
        self.fetches = 0
        self.dir = os.path.join(ROOT, "requests", client)
        os.makedirs(self.dir, exist_ok=True)

    def save(self, key, version, frame):
        with self.lock:
            name = f"{self.seq:03d}-{API_NAMES.get(key, f'api{key}')}-v{version}.bin"
            self.seq += 1
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(frame)

    def on_records(self, data):
        if self.records is None:
            self.records = bytes(data)


def header_length(frame, version_is_flexible):
    p = 8
    n = struct.unpack_from(">h", frame, p)[0]
    p += 2 + max(n, 0)
    if version_is_flexible:
        while True:  # tagged fields: count, then tag/size/data; clients send none
            b = frame[p]
            p += 1
            if b < 0x80:
                break
    return p


def serve_connection(sock, cap, port):
    f = sock.makefile("rb")
    while True:
        size_bytes = f.read(4)
        if len(size_bytes) < 4:
            return
        frame = f.read(struct.unpack(">i", size_bytes)[0])
        key, version, corr = struct.unpack_from(">hhi", frame, 0)
        cap.save(key, version, frame)
        flexible = key == 18 and version >= 3
        body = frame[header_length(frame, flexible):]
        resp = respond(key, version, body, cap, port)
        if resp is None:
            continue
        out = struct.pack(">i", corr) + bytes(resp)
        sock.sendall(struct.pack(">i", len(out)) + out)


def respond(key, version, body, cap, port):
    if key == 18:
        if version > 3:
            return Out().i16(35).array(sorted(ADVERTISED.items()), lambda kv: None).buf
        return api_versions_response(version)
    if key == 3:
        return metadata_response(version, port)
    if key == 0:
        return produce_response(version, body, cap.on_records)
    if key == 2:
        return list_offsets_response(version)
    if key == 1:
        cap.fetches += 1
        return fetch_response(version)
    raise SystemExit(f"capture: unexpected api key {key} v{version}")


def run_listener(cap):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    port = srv.getsockname()[1]

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve_connection, args=(conn, cap, port), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return srv, port


def kcat_produce(codec):
    cap = Capture(f"kcat-produce-{codec}")
    srv, port = run_listener(cap)
    lines = []
    for r in RECORDS:
        lines.append(f"{r['key']}\t{r['value']}")
    hdrs = []
    # kcat applies -H to every message; per-record headers come from the kafka-python run.
    hdrs += ["-H", "h1=v1"]
    subprocess.run(["kcat", "-P", "-b", f"127.0.0.1:{port}", "-t", TOPIC, "-p", "0", "-K", "\t",
                    "-z", codec, "-X", "linger.ms=100"] + hdrs,
                   input="\n".join(lines).encode(), check=True, timeout=30)
    srv.close()
    expected = [{"key": r["key"], "value": r["value"], "headers": [["h1", "v1"]]} for r in RECORDS]
    write_produce("kcat", codec, cap.records, expected)


def kafka_python_produce(codec):
    from kafka import KafkaProducer
    cap = Capture(f"kafkapython-produce-{codec}")
    srv, port = run_listener(cap)
    p = KafkaProducer(bootstrap_servers=f"127.0.0.1:{port}", linger_ms=100,
                      compression_type=None if codec == "none" else codec)
    for r in RECORDS:
        p.send(TOPIC, key=r["key"].encode(), value=r["value"].encode(), partition=0,
               headers=[(k, v.encode()) for k, v in r["headers"]])
    p.flush(timeout=30)
    p.close(timeout=5)
    srv.close()
    write_produce("kafkapython", codec, cap.records, RECORDS)


def write_produce(client, codec, records, expected):
    if records is None:
        raise SystemExit(f"capture: {client} {codec}: no Produce request seen")
    d = os.path.join(ROOT, "produce")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{client}-{codec}.bin"), "wb") as f:
        f.write(records)
    with open(os.path.join(d, f"{client}-{codec}.json"), "w") as f:
        json.dump(expected, f, indent=1)


def kcat_consume():
    cap = Capture("kcat-consume")
    srv, port = run_listener(cap)
    proc = subprocess.Popen(["kcat", "-C", "-b", f"127.0.0.1:{port}", "-t", TOPIC, "-p", "0",
                             "-o", "beginning"], stdout=subprocess.DEVNULL)
    wait_for(lambda: cap.fetches >= 2)
    proc.kill()
    proc.wait()
    srv.close()


def kafka_python_consume():
    from kafka import KafkaConsumer, TopicPartition
    cap = Capture("kafkapython-consume")
    srv, port = run_listener(cap)
    c = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{port}", group_id=None,
                      enable_auto_commit=False, consumer_timeout_ms=1500)
    tp = TopicPartition(TOPIC, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    for _ in c:
        pass
    c.close()
    srv.close()


def wait_for(cond, seconds=20):
    end = time.time() + seconds
    while time.time() < end and not cond():
        time.sleep(0.05)
    if not cond():
        raise SystemExit("capture: timed out waiting for the client")


def main():
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        kcat_produce(codec)
        kafka_python_produce(codec)
    kcat_consume()
    kafka_python_consume()
    print("capture: wrote", ROOT)


if __name__ == "__main__":
    sys.exit(main())
