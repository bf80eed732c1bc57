// Goal: three real brokers on a real ZooKeeper elect a controller exactly as Kafka's
// ZooKeeper mode does, and it does its job through failures a user will meet:
//   - /controller and /controller_epoch hold Kafka's content (zkCli.sh shows them);
//   - CreateTopics gives every partition a leader, and every broker's Metadata agrees;
//   - kill -9 of the controller: another broker takes over with epoch + 1, partitions the
//     dead broker led get leaders from their ISR, and the old one, restarted, stays a plain
//     broker;
//   - a controller frozen (SIGSTOP) past its session timeout is replaced; when it wakes it
//     resigns and nothing it decided afterwards reaches ZooKeeper;
//   - kill -9 of a broker moves its leaderships at once, long before its 18 s session ends
//     (fast crash detection), while a paused broker (SIGSTOP) is left to its session;
//   - SIGTERM of a broker moves its leaderships away before it exits (controlled shutdown);
//   - after a broker is killed and restarted, its preferred leaderships come back by
//     themselves (auto.leader.rebalance.enable, with a 1 s check interval), or, with the
//     rebalance off, when /admin/preferred_replica_election asks for them (the controller
//     deletes the node, also a malformed one).
// Method: tests/support's ZooKeeper, the gregor binary as child processes, the Kafka
// protocol (Metadata, CreateTopics) over plain sockets, and zkCli.sh from the Debian package.
#include "coord/znode_json.h"
#include "support/broker_process.h"
#include "model/kafka_error.h"
#include "protocol/messages/all.h"
#include "support/zookeeper_server.h"

#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
using model::node_id;

constexpr int partitions = 6;

struct cluster {
    zookeeper_server zk_server;
    std::map<int, std::unique_ptr<broker_process>> brokers;
    std::map<int, std::uint16_t> ports;
    std::unique_ptr<zk_reader> zk;

    std::map<std::string, std::string> extra;

    explicit cluster(std::map<std::string, std::string> settings = {})
      : extra(std::move(settings)) {
        for (int id = 1; id <= 3; ++id) {
            start(id);
        }
        zk = std::make_unique<zk_reader>(zk_server.connect_string());
    }

    // Starts broker `id` (again) on a fresh port and data directory.
    void start(int id) {
        std::map<std::string, std::string> settings{
            {"broker.id", std::to_string(id)},
            {"zookeeper.connect", zk_server.connect_string()},
            {"zookeeper.session.timeout.ms", "4000"},
            {"controlled.shutdown.retry.backoff.ms", "200"}};
        for (const auto& [k, v] : extra) {
            settings[k] = v;
        }
        brokers[id] = std::make_unique<broker_process>(settings);
        ports[id] = brokers[id]->port();
    }

    std::optional<node_id> controller() {
        auto node = zk->get("/controller");
        if (!node) {
            return std::nullopt;
        }
        auto c = coord::decode_controller(node->data);
        return c ? std::optional(c->broker) : std::nullopt;
    }
    int epoch() {
        auto node = zk->get("/controller_epoch");
        return node ? std::stoi(node->data) : -1;
    }
    std::optional<coord::partition_state> state(int p) {
        auto node = zk->get("/brokers/topics/t/partitions/" + std::to_string(p) + "/state");
        if (!node) {
            return std::nullopt;
        }
        auto s = coord::decode_partition_state(node->data);
        return s ? std::optional(*s) : std::nullopt;
    }
    // Partition -> its preferred replica (the first assigned), from /brokers/topics/t.
    std::map<int, node_id> preferred() {
        std::map<int, node_id> out;
        auto node = zk->get("/brokers/topics/t");
        if (!node) {
            return out;
        }
        auto a = coord::decode_topic(node->data);
        if (!a) {
            return out;
        }
        for (const auto& [p, replicas] : a->partitions) {
            out[p()] = replicas.front();
        }
        return out;
    }
    // Whether every partition is led by its preferred replica.
    bool all_led_by_preferred() {
        auto want = preferred();
        for (const auto& [p, leader] : want) {
            auto s = state(p);
            if (!s || s->leader != leader) {
                return false;
            }
        }
        return want.size() == static_cast<std::size_t>(partitions);
    }
    std::string logs() {
        std::string out;
        for (auto& [id, b] : brokers) {
            out += "--- broker " + std::to_string(id) + "\n" + (b ? b->log() : "(stopped)");
        }
        return out;
    }
};

