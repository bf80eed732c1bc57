#!/usr/bin/python3
"""A Jepsen-style fault suite for gregor, run as root.

Each schedule lays a fresh cluster out as separate hosts: a 3-server ZooKeeper ensemble
and 3 brokers, each in its own network namespace with its own address on a private
bridge this script creates and removes. Real clients (confluent-kafka, from the root
namespace) write unique values with acks=all to a topic of 3 partitions, replication
factor 3, min.insync.replicas 2 (one producer plain, one idempotent) and read them while
nemeses, picked by a seeded RNG, break the cluster:

  kill          kill -9 a broker, restart it later
  pause         SIGSTOP a broker past its session timeout, then SIGCONT
  zk-cut        cut one broker off from every ZooKeeper server
  broker-cut    cut one broker off from the other brokers (ZooKeeper still reachable)
  isolate-ctl   cut the controller off from every other host
  split         a minority {broker, ZooKeeper server} against the majority
  zk-leader     kill -9 the ZooKeeper ensemble's leader, restart it later
  zk-cut-peer   cut one ZooKeeper server off from its ensemble (clients still reach it)
  loss          drop 30 % of one broker's packets, both ways
  slow          throttle one broker's outgoing link to 1 Mbit/s (tc tbf, up to 500 ms queued)
  disk-full     fill a broker's log dir (a small tmpfs), free it, restart the broker if it
                halted

Partitions and loss are nftables rules inside the namespaces; a slow link is a tbf qdisc
(this kernel has no netem, so a fixed added delay is not a nemesis here). A group member
commits what it reads. After the faults heal, every partition is read in full and the
checker, which uses nothing of gregor's code, reports per nemesis: records acknowledged,
acknowledged records lost, duplicates (the idempotent producer must have none), records a
consumer saw that were later gone, offsets out of order, acknowledged group commits gone
backwards, unavailable time, brokers that exited on their own or logged a sanitizer error
or failed assertion, and the controller invariants (one broker per controller epoch, read
from the brokers' logs; the epoch in ZooKeeper is the newest claimed; every partition
state written by a claimed epoch).

  tests/faults/jepsen.py --gregor build/release/gregor --schedules 100       the long run
  tests/faults/jepsen.py --gregor build/debug/gregor --schedules 2 --seed 20261206   what CI runs
  tests/faults/jepsen.py ... --seed S --schedules 1 --nemesis kill           one schedule again

Exit code 0 iff no schedule found a violation; 77 when not run as root (a skip for ctest).
"""

import argparse
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

NEMESES = ["kill", "pause", "zk-cut", "broker-cut", "isolate-ctl", "split", "zk-leader",
           "zk-cut-peer", "loss", "slow", "disk-full"]
