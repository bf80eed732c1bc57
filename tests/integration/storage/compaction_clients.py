"""Real clients against a compacted topic, for the compaction integration test.

Usage: compaction_clients.py <bootstrap> <topic> <records> <keys> <workdir>

1. Creates <topic> (one partition) with cleanup.policy=compact, 1 MiB segments, a roll every
   2 s and min.cleanable.dirty.ratio=0.01 (confluent_kafka AdminClient).
2. Writes <records> records "<i>" with key "key-<i % keys>": the first half with kcat (from a
   file, -K), the second half with a confluent_kafka producer. A keyless record is refused
   (INVALID_RECORD). Then, past the roll time, one more record rolls the active segment.
3. Waits until a consumer from the beginning reads at most keys + 5% records.
4. Reads the whole topic from the beginning with confluent_kafka, kcat and kafka-python:
   every key's last value must be the last one written, offsets must ascend.
Prints "ok <records read> <bytes on disk are the broker's business>" and exits 0 on success.
"""
import os
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
import kafka


def create_topic(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, config={
        "cleanup.policy": "compact",
        "segment.bytes": "1048576",
        "segment.ms": "2000",
        "min.cleanable.dirty.ratio": "0.01",
        "delete.retention.ms": "100",
    })])
    futures[topic].result(60)


def produce_with_kcat(bootstrap, topic, first, last, keys, workdir):
    path = os.path.join(workdir, "kcat-input.txt")
    with open(path, "w") as f:
        for i in range(first, last):
            f.write("key-%d:%d\n" % (i % keys, i))
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", "0", "-K:", "-z", "lz4",
                    "-X", "acks=all", "-X", "linger.ms=20", "-l", path], check=True, timeout=600)


def produce_with_confluent(bootstrap, topic, first, last, keys):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20,
                  "compression.type": "zstd", "enable.idempotence": True})
    failures = []

    def report(err, _msg):
        if err is not None:
            failures.append(err)

    for i in range(first, last):
        while True:
            try:
                p.produce(topic, key=b"key-%d" % (i % keys), value=b"%d" % i, partition=0,
                          on_delivery=report)
                break
            except BufferError:
                p.poll(0.1)
    if p.flush(120) != 0 or failures:
        raise RuntimeError("confluent produce failed: %s" % failures[:3])


def keyless_is_refused(bootstrap, topic):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0})
    errors = []
    p.produce(topic, value=b"no key", partition=0, on_delivery=lambda err, _m: errors.append(err))
    p.flush(30)
    return len(errors) == 1 and errors[0] is not None and "INVALID_RECORD" in errors[0].name()


def read_confluent(bootstrap, topic, end):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "compaction-check",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        out.append((m.offset(), m.key(), m.value()))
        if m.offset() >= end - 1:
            break
    c.close()
    return out


def read_kcat(bootstrap, topic):
    r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
                        "-e", "-q", "-f", "%o %k %s\n"], check=True, capture_output=True,
                       timeout=300)
    out = []
    for line in r.stdout.decode().splitlines():
        o, k, v = line.split(" ")
        out.append((int(o), k.encode(), v.encode()))
    return out


def read_kafka_python(bootstrap, topic, end):
    c = kafka.KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                            auto_offset_reset="earliest")
    tp = kafka.TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    out = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out or out[-1][0] < end - 1):
        for records in c.poll(timeout_ms=1000).values():
            out.extend((r.offset, r.key, r.value) for r in records)
    c.close()
    return out


def check(name, got, expected_latest, records, keys):
    offsets = [o for o, _, _ in got]
    if offsets != sorted(set(offsets)):
        return "%s: offsets do not ascend" % name
    latest = {}
    for _, k, v in got:
        latest[k] = v
    for k, v in expected_latest.items():
        if latest.get(k) != v:
            return "%s: key %s has %s, expected %s" % (name, k, latest.get(k), v)
    if len(got) > keys * 1.05 + 10:
        return "%s: %d records left of %d, more than ~%d keys" % (name, len(got), records, keys)
    return None


def end_offset(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "compaction-end"})
    _, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
    c.close()
    return high


START = time.monotonic()


def phase(name):
    print("%6.1f s %s" % (time.monotonic() - START, name), flush=True)


def main():
    bootstrap, topic, records, keys, workdir = sys.argv[1:6]
    records, keys = int(records), int(keys)
    create_topic(bootstrap, topic)
    if not keyless_is_refused(bootstrap, topic):
        print("a keyless record was not refused with INVALID_RECORD")
        return 1
    half = records // 2
    phase("topic created")
    produce_with_kcat(bootstrap, topic, 0, half, keys, workdir)
    phase("kcat wrote %d" % half)
    produce_with_confluent(bootstrap, topic, half, records, keys)
    phase("confluent_kafka wrote %d" % (records - half))
    expected = {b"key-%d" % (i % keys): b"%d" % i for i in range(records - keys, records)}
    # Past segment.ms, one more write rolls the active segment: all of it becomes cleanable.
    time.sleep(2.5)
    roller = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    roller.produce(topic, key=b"roll", value=b"roll", partition=0)
    roller.flush(30)
    expected[b"roll"] = b"roll"
    end = end_offset(bootstrap, topic)
    deadline = time.monotonic() + 240
    got = []
    while time.monotonic() < deadline:
        got = read_confluent(bootstrap, topic, end)
        if len(got) <= keys * 1.05 + 10:
            break
        time.sleep(2)
    phase("compacted to %d records" % len(got))
    for name, rows in (("confluent_kafka", got), ("kcat", read_kcat(bootstrap, topic)),
                       ("kafka-python", read_kafka_python(bootstrap, topic, end))):
        phase("%s read %d" % (name, len(rows)))
        problem = check(name, rows, expected, records, keys + 1)
        if problem:
            print(problem)
            return 1
    print("ok %d of %d" % (len(got), records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