protocol::metadata_response metadata(std::uint16_t port) {
    kafka_socket s(port);
    protocol::metadata_request req;
    req.topics = std::nullopt;
    bytes raw = s.call(protocol::metadata_api::key, 12, req);
    protocol::reader r(raw);
    return protocol::metadata_response::decode(r, 12).value();
}

// Why the last metadata_agrees() call said no (printed with failures).
std::string disagreement;

// Every live broker's Metadata shows topic t with all partitions led by a live ISR member
// and names `ctl` as controller; `live` are the brokers that must be listed.
bool metadata_agrees(cluster& c, const std::set<int>& live, node_id ctl) {
    for (int id : live) {
        auto m = metadata(c.ports[id]);
        disagreement = "broker " + std::to_string(id) + ": controller " +
                       std::to_string(m.controller_id()) + ", " +
                       std::to_string(m.brokers.size()) + " brokers, " +
                       std::to_string(m.topics.size()) + " topics";
        if (m.controller_id != ctl || m.brokers.size() != live.size() || m.topics.size() != 1) {
            return false;
        }
        const auto& t = m.topics[0];
        disagreement += ", topic error " + std::to_string(t.error_code) + " with " +
                        std::to_string(t.partitions.size()) + " partitions";
        if (t.partitions.size() != static_cast<std::size_t>(partitions)) {
            return false;
        }
        for (const auto& p : t.partitions) {
            bool in_isr = std::find(p.isr_nodes.begin(), p.isr_nodes.end(), p.leader_id) !=
                          p.isr_nodes.end();
            disagreement += "; partition " + std::to_string(p.partition_index()) + " leader " +
                            std::to_string(p.leader_id()) + " error " +
                            std::to_string(p.error_code);
            if (p.error_code != 0 || !live.contains(p.leader_id()) || !in_isr) {
                return false;
            }
        }
    }
    return true;
}

// Whether broker `id`'s log shows `text` within `limit`. The controller journals a decision
// once its ZooKeeper write has completed, so a reader of ZooKeeper can see the new state a
// moment before the line is in the log.
bool log_shows(cluster& c, int id, const std::string& text, std::chrono::seconds limit = 30s) {
    return c.zk->wait_for(
        [&] { return c.brokers[id]->log().find(text) != std::string::npos; }, limit);
}

protocol::create_topics_response create_topic(std::uint16_t port) {
    kafka_socket s(port);
    protocol::create_topics_request req;
    protocol::create_topics_request::creatable_topic t;
    t.name = "t";
    t.num_partitions = partitions;
    t.replication_factor = 3;
    req.topics.push_back(t);
    req.timeout_ms = 30000;
    bytes raw = s.call(protocol::create_topics_api::key, 5, req);
    protocol::reader r(raw);
    return protocol::create_topics_response::decode(r, 5).value();
}

// Starts the cluster, waits for a controller, creates topic t through it.
node_id bring_up(cluster& c) {
    for (auto& [id, b] : c.brokers) {
        EXPECT_TRUE(b->wait_listening(60s)) << c.logs();
    }
    EXPECT_TRUE(c.zk->wait_for([&] { return c.controller().has_value(); }, 60s)) << c.logs();
    node_id ctl = *c.controller();
    EXPECT_TRUE(c.zk->wait_for(
        [&] { return metadata(c.ports[ctl()]).brokers.size() == 3; }, 60s))
        << c.logs();
    auto created = create_topic(c.ports[ctl()]);
    EXPECT_EQ(created.topics.at(0).error_code, 0) << c.logs();
    EXPECT_TRUE(c.zk->wait_for([&] { return metadata_agrees(c, {1, 2, 3}, ctl); }, 60s))
        << c.logs();
    return ctl;
}

