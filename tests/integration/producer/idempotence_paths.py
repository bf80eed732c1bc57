"""librdkafka's idempotence paths as a user hits them, for idempotence_paths_test.cc.

Usage: idempotence_paths.py purge <bootstrap> <topic> <control dir>
       idempotence_paths.py restart <bootstrap> <topic>

Both create <topic> (3 partitions, replication factor 1) and write numbered records
"<phase>-<n>" with idempotent producers (enable.idempotence=true, acks=all, five requests in
flight, librdkafka's "eos" debug log), record n to partition n % 3, then read every
partition back from the start.

purge:   phase a (acknowledged), then the script prints "PAUSE" and waits for the file
         <control dir>/paused (the test SIGSTOPs the broker first); phase b is sent and
         left in flight for 2 s, then purge(in_queue=True, in_flight=True); the script
         prints "RESUME" and waits for <control dir>/resumed (the broker runs again);
         phase c is sent with the same producer and flushed.
restart: phase a with one producer (flush, then the producer is destroyed), phase b with a
         new producer with the same settings.

Prints, as its last line, one JSON object:
  pids        every "PID{Id:N,Epoch:E}" librdkafka acquired (InitProducerId), in order
  bumps       every PID librdkafka bumped its epoch to by itself (KIP-360: an idempotent
              producer raises its epoch locally and restarts its sequences at 0)
  fatal       the fatal error raised, or null
  acked       per phase, records acknowledged; purged: records failed with a purge error
  failed      other delivery failures, error -> count
  log         per phase, records in the final log
  duplicates  values found more than once in the log
  lost        acknowledged values missing from the log
  disorder    adjacent records of a partition out of send order (phase, then n)
  offsets_wrong  acknowledgements whose offset does not hold that record in the log
Exits 0 iff it could run at all; the test judges the fields.
"""
import json
import logging
import os
import re
import sys
import time
from collections import Counter

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 3
PER_PHASE = 300


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


class Run:
    def __init__(self, bootstrap, topic):
        self.bootstrap, self.topic = bootstrap, topic
        self.collected = Collect()
        self.log = logging.getLogger("rdkafka")
        self.log.setLevel(logging.DEBUG)
        self.log.addHandler(self.collected)
        self.fatal = None
        self.errors = []
        self.acked = Counter()
        self.purged = Counter()
        self.failed = Counter()
        self.offsets = {}  # value -> (partition, offset) acknowledged

    def on_error(self, err):
        if err.fatal():
            self.fatal = str(err)
        self.errors.append(str(err))

    def on_delivery(self, err, msg):
        phase = msg.value().decode().split("-")[0]
        if err is None:
            self.acked[phase] += 1
            self.offsets[msg.value().decode()] = (msg.partition(), msg.offset())
        elif err.code() in (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT):
            self.purged[phase] += 1
        else:
            self.failed[err.name()] += 1

    def producer(self):
        return Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                         "acks": "all", "max.in.flight.requests.per.connection": 5,
                         "linger.ms": 5, "message.timeout.ms": 60000,
                         "request.timeout.ms": 30000, "debug": "eos",
                         "error_cb": self.on_error, "logger": self.log})

    def produce(self, producer, phase, count):
        for n in range(count):
            producer.produce(self.topic, value=b"%s-%06d" % (phase.encode(), n),
                             partition=n % PARTITIONS, on_delivery=self.on_delivery)
            producer.poll(0)

    def create_topic(self):
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(self.topic, PARTITIONS, 1)])
        futures[self.topic].result(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            topic = admin.list_topics(self.topic, 5).topics.get(self.topic)
            if topic and topic.error is None and len(topic.partitions) == PARTITIONS and all(
                    p.leader >= 0 for p in topic.partitions.values()):
                return
            time.sleep(0.2)
        raise RuntimeError("topic %s has no leaders after 30 s" % self.topic)

    def read_log(self):
        """Every partition's records, in offset order: [(partition, offset, value)]."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "check",
                             "enable.auto.commit": False})
        out = []
        for p in range(PARTITIONS):
            tp = TopicPartition(self.topic, p)
            _, high = consumer.get_watermark_offsets(tp, 10)
            consumer.assign([TopicPartition(self.topic, p, 0)])
            offset, deadline = 0, time.monotonic() + 30
            while offset < high and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                out.append((p, msg.offset(), msg.value().decode()))
                offset = msg.offset() + 1
        consumer.close()
        return out

    def verdict(self):
        log = self.read_log()
        seen = Counter(v for _, _, v in log)
        at = {v: (p, o) for p, o, v in log}
        disorder, last = 0, {}
        for p, _, v in log:  # phases were sent one after the other: (phase, n) grows
            key = (v.split("-")[0], int(v.split("-")[1]))
            if p in last and last[p] >= key:
                disorder += 1
            last[p] = key
        pids, bumps = [], []
        for line in self.collected.lines:
            m = re.search(r"Acquired (PID\{Id:\d+,Epoch:\d+\})", line)
            if m:
                pids.append(m.group(1))
            m = re.search(r"bumped epoch to (PID\{Id:\d+,Epoch:\d+\})", line)
            if m:
                bumps.append(m.group(1))
        return {"pids": pids, "bumps": bumps, "fatal": self.fatal, "acked": self.acked,
                "purged": self.purged, "failed": self.failed, "errors": self.errors[:20],
                "log": Counter(v.split("-")[0] for v in seen),
                "duplicates": sorted(v for v, c in seen.items() if c > 1)[:20],
                "lost": sorted(v for v in self.offsets if v not in seen)[:20],
                "disorder": disorder,
                "offsets_wrong": sum(1 for v, po in self.offsets.items()
                                     if v in at and at[v] != po),
                "eos": [line for line in self.collected.lines
                        if re.search(r"(?i)bump|drain|purge|reset|fatal", line)][-30:]}


def wait_for(path, limit=60):
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError("no %s after %d s" % (path, limit))
        time.sleep(0.05)


def marker(line):
    print(line, flush=True)


def purge(run, control):
    producer = run.producer()
    run.produce(producer, "a", PER_PHASE)
    producer.flush(60)
    marker("PAUSE")
    wait_for(os.path.join(control, "paused"))
    run.produce(producer, "b", PER_PHASE)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # the batches go out and stay unanswered
        producer.poll(0.1)
    producer.purge(in_queue=True, in_flight=True)
    producer.poll(0.5)
    marker("RESUME")
    wait_for(os.path.join(control, "resumed"))
    run.produce(producer, "c", PER_PHASE)
    producer.flush(90)


def restart(run):
    producer = run.producer()
    run.produce(producer, "a", PER_PHASE)
    producer.flush(60)
    del producer  # destroys the handle, as closing a producer does
    producer = run.producer()
    run.produce(producer, "b", PER_PHASE)
    producer.flush(60)


def main():
    mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    run = Run(bootstrap, topic)
    run.create_topic()
    if mode == "purge":
        purge(run, sys.argv[4])
    else:
        restart(run)
    print(json.dumps(run.verdict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
