#!/usr/bin/env python3
"""How long a new topic's first record stays invisible to consumers (issue 21, item 3).

For each of N new topics (1 partition, replication factor 3, created through the admin API as a
user would), produces one record with acks=1 and linger.ms=0, then polls the partition's high
watermark (ListOffsets, uncached) every 2 ms until the record is below it: the time from the
producer's acknowledgement to that is printed. Then 20 more records one at a time, the same
way (steady state: median and max). The topics are kept: from the second on, each follower
already has a fetch parked at the leader (replica.fetch.wait.max.ms) that does not hold the
new partition, which is the case that used to keep a first record invisible for up to 500 ms.

Usage: bench/first_visible.py BOOTSTRAP [N]   (N: 5). Needs python3-confluent-kafka.
"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def produce_one(producer, topic, value):
    acked = []
    producer.produce(topic, value, on_delivery=lambda err, _msg: acked.append((err, time.monotonic())))
    producer.flush(10)
    if not acked or acked[0][0] is not None:
        sys.exit(f"{topic}: the record was not acknowledged: {acked}")
    return acked[0][1]


def visible_after(consumer, topic, high, acked_at):
    while True:
        _, hw = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5, cached=False)
        if hw >= high:
            return (time.monotonic() - acked_at) * 1000, hw
        time.sleep(0.002)


def main():
    bootstrap = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for i in range(runs):
        topic = f"first-visible-{int(time.time() * 1000)}-{i}"
        admin.create_topics([NewTopic(topic, 1, 3)])[topic].result()
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": 0})
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic})
        first, hw = visible_after(consumer, topic, 1, produce_one(producer, topic, b"first"))
        steady = []
        for _ in range(20):
            ms, hw = visible_after(consumer, topic, hw + 1, produce_one(producer, topic, b"next"))
            steady.append(ms)
        steady.sort()
        print(f"{topic}: first record visible {first:.1f} ms after its ack; "
              f"then median {steady[10]:.1f} ms, max {steady[-1]:.1f} ms", flush=True)
        consumer.close()


if __name__ == "__main__":
    main()