TEST(controller_integration, zookeeper_holds_kafkas_controller_znodes) {
    cluster c;
    node_id ctl = bring_up(c);
    EXPECT_EQ(c.epoch(), 1);
    auto out = run_command("/usr/share/zookeeper/bin/zkCli.sh -server " +
                           c.zk_server.connect_string() + " get /controller 2>/dev/null");
    EXPECT_NE(out.out.find("{\"version\":1,\"brokerid\":" + std::to_string(ctl()) +
                           ",\"timestamp\":\""),
              std::string::npos)
        << out.out;
    auto s = c.state(0);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->controller_epoch, model::controller_epoch(1));
    EXPECT_EQ(s->leader_epoch, model::leader_epoch(0));
    EXPECT_EQ(s->isr.size(), 3U);
}

TEST(controller_integration, killed_controller_is_replaced_with_a_higher_epoch_and_stays_out) {
    cluster c;
    node_id old = bring_up(c);
    std::set<int> led_by_old;
    for (int p = 0; p < partitions; ++p) {
        if (c.state(p)->leader == old) {
            led_by_old.insert(p);
        }
    }
    c.brokers[old()]->signal(SIGKILL);
    c.brokers[old()]->wait_exit(10s);
    node_id fresh = old;
    ASSERT_TRUE(c.zk->wait_for([&] {
        auto now = c.controller();  // read once: the node is briefly absent during failover
        fresh = now.value_or(old);
        return fresh != old;
    }, 60s)) << c.logs();
    EXPECT_EQ(c.epoch(), 2);
    std::set<int> live{1, 2, 3};
    live.erase(old());
    ASSERT_TRUE(c.zk->wait_for([&] { return metadata_agrees(c, live, fresh); }, 60s))
        << disagreement << "\n" << c.logs();
    for (int p : led_by_old) {
        auto s = c.state(p);
        EXPECT_NE(s->leader, old);
        EXPECT_GT(s->leader_epoch, model::leader_epoch(0));
        EXPECT_EQ(std::count(s->isr.begin(), s->isr.end(), old), 0) << "dead replica left the ISR";
    }
    c.start(old());
    ASSERT_TRUE(c.brokers[old()]->wait_listening(60s)) << c.logs();
    ASSERT_TRUE(c.zk->wait_for(
        [&] { return metadata(c.ports[old()]).controller_id == fresh; }, 60s))
        << c.logs();
    std::this_thread::sleep_for(2s);  // give a wrong re-election every chance to happen
    EXPECT_EQ(c.controller(), fresh) << "a returning broker does not take the role back";
    EXPECT_EQ(c.epoch(), 2);
}

TEST(controller_integration, frozen_controller_is_fenced_and_resigns_when_it_wakes) {
    cluster c;
    node_id zombie = bring_up(c);
    c.brokers[zombie()]->signal(SIGSTOP);
    node_id fresh = zombie;
    ASSERT_TRUE(c.zk->wait_for([&] {
        fresh = c.controller().value_or(zombie);
        return fresh != zombie;
    }, 60s)) << c.logs();
    int epoch = c.epoch();
    ASSERT_TRUE(c.zk->wait_for([&] {
        for (int p = 0; p < partitions; ++p) {
            if (c.state(p)->leader == zombie) {
                return false;
            }
        }
        return true;
    }, 60s)) << c.logs();
    c.brokers[zombie()]->signal(SIGCONT);
    ASSERT_TRUE(c.zk->wait_for(
        [&] { return c.brokers[zombie()]->log().find("resigning as controller") !=
                     std::string::npos; }, 60s))
        << c.logs();
    ASSERT_TRUE(c.zk->wait_for([&] { return metadata_agrees(c, {1, 2, 3}, fresh); }, 60s))
        << disagreement << "\n" << c.logs();
    EXPECT_EQ(c.controller(), fresh);
    EXPECT_EQ(c.epoch(), epoch);
    for (int p = 0; p < partitions; ++p) {
        EXPECT_LE(c.state(p)->controller_epoch(), epoch);
    }
}