SESSION_TIMEOUT_MS = 6000
TOPIC = "jepsen"
GROUP = "jepsen-group"
PARTITIONS = 3
ZK_CLASSPATH = "/usr/share/java/*:/etc/zookeeper/conf"
LOG_DIR_BYTES = 64 * 1024 * 1024  # each broker's log dir: a tmpfs this large (disk-full)


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def run(cmd, check=True, input=None):
    """Runs a command (a list), returns its stdout; raises on failure when `check`."""
    r = subprocess.run(cmd, input=input, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def die_with_parent():
    # The children never outlive the harness (PR_SET_PDEATHSIG = 1).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


class Host:
    """One network namespace with one address on the bridge."""

    def __init__(self, net, name, address):
        self.net = net
        self.name = name
        self.ns = f"{net.prefix}-{name}"
        self.address = address
        self.proc = None
        self.may_exit = False  # set by a nemesis whose fault may stop the process
        self.rules = {}  # rule name -> nft statements (a set of them forms the table)

    def setup(self, index):
        veth = f"{self.net.prefix}v{index}"
        run(["ip", "netns", "add", self.ns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", self.ns])
        run(["ip", "link", "set", veth, "master", self.net.bridge, "up"])
        run(["ip", "-n", self.ns, "addr", "add", f"{self.address}/24", "dev", "eth0"])
        run(["ip", "-n", self.ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"])

    def spawn(self, argv, log_path, env=None):
        out = open(log_path, "ab")
        self.may_exit = False
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns] + argv, stdout=out,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
                                     env=env)
        out.close()
        return self.proc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill(self):
        self.may_exit = True
        if self.alive():
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def set_rules(self):
        """Replaces this host's nftables table with its current rules (drops only)."""
        run(["ip", "netns", "exec", self.ns, "nft", "delete", "table", "inet", "fault"],
            check=False)
        if not self.rules:
            return
        lines_out = []
        lines_in = []
        for stmts in self.rules.values():
            lines_out += stmts[0]
            lines_in += stmts[1]
        text = ("table inet fault {\n"
                "  chain out { type filter hook output priority 0;\n" +
                "".join(f"    {s}\n" for s in lines_out) + "  }\n"
                "  chain in { type filter hook input priority 0;\n" +
                "".join(f"    {s}\n" for s in lines_in) + "  }\n}\n")
        run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"], input=text)

    def cut_from(self, rule, addresses):
        """Drops every packet to and from `addresses` (a partition, both ways)."""
        addrs = ", ".join(addresses)
        self.rules[rule] = ([f"ip daddr {{ {addrs} }} drop"], [f"ip saddr {{ {addrs} }} drop"])
        self.set_rules()

    def lose(self, rule, percent):
        self.rules[rule] = ([f"numgen random mod 100 < {percent} drop"],
                            [f"numgen random mod 100 < {percent} drop"])
        self.set_rules()

    def throttle(self, on):
        base = ["ip", "netns", "exec", self.ns, "tc", "qdisc"]
        if on:
            run(base + ["replace", "dev", "eth0", "root", "tbf", "rate", "1mbit", "burst",
                        "32kbit", "latency", "500ms"])
        else:
            run(base + ["del", "dev", "eth0", "root"], check=False)

    def heal(self, rule=None):
        if rule is None:
            self.throttle(False)
            self.rules.clear()
        else:
            self.rules.pop(rule, None)
        self.set_rules()


class Net:
    """A bridge in the root namespace (address .1, where the clients run) and the hosts."""

    def __init__(self, run_id):
        self.prefix = f"gf{run_id}"
        self.bridge = f"{self.prefix}br"
        self.subnet = f"10.77.{run_id % 250}"
        self.hosts = []

    def setup(self):
        self.teardown()
        run(["ip", "link", "add", self.bridge, "type", "bridge"])
        run(["ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge])
        run(["ip", "link", "set", self.bridge, "up"])

    def host(self, name, last_octet):
        h = Host(self, name, f"{self.subnet}.{last_octet}")
        h.setup(len(self.hosts))
        self.hosts.append(h)
        return h

    def teardown(self):
        for h in self.hosts:
            h.kill()
        out = run(["ip", "netns", "list"], check=False)
        for line in out.splitlines():
            ns = line.split()[0] if line.split() else ""
            if ns.startswith(self.prefix + "-"):
                run(["ip", "netns", "del", ns], check=False)
        run(["ip", "link", "del", self.bridge], check=False)


def four_letter(address, port, cmd):
    try:
        with socket.create_connection((address, port), timeout=2) as s:
            s.sendall(cmd.encode())
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.decode(errors="replace")
    except OSError:
        return ""


class Cluster:
    def __init__(self, gregor, work, net):
        self.gregor = gregor
        self.work = work
        self.net = net
        self.zks = [net.host(f"zk{i}", 10 + i) for i in (1, 2, 3)]
        self.brokers = [net.host(f"b{i}", 20 + i) for i in (1, 2, 3)]
        self.connect = ",".join(f"{z.address}:2181" for z in self.zks)
        self.unexpected_exits = []  # what exited that no nemesis stopped
        self.bootstrap = ",".join(f"{b.address}:9092" for b in self.brokers)

    def start(self):
        for i, z in enumerate(self.zks, 1):
            d = os.path.join(self.work, z.name)
            os.makedirs(os.path.join(d, "data"), exist_ok=True)
            with open(os.path.join(d, "data", "myid"), "w") as f:
                f.write(f"{i}\n")
            with open(os.path.join(d, "zoo.cfg"), "w") as f:
                f.write("tickTime=500\ninitLimit=10\nsyncLimit=5\n"
                        f"dataDir={d}/data\nclientPort=2181\nclientPortAddress={z.address}\n"
                        "admin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n")
                for j, p in enumerate(self.zks, 1):
                    f.write(f"server.{j}={p.address}:2888:3888\n")
            self.start_zk(z)
        deadline = time.time() + 90
        while time.time() < deadline:
            if all("Mode: " in four_letter(z.address, 2181, "srvr") for z in self.zks):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the ZooKeeper ensemble did not form")
        for i, b in enumerate(self.brokers, 1):
            d = os.path.join(self.work, b.name)
            data = os.path.join(d, "data")
            os.makedirs(data, exist_ok=True)
            run(["mount", "-t", "tmpfs", "-o", f"size={LOG_DIR_BYTES}", "tmpfs", data])
            with open(os.path.join(d, "server.properties"), "w") as f:
                f.write(f"broker.id={i}\nlisteners=PLAINTEXT://{b.address}:9092\n"
                        f"log.dirs={data}\nzookeeper.connect={self.connect}\n"
                        f"zookeeper.session.timeout.ms={SESSION_TIMEOUT_MS}\n"
                        "default.replication.factor=3\nmin.insync.replicas=2\n"
                        "offsets.topic.replication.factor=3\n"
                        "unclean.leader.election.enable=false\n"
                        "log.segment.bytes=8388608\n")
            self.start_broker(b)

    def start_zk(self, z):
        d = os.path.join(self.work, z.name)
        z.spawn(["java", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                 ZK_CLASSPATH, "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                 os.path.join(d, "zoo.cfg")], os.path.join(d, "zookeeper.log"))

    def start_broker(self, b):
        d = os.path.join(self.work, b.name)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        b.spawn([self.gregor, "broker", "--config", os.path.join(d, "server.properties")],
                os.path.join(d, "broker.log"), env=env)

    def zk_leader(self):
        for z in self.zks:
            if "Mode: leader" in four_letter(z.address, 2181, "srvr"):
                return z
        return None

    def stop(self):
        for b in self.brokers:
            b.kill()
            run(["umount", "-l", os.path.join(self.work, b.name, "data")], check=False)
        for z in self.zks:
            z.kill()

    def broker_log(self, b):
        with open(os.path.join(self.work, b.name, "broker.log"), errors="replace") as f:
            return f.read()


class Workload:
    """Two producers (plain and idempotent, acks=all), a tailing consumer and a group member
    that commits what it reads."""

    def __init__(self, bootstrap):
        from confluent_kafka import Producer, Consumer, TopicPartition
        self.TopicPartition = TopicPartition
        self.acked = {}  # value -> (partition, offset)
        self.failed = 0
        self.seen = {}  # (partition, offset) -> value, as the consumer read them
        self.ack_times = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        common = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "log_level": 0,
                  "message.timeout.ms": 30000, "request.timeout.ms": 5000,
                  "socket.timeout.ms": 5000, "retry.backoff.ms": 200}
        self.producers = {
            "plain": Producer(dict(common, **{"enable.idempotence": False,
                                              "max.in.flight.requests.per.connection": 1})),
            "idem": Producer(dict(common, **{"enable.idempotence": True})),
        }
        # A group member that commits what it read, synchronously, every 50 records.
        self.member = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                                "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                "session.timeout.ms": 10000, "log_level": 0})
        self.committed = {}  # partition -> the highest offset a commit acknowledged
        self.commits_ok = 0
        self.commit_failures = 0
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "jepsen-tail",
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                  "fetch.wait.max.ms": 100, "log_level": 0})
        self.threads = []

    def start(self):
        for name, p in self.producers.items():
            t = threading.Thread(target=self.produce, args=(name, p), daemon=True)
            t.start()
            self.threads.append(t)
        self.consumer.assign([self.TopicPartition(TOPIC, i, 0) for i in range(PARTITIONS)])
        t = threading.Thread(target=self.consume, daemon=True)
        t.start()
        self.threads.append(t)
        self.member.subscribe([TOPIC])
        t = threading.Thread(target=self.commit_loop, daemon=True)
        t.start()
        self.threads.append(t)

    def produce(self, name, p):
        n = 0

        def done(err, msg):
            with self.lock:
                if err is None:
                    self.acked[msg.value().decode()] = (msg.partition(), msg.offset())
                    self.ack_times.append(time.time())
                else:
                    self.failed += 1

        while not self.stopping.is_set():
            value = f"{name}-{n}"
            try:
                p.produce(TOPIC, value=value.encode(), partition=n % PARTITIONS, on_delivery=done)
                n += 1
            except BufferError:
                pass
            p.poll(0.005)
        p.flush(40)

    def consume(self):
        while not self.stopping.is_set():
            m = self.consumer.poll(0.2)
            if m is None or m.error():
                continue
            with self.lock:
                self.seen[(m.partition(), m.offset())] = m.value().decode()

    def commit_loop(self):
        read = 0
        while not self.stopping.is_set():
            m = self.member.poll(0.2)
            if m is None or m.error():
                continue
            read += 1
            if read % 50:
                continue
            try:
                done = self.member.commit(asynchronous=False)
            except Exception:
                self.commit_failures += 1
                continue
            with self.lock:
                self.commits_ok += 1
                for tp in done or []:
                    if tp.error is None and tp.offset >= 0:
                        self.committed[tp.partition] = max(self.committed.get(tp.partition, -1),
                                                           tp.offset)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(60)
        self.consumer.close()
        self.member.close()


def metadata_per_broker(bootstrap):
    """What each broker's metadata says of the topic: {broker address: {partition: leader}}
    (a stale cache shows up as one broker disagreeing)."""
    from confluent_kafka.admin import AdminClient
    out = {}
    for address in bootstrap.split(","):
        try:
            md = AdminClient({"bootstrap.servers": address, "log_level": 0}).list_topics(
                TOPIC, timeout=5)
            out[address] = {p: (m.leader, m.isrs) for p, m in md.topics[TOPIC].partitions.items()}
        except Exception as e:
            out[address] = str(e)
    return out


def watermarks(bootstrap, deadline):
    """Each partition's high watermark. A fresh client per attempt: in one run (seed 1012)
    the preferred-leader rebalance moved a leader just as the query started, and the same
    librdkafka client answered NOT_LEADER for 120 s while every broker's log showed the
    move done (its watermark query does not seem to refresh the client's metadata)."""
    from confluent_kafka import Consumer, TopicPartition
    while True:
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "jepsen-watermarks",
                      "log_level": 0})
        try:
            return {p: c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=5)[1]
                    for p in range(PARTITIONS)}
        except Exception as e:
            if time.time() > deadline:
                raise RuntimeError(f"watermarks: {e}; each broker's metadata: "
                                   f"{metadata_per_broker(bootstrap)}")
            time.sleep(1)
        finally:
            c.close()


def read_all(bootstrap, deadline_s=120):
    """Every record of every partition, from the beginning to the high watermark."""
    from confluent_kafka import Consumer, TopicPartition
    deadline = time.time() + deadline_s
    ends = watermarks(bootstrap, deadline)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "jepsen-final",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest", "log_level": 0})
    out = {}
    try:
        c.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
        done = {p for p in range(PARTITIONS) if ends[p] == 0}
        while len(done) < PARTITIONS and time.time() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out[(m.partition(), m.offset())] = m.value().decode()
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
        if len(done) < PARTITIONS:
            raise RuntimeError(f"could not read every partition to its end: {ends}, done {done}")
        return out
    finally:
        c.close()


def committed_offsets(bootstrap, deadline_s=60):
    """The group's committed offset per partition (OffsetFetch), after the faults."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP, "log_level": 0,
                  "enable.auto.commit": False})
    deadline = time.time() + deadline_s
    try:
        while True:
            try:
                tps = c.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)],
                                  timeout=10)
                return {tp.partition: tp.offset for tp in tps}
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(1)
    finally:
        c.close()


def controller_claims(cluster):
    """(epoch, broker id) for every 'is now the controller with epoch' line of every log."""
    claims = []
    for b in cluster.brokers:
        for m in re.finditer(r"broker (\d+) is now the controller with epoch (\d+)",
                             cluster.broker_log(b)):
            claims.append((int(m.group(2)), int(m.group(1))))
    return claims


def check(workload, final, cluster, zk_state, committed):
    """The violations found (a list of strings) and the figures."""
    violations = []
    by_value = {}
    for (p, o), v in final.items():
        by_value.setdefault(v, []).append((p, o))
    lost = [v for v, where in workload.acked.items() if v not in by_value]
    # librdkafka's idempotent producer acknowledges with no offset (None here) the messages
    # of a request whose answer it lost once a later request of the same producer succeeds
    # (their sequence numbers prove them written): those need only be present.
    unknown = sum(1 for where in workload.acked.values() if where[1] is None)
    moved = [v for v, where in workload.acked.items()
             if v in by_value and where[1] is not None and where not in by_value[v]]
    duplicates = {v: w for v, w in by_value.items() if len(w) > 1}
    idem_duplicates = [v for v in duplicates if v.startswith("idem-")]
    gone = [(k, v) for k, v in workload.seen.items() if final.get(k) != v]
    out_of_order = 0
    for p in range(PARTITIONS):
        last = -1
        for o in sorted(o for (q, o) in final if q == p):
            v = final[(p, o)]
            if v.startswith("idem-"):
                n = int(v.split("-")[1])
                if n < last:
                    out_of_order += 1
                last = max(last, n)
    if lost:
        violations.append(f"{len(lost)} acknowledged record(s) lost, e.g. {lost[:5]}")
    if moved:
        violations.append(f"{len(moved)} acknowledged record(s) not at their acknowledged offset, "
                          f"e.g. {[(v, workload.acked[v], by_value[v]) for v in moved[:3]]}")
    if idem_duplicates:
        violations.append(f"{len(idem_duplicates)} duplicate(s) from the idempotent producer, "
                          f"e.g. {idem_duplicates[:5]}")
    if gone:
        violations.append(f"{len(gone)} record(s) seen by a consumer and later gone, "
                          f"e.g. {gone[:5]}")
    for p, offset in workload.committed.items():
        if committed.get(p, -1) < offset:
            violations.append(f"partition {p}: a commit of offset {offset} was acknowledged, "
                              f"the group's committed offset is now {committed.get(p)}")
    if out_of_order:
        violations.append(f"{out_of_order} idempotent record(s) out of order in their partition")
    claims = controller_claims(cluster)
    per_epoch = {}
    for epoch, broker in claims:
        per_epoch.setdefault(epoch, set()).add(broker)
    for epoch, brokers in per_epoch.items():
        if len(brokers) > 1:
            violations.append(f"controller epoch {epoch} claimed by brokers {sorted(brokers)}")
    newest = max(per_epoch) if per_epoch else None
    if zk_state["controller_epoch"] != newest:
        violations.append(f"/controller_epoch is {zk_state['controller_epoch']}, the newest "
                          f"epoch claimed in the logs is {newest}")
    for p, epoch in zk_state["partition_controller_epochs"].items():
        if epoch not in per_epoch:
            violations.append(f"partition {p}'s state was written in controller epoch {epoch}, "
                              "which no broker claimed")
    gaps = []
    times = sorted(workload.ack_times)
    for a, b in zip(times, times[1:]):
        if b - a > 1.0:
            gaps.append(b - a)
    figures = {"acked": len(workload.acked), "acked_without_offset": unknown,
               "failed": workload.failed, "lost": len(lost),
               "duplicates": len(duplicates), "idem_duplicates": len(idem_duplicates),
               "seen_then_gone": len(gone), "out_of_order": out_of_order,
               "unavailable_s": round(sum(gaps), 1), "controller_epochs": len(per_epoch),
               "commits_acked": workload.commits_ok, "commit_failures":
               workload.commit_failures}
    return violations, figures


def read_zk_state(connect):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=connect, timeout=10)
    zk.start(timeout=30)
    try:
        epoch = int(zk.get("/controller_epoch")[0])
        parts = {}
        for p in zk.get_children(f"/brokers/topics/{TOPIC}/partitions"):
            state = json.loads(zk.get(f"/brokers/topics/{TOPIC}/partitions/{p}/state")[0])
            parts[int(p)] = state["controller_epoch"]
        return {"controller_epoch": epoch, "partition_controller_epochs": parts}
    finally:
        zk.stop()
        zk.close()


def controller_id(bootstrap):
    from confluent_kafka.admin import AdminClient
    try:
        md = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).list_topics(timeout=5)
        return md.controller_id
    except Exception:
        return -1


class Nemesis:
    """Applies one fault for a while and heals it; every step logged."""

    def __init__(self, cluster, rng):
        self.c = cluster
        self.rng = rng

    def others(self, host, group):
        return [h.address for h in group if h is not host]

    def run(self, name, hold):
        c, rng = self.c, self.rng
        b = rng.choice(c.brokers)
        if name == "kill":
            log(f"  kill -9 {b.name}")
            b.kill()
            time.sleep(hold)
            c.start_broker(b)
        elif name == "pause":
            log(f"  SIGSTOP {b.name}")
            b.signal(signal.SIGSTOP)
            time.sleep(max(hold, SESSION_TIMEOUT_MS / 1000 + 3))
            b.signal(signal.SIGCONT)
        elif name == "zk-cut":
            log(f"  cut {b.name} from ZooKeeper")
            b.cut_from(name, [z.address for z in c.zks])
            time.sleep(hold)
            b.heal(name)
        elif name == "broker-cut":
            log(f"  cut {b.name} from the other brokers")
            b.cut_from(name, self.others(b, c.brokers))
            time.sleep(hold)
            b.heal(name)
        elif name == "isolate-ctl":
            ctl = controller_id(c.bootstrap)
            target = c.brokers[ctl - 1] if 1 <= ctl <= len(c.brokers) else b
            log(f"  isolate the controller {target.name}")
            target.cut_from(name, self.others(target, c.brokers + c.zks))
            time.sleep(hold)
            target.heal(name)
        elif name == "split":
            z = rng.choice(c.zks)
            minority = [b, z]
            majority = [h for h in c.brokers + c.zks if h not in minority]
            log(f"  split {{{b.name}, {z.name}}} from the rest")
            for h in minority:
                h.cut_from(name, [m.address for m in majority])
            time.sleep(hold)
            for h in minority:
                h.heal(name)
        elif name == "zk-leader":
            z = c.zk_leader() or rng.choice(c.zks)
            log(f"  kill -9 the ZooKeeper leader {z.name}")
            z.kill()
            time.sleep(hold)
            c.start_zk(z)
        elif name == "zk-cut-peer":
            z = rng.choice(c.zks)
            log(f"  cut {z.name} from its ensemble")
            z.cut_from(name, self.others(z, c.zks))
            time.sleep(hold)
            z.heal(name)
        elif name == "loss":
            log(f"  drop 30 % of {b.name}'s packets")
            b.lose(name, 30)
            time.sleep(hold)
            b.heal(name)
        elif name == "slow":
            log(f"  throttle {b.name}'s link to 1 Mbit/s")
            b.throttle(True)
            time.sleep(hold)
            b.throttle(False)
        elif name == "disk-full":
            data = os.path.join(c.work, b.name, "data")
            filler = os.path.join(data, "filler")
            log(f"  fill {b.name}'s log dir")
            b.may_exit = True
            subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M",
                            f"count={LOG_DIR_BYTES // (1 << 20)}"], capture_output=True)
            time.sleep(hold)
            os.remove(filler)
            if not b.alive():  # a broker halts when its only log dir fails, as Kafka does
                log(f"  {b.name} halted; restarting it")
                c.start_broker(b)
        else:
            raise ValueError(name)


def wait_healthy(cluster, deadline_s=120):
    """Every broker running and every partition of the topic with a leader and 3 in sync."""
    from confluent_kafka.admin import AdminClient
    deadline = time.time() + deadline_s
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap, "log_level": 0})
    while time.time() < deadline:
        for h in cluster.brokers + cluster.zks:
            if h.alive():
                continue
            if not h.may_exit:
                cluster.unexpected_exits.append(
                    f"{h.name} exited with code {h.proc.returncode} on its own (see its log)")
            log(f"  {h.name} is down; starting it")
            if h in cluster.brokers:
                cluster.start_broker(h)
            else:
                cluster.start_zk(h)
        try:
            md = admin.list_topics(TOPIC, timeout=5)
            t = md.topics.get(TOPIC)
            if t and not t.error and len(t.partitions) == PARTITIONS and all(
                    p.leader >= 1 and len(p.isrs) == 3 for p in t.partitions.values()):
                return True
        except Exception:
            pass
        time.sleep(1)
    return False


def create_topic(bootstrap):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    deadline = time.time() + 90
    while time.time() < deadline:
        fs = admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3,
                                           config={"min.insync.replicas": "2"})])
        try:
            fs[TOPIC].result(15)
            return
        except Exception as e:
            if "TOPIC_ALREADY_EXISTS" in str(e):
                return
            time.sleep(1)
    raise RuntimeError("could not create the topic")


def run_schedule(args, index, seed):
    rng = random.Random(seed)
    nemeses = args.nemesis or NEMESES
    plan = [rng.choice(nemeses) for _ in range(args.faults)]
    work = tempfile.mkdtemp(prefix=f"gregor-faults-{seed}-", dir=args.work)
    net = Net((os.getpid() + index) % 9000 + 1000)
    cluster = None
    log(f"schedule {index} (seed {seed}): {', '.join(plan)}; files in {work}")
    result = {"seed": seed, "plan": plan, "violations": [], "figures": {}, "work": work}
    try:
        net.setup()
        cluster = Cluster(args.gregor, work, net)
        cluster.start()
        create_topic(cluster.bootstrap)
        if not wait_healthy(cluster):
            raise RuntimeError("the cluster did not become healthy before the faults")
        workload = Workload(cluster.bootstrap)
        workload.start()
        time.sleep(2)
        nemesis = Nemesis(cluster, rng)
        for name in plan:
            nemesis.run(name, hold=rng.uniform(args.hold / 2, args.hold))
            time.sleep(rng.uniform(1, 3))
        for h in net.hosts:
            h.heal()
        healthy = wait_healthy(cluster)
        time.sleep(2)
        workload.stop()
        if not healthy:
            result["violations"].append("the cluster did not heal: a partition lacks a leader "
                                        "or a full ISR 120 s after the faults")
        final = read_all(cluster.bootstrap)
        zk_state = read_zk_state(cluster.connect)
        committed = committed_offsets(cluster.bootstrap)
        violations, figures = check(workload, final, cluster, zk_state, committed)
        result["violations"] += violations + cluster.unexpected_exits
        for b in cluster.brokers:
            text = cluster.broker_log(b)
            for marker in ("ERROR: AddressSanitizer", "runtime error:", "ASSERTION FAILED"):
                if marker in text:
                    result["violations"].append(f"{b.name}'s log has '{marker}'")
        result["figures"] = figures
    except Exception as e:
        result["violations"].append(f"harness error: {e}")
    finally:
        if cluster:
            cluster.stop()
        net.teardown()
    status = "ok" if not result["violations"] else "FAILED: " + "; ".join(result["violations"])
    log(f"schedule {index} (seed {seed}): {result['figures']} {status}")
    if not result["violations"] and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def table(results):
    rows = {}
    for r in results:
        for n in set(r["plan"]):
            row = rows.setdefault(n, {"runs": 0, "acked": 0, "lost": 0, "duplicates": 0,
                                      "idem_duplicates": 0, "seen_then_gone": 0,
                                      "unavailable_s": 0.0, "failed_runs": 0})
            row["runs"] += 1
            for k in ("acked", "lost", "duplicates", "idem_duplicates", "seen_then_gone",
                      "unavailable_s"):
                row[k] += r["figures"].get(k, 0)
            row["failed_runs"] += 1 if r["violations"] else 0
    lines = ["| nemesis | schedules with it | records acknowledged | lost | duplicated "
             "(idempotent) | seen then gone | unavailable s | schedules failed |",
             "|---|---|---|---|---|---|---|---|"]
    for n in sorted(rows):
        r = rows[n]
        lines.append(f"| {n} | {r['runs']} | {r['acked']:,} | {r['lost']} | {r['duplicates']} "
                     f"({r['idem_duplicates']}) | {r['seen_then_gone']} | "
                     f"{r['unavailable_s']:.1f} | {r['failed_runs']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gregor", required=True, help="the gregor binary the brokers run")
    ap.add_argument("--schedules", type=int, default=3)
    ap.add_argument("--seed", type=int, default=None,
                    help="first schedule's seed (schedule i uses seed + i); default: random")
    ap.add_argument("--faults", type=int, default=3, help="faults per schedule")
    ap.add_argument("--hold", type=float, default=10.0, help="longest a fault holds, seconds")
    ap.add_argument("--nemesis", action="append", choices=NEMESES,
                    help="only these nemeses (repeatable); default: all")
    ap.add_argument("--work", default=None, help="where schedules keep their files")
    ap.add_argument("--keep", action="store_true", help="keep the files of passing schedules")
    ap.add_argument("--json", default=None, help="write every schedule's result here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("jepsen.py: needs root (network namespaces, nftables, tmpfs mounts); skipped",
              file=sys.stderr)
        return 77
    for tool in ("ip", "nft", "java"):
        if shutil.which(tool) is None:
            print(f"jepsen.py: no `{tool}`; run scripts/setup.sh", file=sys.stderr)
            return 2
    # SIGTERM (a ctest timeout, Ctrl-C's cousins) unwinds like an exception, so the schedule's
    # finally block kills its processes, unmounts its tmpfs and removes its namespaces.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.gregor = os.path.abspath(args.gregor)
    if args.work:
        os.makedirs(args.work, exist_ok=True)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    results = []
    for i in range(args.schedules):
        results.append(run_schedule(args, i, seed + i))
    print(table(results))
    failed = [r for r in results if r["violations"]]
    for r in failed:
        print(f"seed {r['seed']} ({', '.join(r['plan'])}): {'; '.join(r['violations'])}; files "
              f"in {r['work']}; again: {sys.argv[0]} --gregor {args.gregor} --schedules 1 "
              f"--seed {r['seed']} --faults {args.faults} --hold {args.hold}"
              + "".join(f" --nemesis {n}" for n in (args.nemesis or [])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"{len(results) - len(failed)} of {len(results)} schedules passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
