// Goal: the generated server.properties and zoo.cfg carry what the brokers and ZooKeeper
// need (ids, loopback listeners, data dirs, the short demo session timeout), in the keys
// Kafka and ZooKeeper read. Method: generate and look for each line.
#include "cluster/layout.h"

#include <gtest/gtest.h>

namespace gregor::cluster {
namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(cluster_layout, server_properties_carry_the_broker_settings) {
    broker_settings b;
    b.id = 2;
    b.port = 9093;
    b.data_dir = "/d/broker-2/data";
    b.zookeeper_connect = "127.0.0.1:2181";
    b.replication_factor = 3;
    auto p = server_properties(b);
    EXPECT_TRUE(has_line(p, "broker.id=2"));
    EXPECT_TRUE(has_line(p, "listeners=PLAINTEXT://127.0.0.1:9093"));
    EXPECT_TRUE(has_line(p, "log.dirs=/d/broker-2/data"));
    EXPECT_TRUE(has_line(p, "zookeeper.connect=127.0.0.1:2181"));
    EXPECT_TRUE(has_line(p, "zookeeper.session.timeout.ms=6000"));
    EXPECT_TRUE(has_line(p, "default.replication.factor=3"));
}

TEST(cluster_layout, zoo_cfg_is_a_standalone_loopback_server) {
    auto c = zoo_cfg("/d/zookeeper/data", 2999);
    EXPECT_TRUE(has_line(c, "dataDir=/d/zookeeper/data"));
    EXPECT_TRUE(has_line(c, "clientPort=2999"));
    EXPECT_TRUE(has_line(c, "clientPortAddress=127.0.0.1"));
    EXPECT_TRUE(has_line(c, "admin.enableServer=false"));
    EXPECT_TRUE(has_line(c, "4lw.commands.whitelist=*"));
    EXPECT_NE(c.find("tickTime="), std::string::npos);
    // Sessions as long as `up --session-timeout-ms` allows (Kafka's 18 s default among them).
    EXPECT_TRUE(has_line(c, "maxSessionTimeout=60000"));
}

TEST(cluster_layout, zoo_cfg_of_an_ensemble_member_lists_every_server) {
    std::vector<zookeeper_entry> ensemble{
        {1, 2181, 2881, 3881, 0}, {2, 2182, 2882, 3882, 0}, {3, 2183, 2883, 3883, 0}};
    auto c = zoo_cfg("/d/zookeeper-2/data", 2182, ensemble);
    EXPECT_TRUE(has_line(c, "clientPort=2182"));
    EXPECT_TRUE(has_line(c, "dataDir=/d/zookeeper-2/data"));
    EXPECT_TRUE(has_line(c, "server.1=127.0.0.1:2881:3881"));
    EXPECT_TRUE(has_line(c, "server.2=127.0.0.1:2882:3882"));
    EXPECT_TRUE(has_line(c, "server.3=127.0.0.1:2883:3883"));
    EXPECT_EQ(zookeeper_connect_string(ensemble), "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183");
    EXPECT_EQ(zoo_cfg("/d", 1).find("server."), std::string::npos);
}

TEST(cluster_layout, paths_live_under_the_cluster_directory) {
    cluster_layout l{"/d"};
    EXPECT_EQ(l.broker_config(3), "/d/broker-3/server.properties");
    EXPECT_EQ(l.broker_log(3), "/d/broker-3/broker.log");
    EXPECT_EQ(l.broker_data(3), "/d/broker-3/data");
    EXPECT_EQ(l.zookeeper_config(), "/d/zookeeper/zoo.cfg");
    EXPECT_EQ(l.zookeeper_config(2), "/d/zookeeper-2/zoo.cfg");
    EXPECT_EQ(l.zookeeper_log(3), "/d/zookeeper-3/zookeeper.log");
}

}  // namespace
}  // namespace gregor::cluster