// Fast crash detection (src/controller/README.md): with Kafka's default 18 s session, kill -9
// of a broker would leave what it led without a leader for 18 s. Its process is provably
// gone (the controller's watch connection closed and its listener refuses), so the
// controller deletes its registration and moves its leaders at once, saying why.
// Kafka's default 18 s session, so nothing that moves within seconds was its expiry; the
// victim is a broker that is not the controller.
struct crash_setup {
    cluster c{std::map<std::string, std::string>{{"zookeeper.session.timeout.ms", "18000"}}};
    node_id ctl = bring_up(c);
    int victim = ctl() % 3 + 1;
    std::string registration = "/brokers/ids/" + std::to_string(victim);
};

TEST(controller_integration, a_killed_brokers_leaders_move_without_waiting_for_its_session) {
    crash_setup s;
    auto& [c, ctl, victim, registration] = s;
    ASSERT_TRUE(c.zk->get(registration).has_value());
    c.brokers[victim]->kill_now();
    std::set<int> live{1, 2, 3};
    live.erase(victim);
    ASSERT_TRUE(c.zk->wait_for([&] { return metadata_agrees(c, live, ctl); }, 60s))
        << disagreement << "\n"
        << c.logs();
    EXPECT_TRUE(log_shows(c, ctl(), "broker " + std::to_string(victim) + "'s process is gone"))
        << c.logs();
    EXPECT_TRUE(
        log_shows(c, ctl(), "reason=\"broker process gone (" + std::to_string(victim) + ")\""))
        << "its leaders moved because its process was gone, not at its session's end\n"
        << c.logs();
    EXPECT_FALSE(c.zk->get(registration).has_value());

    // Restarted, it registers at once (no old node to wait for) and takes its replicas back.
    c.brokers[victim]->restart();
    ASSERT_TRUE(c.brokers[victim]->wait_listening(60s)) << c.logs();
    ASSERT_TRUE(c.zk->wait_for(
        [&] {
            return metadata_agrees(c, {1, 2, 3}, ctl);
        },
        60s))
        << disagreement << "\n"
        << c.logs();
}

// A paused broker is not a dead one: its connections stay open and its kernel still accepts
// on its listener, so nothing is decided before its session times out.
TEST(controller_integration, a_paused_broker_is_not_taken_for_a_crashed_one) {
    crash_setup s;
    auto& [c, ctl, victim, registration] = s;
    auto before = c.zk->get(registration);
    ASSERT_TRUE(before.has_value());
    c.brokers[victim]->signal(SIGSTOP);
    std::this_thread::sleep_for(3s);  // the killed broker's leaders moved within this, above
    auto during = c.zk->get(registration);
    c.brokers[victim]->signal(SIGCONT);
    ASSERT_TRUE(during.has_value()) << c.logs();
    EXPECT_EQ(during->stat.czxid, before->stat.czxid);
    EXPECT_EQ(c.brokers[ctl()]->log().find("process is gone"), std::string::npos) << c.logs();
    ASSERT_TRUE(c.zk->wait_for(
        [&] {
            return metadata_agrees(c, {1, 2, 3}, ctl);
        },
        60s))
        << disagreement << "\n"
        << c.logs();
}

TEST(controller_integration, controlled_shutdown_moves_leadership_before_the_broker_exits) {
    cluster c;
    node_id ctl = bring_up(c);
    int victim = ctl() % 3 + 1;  // a plain broker
    std::set<int> led;
    for (int p = 0; p < partitions; ++p) {
        if (c.state(p)->leader == node_id(victim)) {
            led.insert(p);
        }
    }
    ASSERT_FALSE(led.empty());
    c.brokers[victim]->signal(SIGTERM);
    ASSERT_TRUE(c.brokers[victim]->wait_exit(60s).has_value()) << c.logs();
    EXPECT_NE(c.brokers[victim]->log().find("controlled shutdown succeeded"), std::string::npos)
        << c.logs();
    for (int p : led) {
        EXPECT_NE(c.state(p)->leader, node_id(victim)) << "partition " << p;
    }
    EXPECT_TRUE(log_shows(c, ctl(), "reason=\"controlled shutdown of broker " +
                                        std::to_string(victim)))
        << c.brokers[ctl()]->log();
}

