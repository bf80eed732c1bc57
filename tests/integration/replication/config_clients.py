#!/usr/bin/python3
"""Real clients for the topic config integration test (run with /usr/bin/python3).

produce BOOTSTRAP TOPIC          one acks=all record with confluent_kafka (librdkafka), no
                                 retries; prints "ok" or the Kafka error name
                                 (e.g. NOT_ENOUGH_REPLICAS)
produce-many BOOTSTRAP TOPIC N   N records of 200 bytes, one batch each; "ok" or an error
confluent-describe BOOTSTRAP TOPIC KEY
                                 AdminClient.describe_configs; prints "<value> <SOURCE>"
kafka-python-describe BOOTSTRAP TOPIC KEY
                                 KafkaAdminClient.describe_configs; prints "<value> <source>"
                                 (source as DescribeConfigs' number)
confluent-alter BOOTSTRAP TOPIC KEY VALUE
                                 AdminClient.alter_configs (the legacy AlterConfigs API);
                                 prints "ok" or the Kafka error name
"""
import sys


def produce(bootstrap, topic):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0,
                  "enable.idempotence": False, "message.timeout.ms": 20000})
    outcome = []
    p.produce(topic, b"config-test", partition=0,
              on_delivery=lambda err, msg: outcome.append(err))
    p.flush(30)
    if not outcome:
        print("no delivery report")
    elif outcome[0] is None:
        print("ok")
    else:
        print(outcome[0].name())


def produce_many(bootstrap, topic, count):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0,
                  "batch.num.messages": 1})
    failed = []
    for i in range(int(count)):
        p.produce(topic, b"x" * 200, partition=0,
                  on_delivery=lambda err, msg: failed.append(err) if err else None)
        p.poll(0)
    p.flush(30)
    print("ok" if not failed else failed[0].name())


def confluent_describe(bootstrap, topic, key):
    from confluent_kafka.admin import AdminClient, ConfigResource
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.describe_configs([ConfigResource("topic", topic)])
    for _, f in futures.items():
        entries = f.result(timeout=30)
        e = entries[key]
        print(e.value, e.source.name if hasattr(e.source, "name") else
              {1: "DYNAMIC_TOPIC_CONFIG", 4: "STATIC_BROKER_CONFIG",
               5: "DEFAULT_CONFIG"}.get(e.source, str(e.source)))


def kafka_python_describe(bootstrap, topic, key):
    from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    responses = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    for resp in responses:
        for resource in resp.resources:
            error_code, _, _, _, entries = resource[:5]
            if error_code != 0:
                print("error", error_code)
                return
            for entry in entries:
                if entry[0] == key:
                    print(entry[1], entry[3])
                    return
    print("missing")


def confluent_alter(bootstrap, topic, key, value):
    from confluent_kafka.admin import AdminClient, ConfigResource
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.alter_configs([ConfigResource("topic", topic, set_config={key: value})])
    for _, f in futures.items():
        try:
            f.result(timeout=30)
            print("ok")
        except Exception as e:  # KafkaException carrying the KafkaError
            err = e.args[0] if e.args else e
            print(err.name() if hasattr(err, "name") else str(err))


if __name__ == "__main__":
    commands = {"produce": produce, "produce-many": produce_many, "confluent-describe": confluent_describe,
                "kafka-python-describe": kafka_python_describe,
                "confluent-alter": confluent_alter}
    commands[sys.argv[1]](*sys.argv[2:])
