"""An idempotent confluent_kafka (librdkafka) producer for the producer id integration test.

Usage: idempotent_producer.py <bootstrap> <topic> <count>
Creates a producer with enable.idempotence=true and librdkafka's "eos" debug logs, produces
<count> records to <topic> and flushes. Prints one JSON object:
  pid         the producer id librdkafka acquired ("PID{Id:N,Epoch:E}"), or null
  fatal       the fatal error librdkafka raised (e.g. "Idempotent producer not supported"),
              or null
  delivered   records acknowledged; failed: records that failed, with their errors
Exits 0 iff it could run at all; the test judges the fields.
"""
import json
import logging
import re
import sys
import time

from confluent_kafka import KafkaException, Producer


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def main():
    bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    collected = Collect()
    log = logging.getLogger("rdkafka")
    log.setLevel(logging.DEBUG)
    log.addHandler(collected)
    result = {"pid": None, "fatal": None, "delivered": 0, "failed": 0, "errors": []}

    def on_error(err):
        if err.fatal():
            result["fatal"] = str(err)
        result["errors"].append(str(err))

    def on_delivery(err, _msg):
        if err is None:
            result["delivered"] += 1
        else:
            result["failed"] += 1
            result["errors"].append(str(err))

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "debug": "eos", "error_cb": on_error, "logger": log,
                         "message.timeout.ms": 60000})
    deadline = time.monotonic() + 30
    while result["pid"] is None and result["fatal"] is None and time.monotonic() < deadline:
        producer.poll(0.1)
        for line in collected.lines:
            m = re.search(r"Acquired (PID\{Id:\d+,Epoch:\d+\})", line)
            if m:
                result["pid"] = m.group(1)
    if result["pid"] is not None:
        for i in range(count):
            try:
                producer.produce(topic, value=b"idem-%06d" % i, on_delivery=on_delivery)
            except KafkaException as e:
                result["errors"].append(str(e))
            producer.poll(0)
        producer.flush(90)
    if result["pid"] is None:
        result["log"] = collected.lines[-40:]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