// Kills broker `victim` (kill -9) and restarts it on its data directory; returns once its
// leaderships moved away and it is back in the ISR of every partition. The partitions it
// prefers are then led by others.
void bounce(cluster& c, int victim) {
    std::set<int> led;
    for (int p = 0; p < partitions; ++p) {
        if (c.state(p)->leader == node_id(victim)) {
            led.insert(p);
        }
    }
    ASSERT_FALSE(led.empty()) << "CreateTopics spreads preferred leaders over every broker";
    c.brokers[victim]->kill_now();
    ASSERT_TRUE(c.zk->wait_for([&] {
        for (int p : led) {
            if (c.state(p)->leader == node_id(victim)) {
                return false;
            }
        }
        return true;
    }, 60s)) << c.logs();
    c.brokers[victim]->restart();
    ASSERT_TRUE(c.zk->wait_for([&] {
        for (int p = 0; p < partitions; ++p) {
            auto s = c.state(p);
            if (!s || std::count(s->isr.begin(), s->isr.end(), node_id(victim)) == 0) {
                return false;
            }
        }
        return true;
    }, 90s)) << "broker " << victim << " did not rejoin every ISR\n" << c.logs();
}

TEST(controller_integration, preferred_leaders_come_back_by_themselves_after_a_restart) {
    cluster c({{"leader.imbalance.check.interval.seconds", "1"},
               {"replica.fetch.wait.max.ms", "100"}});
    node_id ctl = bring_up(c);
    ASSERT_TRUE(c.all_led_by_preferred()) << "a new topic starts on its preferred leaders";
    int victim = ctl() % 3 + 1;  // a plain broker: the controller and its timer stay
    ASSERT_NO_FATAL_FAILURE(bounce(c, victim));
    EXPECT_TRUE(c.zk->wait_for([&] { return c.all_led_by_preferred(); }, 90s)) << c.logs();
    EXPECT_TRUE(log_shows(c, ctl(), "reason=\"auto leader rebalance (broker " +
                                        std::to_string(victim) + " imbalance "))
        << c.brokers[ctl()]->log();
    EXPECT_TRUE(c.zk->wait_for([&] { return metadata_agrees(c, {1, 2, 3}, ctl); }, 60s))
        << disagreement;
}

TEST(controller_integration, preferred_replica_election_znode_moves_leaders_and_is_deleted) {
    cluster c({{"auto.leader.rebalance.enable", "false"}, {"replica.fetch.wait.max.ms", "100"}});
    node_id ctl = bring_up(c);
    int victim = ctl() % 3 + 1;
    ASSERT_NO_FATAL_FAILURE(bounce(c, victim));
    ASSERT_FALSE(c.all_led_by_preferred()) << "nothing moves leaders back by itself";
    const std::string path = "/admin/preferred_replica_election";
    ASSERT_EQ(c.zk->create(path, "{\"version\":1,\"partitions\":[{\"topic\""), "");
    ASSERT_TRUE(c.zk->wait_for([&] { return !c.zk->get(path).has_value(); }, 60s))
        << "a malformed request is deleted\n" << c.logs();
    EXPECT_FALSE(c.all_led_by_preferred());
    std::vector<model::topic_partition> all;
    for (int p = 0; p < partitions; ++p) {
        all.push_back({"t", model::partition_id(p)});
    }
    ASSERT_EQ(c.zk->create(path, coord::encode_partition_list(all)), "");
    EXPECT_TRUE(c.zk->wait_for(
        [&] { return !c.zk->get(path).has_value() && c.all_led_by_preferred(); }, 60s))
        << c.logs();
    EXPECT_TRUE(log_shows(c, ctl(), "reason=\"preferred replica election"))
        << c.brokers[ctl()]->log();
    EXPECT_TRUE(c.zk->wait_for([&] { return metadata_agrees(c, {1, 2, 3}, ctl); }, 60s))
        << disagreement;
}

}  // namespace
}  // namespace gregor::test
