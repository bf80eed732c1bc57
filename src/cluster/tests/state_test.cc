// Goal: the state file is what makes `up` resume a cluster and what down/kill/admin read,
// so it must round-trip exactly and reject anything malformed with a named field instead of
// acting on garbage. Method: encode/decode pairs, hand-broken files, and a real file
// written and read back in a temp directory.
#include "cluster/state.h"

#include "cluster/errc.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace gregor::cluster {
namespace {

cluster_state sample() {
    cluster_state s;
    s.dir = "/tmp/some dir";
    s.zookeeper_connect = "127.0.0.1:2181";
    s.zookeeper_managed = true;
    s.zookeepers = {{0, 2181, 0, 0, 100}};
    s.supervisor_pid = 99;
    s.session_timeout_ms = 6000;
    s.brokers = {{1, 9092, 101, false}, {2, 9093, 0, true}, {3, 9094, 103, false}};
    return s;
}

TEST(cluster_state, round_trips_every_field) {
    auto s = sample();
    auto back = decode_state(encode_state(s));
    ASSERT_TRUE(back) << back.err().to_string();
    EXPECT_EQ(*back, s);
}

TEST(cluster_state, round_trips_an_ensemble) {
    auto s = sample();
    s.zookeepers = {
        {1, 2181, 2881, 3881, 100}, {2, 2182, 2882, 3882, 0}, {3, 2183, 2883, 3883, 102}};
    s.zookeeper_connect = "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183";
    auto back = decode_state(encode_state(s));
    ASSERT_TRUE(back) << back.err().to_string();
    EXPECT_EQ(*back, s);
}

// cluster.json written before ensembles kept one server as "port" and "pid": a cluster
// directory from then still resumes.
TEST(cluster_state, reads_the_single_server_form_of_older_files) {
    auto back = decode_state(R"({"version": 1, "dir": "/d", "supervisor_pid": 0,
        "session_timeout_ms": 6000,
        "zookeeper": {"connect": "127.0.0.1:2181", "managed": true, "port": 2181, "pid": 0},
        "brokers": [{"id": 1, "port": 9092, "pid": 0, "stopped_by_user": false}]})");
    ASSERT_TRUE(back) << back.err().to_string();
    ASSERT_EQ(back->zookeepers.size(), 1U);
    EXPECT_EQ(back->zookeepers[0], (zookeeper_entry{0, 2181, 0, 0, 0}));
}

TEST(cluster_state, bootstrap_servers_list_every_broker) {
    EXPECT_EQ(sample().bootstrap_servers(), "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094");
}

TEST(cluster_state, rejects_malformed_files_naming_the_field) {
    auto text = encode_state(sample());
    auto broken = [&](std::string from, std::string to) {
        auto t = text;
        auto at = t.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        t.replace(at, from.size(), to);
        return decode_state(t);
    };
    auto r = broken("\"port\": 9093", "\"port\": 70000");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), errc::bad_state_file);
    EXPECT_NE(r.err().detail.find("port"), std::string::npos);
    EXPECT_FALSE(broken("\"version\": 1", "\"version\": 9"));
    EXPECT_FALSE(broken("\"id\": 2", "\"id\": 1"));  // duplicate broker id
    EXPECT_FALSE(broken("\"pid\": 100", "\"pid\": \"x\""));
    EXPECT_FALSE(decode_state("not json"));
    EXPECT_FALSE(decode_state("[]"));
    EXPECT_FALSE(decode_state(""));
}

TEST(cluster_state, file_round_trip_and_missing_file_is_not_running) {
    char tmpl[] = "/tmp/gregor-state-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::filesystem::path dir = tmpl;
    auto missing = read_state(dir);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.code(), errc::not_running);
    ASSERT_TRUE(write_state(dir, sample()));
    auto back = read_state(dir);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, sample());
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gregor::cluster
