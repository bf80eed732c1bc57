#!/usr/bin/python3
"""A real consumer group member for the groups CLI integration test (run with /usr/bin/python3).

group_consumer.py BOOTSTRAP GROUP TOPIC RECORDS COMMIT_AT STOP_FILE

Joins GROUP with confluent_kafka (librdkafka), subscribes to TOPIC, reads until it has seen
RECORDS records, then commits offset COMMIT_AT on every partition it is assigned (so the lag
of each partition is its log end minus COMMIT_AT), prints "committed <partitions>" and stays
in the group, polling, until STOP_FILE exists; then it closes (LeaveGroup) and prints
"closed". Auto-commit is off, so the committed offsets are exactly the ones above. Errors are
printed as "error <name>" and exit 1.
"""
import os
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main(bootstrap, group, topic, records, commit_at, stop_file):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "client.id": "groups-cli-test", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "session.timeout.ms": 10000,
                  "heartbeat.interval.ms": 1000})
    c.subscribe([topic])
    seen = 0
    deadline = time.time() + 120
    while seen < records and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            print("error", m.error().name(), flush=True)
            return 1
        seen += 1
    if seen < records:
        print("error saw only", seen, flush=True)
        return 1
    assigned = c.assignment()
    c.commit(offsets=[TopicPartition(tp.topic, tp.partition, commit_at) for tp in assigned],
             asynchronous=False)
    print("committed", ",".join(str(tp.partition) for tp in sorted(
        assigned, key=lambda tp: tp.partition)), flush=True)
    while not os.path.exists(stop_file):
        c.poll(0.2)
    c.close()
    print("closed", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 7:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                  sys.argv[6]))
