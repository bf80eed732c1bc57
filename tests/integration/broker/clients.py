"""kafka-python round trip for the broker integration test.

Usage: clients.py <bootstrap> <topic> <count>
Produces <count> records "py-NNNNNN" to partition 0 of <topic> with acks=all, then reads the
partition from the beginning without a consumer group and checks that every record comes
back identical and in order. Prints "ok <count>" and exits 0 iff they do.
"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def main():
    bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    expected = [b"py-%06d" % i for i in range(count)]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             batch_size=64 * 1024)
    for value in expected:
        producer.send(topic, value=value, partition=0)
    producer.flush(timeout=120)
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    got = []
    deadline = time.monotonic() + 120
    while len(got) < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            got.extend(r.value for r in records)
    consumer.close()
    if got != expected:
        first_bad = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), None)
        print("mismatch: got %d records, first difference at %s" % (len(got), first_bad))
        return 1
    print("ok %d" % len(got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
