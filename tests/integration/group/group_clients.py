#!/usr/bin/python3
"""Real group clients for the consumer group integration test (run with /usr/bin/python3).

Every command prints its answer on lines starting with "RESULT " (librdkafka may log to
stderr around them). Record values are "r<n>"; record n goes to partition n % PARTITIONS.

produce BOOTSTRAP TOPIC FIRST COUNT PARTITIONS
    records FIRST..FIRST+COUNT-1 with confluent_kafka, acks=all; "ok" or the error name
consume BOOTSTRAP TOPIC GROUP OUT STOPFILE SECONDS
    a confluent_kafka group consumer (librdkafka): appends "<partition> <offset> <value>"
    to OUT for every record, then commits that record synchronously; keeps its current
    assignment in OUT.assign (space-separated partitions, "-" while none); leaves the group
    (close) once STOPFILE exists or SECONDS passed
member BOOTSTRAP TOPIC GROUP OUT STOPFILE SECONDS SESSION_MS COMMIT_EVERY INSTANCE
    a confluent_kafka group consumer that commits its positions synchronously (commit() with
    no offsets) after every COMMIT_EVERY records; INSTANCE is its group.instance.id (KIP-345),
    "-" for a dynamic member. Appends "<partition> <offset> <value>" to OUT for every record
    and one line per event to OUT.events: "assign <partitions...>", "revoke <partitions...>",
    "commit <partition> <offset>" for every partition of a commit that returned success,
    "fatal <error>" (then it stops, as a fenced client must), "closed". close() once STOPFILE
    exists or SECONDS passed: a static member sends no LeaveGroup then.
produce-paced BOOTSTRAP TOPIC FIRST COUNT PARTITIONS PER_SECOND OUT
    like produce, PER_SECOND records a second; appends n to OUT for every record acked
kafka-python-consume BOOTSTRAP TOPIC GROUP COUNT SECONDS
    a kafka-python KafkaConsumer(group_id=GROUP) from the earliest offsets until COUNT
    distinct values were read or SECONDS passed; commits, closes; prints the count
kafka-python-admin BOOTSTRAP list
    KafkaAdminClient.list_consumer_groups: the group ids, sorted, space-separated
kafka-python-admin BOOTSTRAP describe GROUP
    describe_consumer_groups: "<state> <protocol_type> <members> <client hosts...>"
kafka-python-admin BOOTSTRAP offsets GROUP
    list_consumer_group_offsets: "<partitions with an offset> <sum of offsets>"
kafka-python-admin BOOTSTRAP delete GROUP
    delete_consumer_groups: "ok" or the error name
confluent-list BOOTSTRAP
    confluent_kafka AdminClient.list_groups (ListGroups + DescribeGroups): one line per group
    "<id> <state> <protocol_type> <protocol> <members>"
"""
import os
import sys
import time


def result(text):
    print("RESULT " + str(text), flush=True)


def produce(bootstrap, topic, first, count, partitions):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 60000})
    failed = []
    for n in range(int(first), int(first) + int(count)):
        p.produce(topic, ("r%d" % n).encode(), partition=n % int(partitions),
                  on_delivery=lambda err, msg: failed.append(err) if err else None)
        p.poll(0)
    left = p.flush(90)
    result("ok" if not failed and left == 0 else (failed[0].name() if failed else "unflushed"))


def write_assignment(path, partitions):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(" ".join(str(p.partition) for p in partitions) if partitions else "-")
    os.replace(tmp, path)


def consume(bootstrap, topic, group, out, stopfile, seconds):
    from confluent_kafka import Consumer, KafkaException
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    assign_path = out + ".assign"
    write_assignment(assign_path, [])
    c.subscribe([topic], on_assign=lambda _, ps: write_assignment(assign_path, ps),
                on_revoke=lambda _, ps: write_assignment(assign_path, []))
    deadline = time.time() + float(seconds)
    with open(out, "a") as f:
        while time.time() < deadline and not os.path.exists(stopfile):
            msg = c.poll(0.2)
            if msg is None or msg.error():
                continue
            f.write("%d %d %s\n" % (msg.partition(), msg.offset(), msg.value().decode()))
            f.flush()
            try:
                c.commit(message=msg, asynchronous=False)
            except KafkaException:
                pass  # a rebalance: the partition's next owner reads the record again
    c.close()
    result("closed")


