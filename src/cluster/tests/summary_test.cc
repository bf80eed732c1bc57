// Goal: the summary `cluster up` prints tells a newcomer everything needed to use the
// cluster: bootstrap servers, ZooKeeper, controller and epoch, logs, and exact kcat
// commands. Method: render a known state and look for each fact.
#include "cluster/summary.h"

#include <gtest/gtest.h>

namespace gregor::cluster {
namespace {

TEST(cluster_summary, shows_everything_a_user_needs) {
    cluster_state s;
    s.dir = "/d";
    s.zookeeper_connect = "127.0.0.1:2999";
    s.zookeepers = {{0, 2999, 0, 0, 10}};
    s.session_timeout_ms = 6000;
    s.brokers = {{1, 9092, 11, false}, {2, 9093, 12, false}};
    cluster_view v;
    v.registered = {1, 2};
    v.controller = 2;
    v.controller_epoch = 5;
    auto text = summary_text(s, v, "build/release/gregor");
    for (const char* fact :
         {"bootstrap servers: 127.0.0.1:9092,127.0.0.1:9093", "127.0.0.1:2999",
          "broker 2 (controller epoch 5)", "/d/broker-1/broker.log", "/d/zookeeper/zookeeper.log",
          "kcat -b 127.0.0.1:9092 -P -t demo", "kcat -b 127.0.0.1:9092 -C -t demo -o beginning -e",
          "zookeeper.session.timeout.ms=6000", "build/release/gregor cluster down --dir /d",
          "kcat -b 127.0.0.1:9092 -G demo-group demo", "offsets.topic.replication.factor=2",
          "build/release/gregor topics create demo"}) {
        EXPECT_NE(text.find(fact), std::string::npos) << fact << "\n" << text;
    }
    EXPECT_TRUE(text.ends_with("ready\n"));
}

}  // namespace
}  // namespace gregor::cluster
