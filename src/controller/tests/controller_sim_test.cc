// Goal: under random broker deaths, restarts, session expiries and delayed, reordered or lost
// controller requests, the controller keeps Kafka's safety rules: at most one controller per
// epoch, epochs only grow, every partition leader is in its ISR (unclean election is off),
// leader epochs only grow, and no broker applies a request from an older controller epoch;
// and once the faults stop, every partition has a live leader again.
// Method: seeded runs of sim_cluster (3-5 brokers, the real controller and registration on
// the in-memory ZooKeeper). GREGOR_SIM_SEEDS sets how many seeds run (default 400);
// GREGOR_SIM_SEED=N runs only seed N, which is how a failure printed below reproduces.
#include "controller/tests/sim_cluster.h"

#include "base/log.h"
#include "coord/znode_paths.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

namespace gregor::controller::sim {
namespace {

using model::node_id;
using model::partition_id;

struct invariants {
    std::int64_t last_epoch = 0;
    std::map<model::topic_partition, model::leader_epoch> leader_epochs;

    // Returns a description of the first broken rule, or "" when all hold.
    std::string check(sim_cluster& c, const std::vector<model::topic_partition>& parts) {
        if (!c.double_activation.empty()) {
            return c.double_activation;
        }
        for (auto& n : c.nodes) {
            // Every request a broker applied came from the one controller of its epoch: a
            // zombie's requests (an older epoch) were refused, none used an epoch not its own.
            for (const auto& [epoch, from] : n->model.applied) {
                auto owner = c.activations.find(epoch);
                if (owner == c.activations.end() || owner->second != from) {
                    return fmt::format("broker {} applied a request of broker {} in epoch {}, "
                                       "which {} won",
                                       n->id(), from(), epoch(),
                                       owner == c.activations.end() ? -1 : owner->second());
                }
            }
        }
        if (auto e = c.ensemble.peek("/controller_epoch")) {
            std::int64_t now = std::stoll(e->data);
            if (now < last_epoch) {
                return "controller epoch went back";
            }
            last_epoch = now;
        }
        for (const auto& tp : parts) {
            auto s = c.zk_state(tp.topic, tp.partition());
            if (!s) {
                continue;
            }
            bool in_isr = std::find(s->isr.begin(), s->isr.end(), s->leader) != s->isr.end();
            if (s->leader != model::no_node && !in_isr) {
                return fmt::format("{}: leader {} not in ISR", tp, s->leader());
            }
            auto& seen = leader_epochs[tp];
            if (s->leader_epoch < seen) {
                return fmt::format("{}: leader epoch went back", tp);
            }
            seen = s->leader_epoch;
        }
        return "";
    }
};

std::vector<model::topic_partition> create_topics(sim_cluster& c, int brokers) {
    std::vector<model::topic_partition> parts;
    for (int t = 0; t < 2; ++t) {
        coord::replica_map a;
        int rf = 1 + static_cast<int>(c.rng() % static_cast<std::uint64_t>(std::min(3, brokers)));
        for (int p = 0; p < 4; ++p) {
            std::vector<node_id> replicas;
            int first = static_cast<int>(c.rng() % static_cast<std::uint64_t>(brokers));
            for (int r = 0; r < rf; ++r) {
                replicas.push_back(node_id((first + r) % brokers + 1));
            }
            a[partition_id(p)] = replicas;
            parts.push_back({"t" + std::to_string(t), partition_id(p)});
        }
        c.create_topic_znode("t" + std::to_string(t), a);
    }
    return parts;
}

// One random fault or delivery step.
void step(sim_cluster& c, int brokers) {
    std::vector<int> alive;
    std::vector<int> dead;
    for (auto& n : c.nodes) {
        (n->alive ? alive : dead).push_back(n->id());
    }
    auto pick = [&](const std::vector<int>& from) {
        return from[static_cast<std::size_t>(c.rng() % from.size())];
    };
    switch (c.rng() % 8) {
    case 0:
        if (alive.size() > 1) {
            c.kill(pick(alive));
        }
        break;
    case 1:
        if (!dead.empty()) {
            c.restart(pick(dead));
        }
        break;
    case 2:
        c.expire(pick(alive));
        break;
    case 3:
        c.net.drop_all();
        break;
    case 4:
        c.settle();  // requests stay in flight: delivered late, after other events
        break;
    default:
        c.run(true);  // deliver in random order until quiet
        break;
    }
    (void)brokers;
}

std::string run_seed(std::uint64_t seed) {
    int brokers = 3 + static_cast<int>(seed % 3);
    sim_cluster c(brokers, seed);
    c.run();
    auto parts = create_topics(c, brokers);
    c.run(true);
    invariants inv;
    for (int i = 0; i < 40; ++i) {
        step(c, brokers);
        if (auto broken = inv.check(c, parts); !broken.empty()) {
            return broken + " after step " + std::to_string(i);
        }
    }
    // Faults stop: everyone comes back.
    for (auto& n : c.nodes) {
        if (!n->alive) {
            c.restart(n->id());
        }
    }
    c.run(true);
    if (auto broken = inv.check(c, parts); !broken.empty()) {
        return broken + " after recovery";
    }
    if (c.active_controllers().size() != 1) {
        return "no single controller after recovery";
    }
    for (const auto& tp : parts) {
        auto s = c.zk_state(tp.topic, tp.partition());
        if (!s || s->leader == model::no_node) {
            return fmt::format("{} has no leader after recovery", tp);
        }
    }
    return "";
}

TEST(controller_sim, safety_holds_under_random_faults_and_liveness_after_them) {
    log_set_level("error");  // thousands of elections: keep the output readable
    std::uint64_t first = 0;
    std::uint64_t count = 400;
    if (const char* one = std::getenv("GREGOR_SIM_SEED")) {
        first = std::strtoull(one, nullptr, 10);
        count = 1;
    } else if (const char* n = std::getenv("GREGOR_SIM_SEEDS")) {
        count = std::strtoull(n, nullptr, 10);
    }
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        std::string broken = run_seed(seed);
        ASSERT_EQ(broken, "") << "seed " << seed << " (rerun: GREGOR_SIM_SEED=" << seed << ")";
    }
}

}  // namespace
}  // namespace gregor::controller::sim