def produce_paced(bootstrap, topic, first, count, partitions, per_second, out):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 90000})
    failed = []
    with open(out, "a") as f:
        def delivered(err, msg):
            if err:
                failed.append(err)
            else:
                f.write(msg.value().decode()[1:] + "\n")
                f.flush()
        start = time.time()
        for i, n in enumerate(range(int(first), int(first) + int(count))):
            while time.time() < start + i / float(per_second):
                p.poll(0.01)
            p.produce(topic, ("r%d" % n).encode(), partition=n % int(partitions),
                      on_delivery=delivered)
            p.poll(0)
        left = p.flush(120)
    result("ok" if not failed and left == 0 else (failed[0].name() if failed else "unflushed"))


class event_log:
    def __init__(self, path):
        self.f = open(path, "a")

    def __call__(self, *words):
        self.f.write(" ".join(str(w) for w in words) + "\n")
        self.f.flush()


def is_fatal(error):
    """confluent_kafka 1.7 delivers librdkafka's fatal error event (FENCED_INSTANCE_ID for a
    static member) as code _FATAL with fatal() False."""
    from confluent_kafka import KafkaError
    return error.fatal() or error.code() == KafkaError._FATAL


def member(bootstrap, topic, group, out, stopfile, seconds, session_ms, commit_every, instance):
    from confluent_kafka import Consumer, KafkaError, KafkaException
    config = {"bootstrap.servers": bootstrap, "group.id": group,
              "auto.offset.reset": "earliest", "enable.auto.commit": False,
              "session.timeout.ms": int(session_ms), "heartbeat.interval.ms": 500}
    if instance != "-":
        config["group.instance.id"] = instance
    c = Consumer(config)
    event = event_log(out + ".events")
    c.subscribe([topic], on_assign=lambda _, ps: event("assign", *[p.partition for p in ps]),
                on_revoke=lambda _, ps: event("revoke", *[p.partition for p in ps]))
    deadline = time.time() + float(seconds)
    uncommitted = 0
    with open(out, "a") as f:
        while time.time() < deadline and not os.path.exists(stopfile):
            msg = c.poll(0.2)
            if msg is not None and msg.error():
                if is_fatal(msg.error()):
                    event("fatal", msg.error().str().replace(" ", "_"))
                    break
                continue
            if msg is not None:
                f.write("%d %d %s\n" % (msg.partition(), msg.offset(), msg.value().decode()))
                f.flush()
                uncommitted += 1
            if uncommitted < int(commit_every) and not (msg is None and uncommitted):
                continue
            try:
                for tp in c.commit(asynchronous=False) or []:
                    if tp.error is None and tp.offset >= 0:
                        event("commit", tp.partition, tp.offset)
                uncommitted = 0
            except KafkaException as e:
                if is_fatal(e.args[0]):
                    event("fatal", e.args[0].str().replace(" ", "_"))
                    break
                if e.args[0].code() == KafkaError._NO_OFFSET:
                    uncommitted = 0  # nothing new (or revoked meanwhile)
                # Else retried with the next records: the positions only grow.
    c.close()
    event("closed")
    result("closed")


def kafka_python_consume(bootstrap, topic, group, count, seconds):
    from kafka import KafkaConsumer
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      session_timeout_ms=10000, consumer_timeout_ms=1000)
    seen = set()
    deadline = time.time() + float(seconds)
    while len(seen) < int(count) and time.time() < deadline:
        for msg in c:
            seen.add(msg.value)
            if len(seen) >= int(count):
                break
    c.commit()
    c.close()
    result(len(seen))


def kafka_python_admin(bootstrap, action, *args):
    from kafka.admin import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    if action == "list":
        result(" ".join(sorted(g[0] for g in admin.list_consumer_groups())))
    elif action == "describe":
        d = admin.describe_consumer_groups([args[0]])[0]
        hosts = sorted(m.client_host for m in d.members)
        result(" ".join([d.state, d.protocol_type or "-", str(len(d.members))] + hosts))
    elif action == "offsets":
        offsets = admin.list_consumer_group_offsets(args[0])
        result("%d %d" % (len(offsets), sum(o.offset for o in offsets.values())))
    elif action == "delete":
        for _, error in admin.delete_consumer_groups([args[0]]):
            result("ok" if error.errno == 0 else error.__name__)
    admin.close()


def confluent_list(bootstrap):
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for g in sorted(admin.list_groups(timeout=30), key=lambda g: g.id):
        result("%s %s %s %s %d" % (g.id, g.state, g.protocol_type or "-", g.protocol or "-",
                                   len(g.members)))


if __name__ == "__main__":
    commands = {"produce": produce, "consume": consume, "member": member,
                "produce-paced": produce_paced,
                "kafka-python-consume": kafka_python_consume,
                "kafka-python-admin": kafka_python_admin, "confluent-list": confluent_list}
    commands[sys.argv[1]](*sys.argv[2:])
