// Goal: the replica manager applies the controller's decisions with Kafka's fencing rules
// (controller epoch, broker epoch, per-partition leader epoch), creates logs for partitions
// it is assigned, wakes waiting fetches after appends, and refuses the replicas of a failed
// log dir.
// Method: a replica manager over a log manager on the in-memory file system.
#include "broker/replica_manager.h"

#include "storage/errc.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

using model::kafka_error;
using model::node_id;
using namespace std::chrono_literals;

struct replica_fixture : ::testing::Test {
    storage::test::memory_env env;
    storage::log_manager logs{
        env.ctx(), {"/data"}, [](const std::string&) { return storage::log_config{}; }};
    replica_manager rm{node_id(1), logs};
    model::timestamp_ms now{1000};

    void SetUp() override { ASSERT_TRUE(logs.load(now)); }

    partition_assignment assignment(int leader, int epoch, std::vector<int> replicas = {1}) {
        partition_assignment a;
        a.tp = {"t", model::partition_id(0)};
        a.leader = node_id(leader);
        a.leader_epoch = model::leader_epoch(epoch);
        for (int r : replicas) {
            a.replicas.push_back(node_id(r));
            a.isr.push_back(node_id(r));
        }
        return a;
    }
};

TEST_F(replica_fixture, refuses_controller_epochs_older_than_the_highest_seen) {
    auto none = model::no_broker_epoch;
    EXPECT_EQ(rm.check_control_request(model::controller_epoch(5), none, none), kafka_error::none);
    EXPECT_EQ(rm.check_control_request(model::controller_epoch(4), none, none),
              kafka_error::stale_controller_epoch);
    EXPECT_EQ(rm.check_control_request(model::controller_epoch(5), none, none), kafka_error::none);
    EXPECT_EQ(rm.controller_epoch(), model::controller_epoch(5));
}

TEST_F(replica_fixture, refuses_requests_meant_for_an_older_incarnation_of_the_broker) {
    model::broker_epoch ours(100);
    auto c = model::controller_epoch(1);
    EXPECT_EQ(rm.check_control_request(c, model::broker_epoch(99), ours),
              kafka_error::stale_broker_epoch);
    EXPECT_EQ(rm.check_control_request(c, model::no_broker_epoch, ours), kafka_error::none);
    EXPECT_EQ(rm.check_control_request(c, model::broker_epoch(100), ours), kafka_error::none);
    EXPECT_EQ(rm.check_control_request(c, model::broker_epoch(101), ours), kafka_error::none);
}

// A process restarted while its dead run's registration lingers is not registered yet: a
// request stamped with any broker epoch was meant for that earlier run (the controller's
// channel sends again once it has seen the new registration).
TEST_F(replica_fixture, refuses_epoch_stamped_requests_before_this_run_registered) {
    auto c = model::controller_epoch(1);
    EXPECT_EQ(rm.check_control_request(c, model::broker_epoch(99), model::no_broker_epoch),
              kafka_error::stale_broker_epoch);
    EXPECT_EQ(rm.check_control_request(c, model::no_broker_epoch, model::no_broker_epoch),
              kafka_error::none)
        << "a request without a broker epoch (older versions) is not fenced by it";
}

// A follower's parked fetch that lacks a partition this broker just began leading (with that
// follower as a replica) is to be answered early, for a second after the leadership began.
TEST_F(replica_fixture, a_fetch_lacking_a_new_leadership_is_flagged_for_a_second) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto with = [](bool has) { return [has](const model::topic_partition&) { return has; }; };
    EXPECT_FALSE(rm.lacks_recent_leadership(node_id(2), with(false), t0)) << "nothing led yet";
    ASSERT_EQ(rm.apply(assignment(1, 1, {1, 2}), now), kafka_error::none);
    EXPECT_TRUE(rm.lacks_recent_leadership(node_id(2), with(false), t0));
    EXPECT_FALSE(rm.lacks_recent_leadership(node_id(2), with(true), t0)) << "it fetches it";
    EXPECT_FALSE(rm.lacks_recent_leadership(node_id(3), with(false), t0)) << "not a replica";
    EXPECT_FALSE(rm.lacks_recent_leadership(node_id(2), with(false),
                                            t0 + replica_manager::recent_leadership_window + 1s))
        << "a second later the fetch waits as usual";
    ASSERT_EQ(rm.apply(assignment(2, 2, {1, 2}), now), kafka_error::none);
    EXPECT_FALSE(rm.lacks_recent_leadership(node_id(2), with(false), t0)) << "no longer leads";
}

TEST_F(replica_fixture, becoming_leader_creates_the_log) {
    EXPECT_EQ(rm.apply(assignment(1, 3), now), kafka_error::none);
    replication::partition* leading = rm.leader({"t", model::partition_id(0)});
    ASSERT_NE(leading, nullptr);
    EXPECT_EQ(logs.get({"t", model::partition_id(0)}), &leading->log());
    EXPECT_EQ(rm.partition({"t", model::partition_id(0)})->state().leader_epoch, model::leader_epoch(3));
}

TEST_F(replica_fixture, a_follower_has_no_leader_log) {
    EXPECT_EQ(rm.apply(assignment(2, 1, {2, 1}), now), kafka_error::none);
    EXPECT_EQ(rm.leader({"t", model::partition_id(0)}), nullptr);
    EXPECT_NE(rm.partition({"t", model::partition_id(0)}), nullptr);
}

TEST_F(replica_fixture, a_leader_epoch_that_is_not_newer_is_refused) {
    ASSERT_EQ(rm.apply(assignment(1, 3), now), kafka_error::none);
    EXPECT_EQ(rm.apply(assignment(2, 3, {2, 1}), now), kafka_error::stale_controller_epoch);
    EXPECT_EQ(rm.apply(assignment(2, 2, {2, 1}), now), kafka_error::stale_controller_epoch);
    EXPECT_NE(rm.leader({"t", model::partition_id(0)}), nullptr);  // unchanged
    EXPECT_EQ(rm.apply(assignment(2, 4, {2, 1}), now), kafka_error::none);
    EXPECT_EQ(rm.leader({"t", model::partition_id(0)}), nullptr);
}

TEST_F(replica_fixture, a_partition_not_assigned_to_this_broker_is_unknown) {
    EXPECT_EQ(rm.apply(assignment(2, 1, {2, 3}), now), kafka_error::unknown_topic_or_partition);
    EXPECT_EQ(rm.partition({"t", model::partition_id(0)}), nullptr);
}

TEST_F(replica_fixture, stop_replica_with_an_older_epoch_is_fenced_and_delete_removes_the_log) {
    model::topic_partition tp{"t", model::partition_id(0)};
    ASSERT_EQ(rm.apply(assignment(1, 3), now), kafka_error::none);
    EXPECT_EQ(rm.stop(tp, model::leader_epoch(2), true), kafka_error::fenced_leader_epoch);
    EXPECT_NE(rm.partition(tp), nullptr);
    EXPECT_EQ(rm.stop(tp, model::leader_epoch(3), true), kafka_error::none);
    EXPECT_EQ(rm.partition(tp), nullptr);
    EXPECT_EQ(logs.get(tp), nullptr);
}

TEST_F(replica_fixture, waiters_run_once_after_an_append_unless_cancelled) {
    int woken = 0;
    int cancelled = 0;
    rm.wait_for_change([&] { ++woken; });
    auto id = rm.wait_for_change([&] { ++cancelled; });
    rm.cancel_wait(id);
    rm.notify();
    rm.notify();
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(cancelled, 0);
}


// Kafka's log dir failure on the broker side: the replicas of a dead dir answer
// KAFKA_STORAGE_ERROR to LeaderAndIsr, and a missing log without isNew is never started
// empty elsewhere while a dir is offline (it may be in the dead one).
struct two_dir_fixture : ::testing::Test {
    storage::test::memory_env env;
    storage::log_manager logs{env.ctx(), {"/d1", "/d2"},
                              [](const std::string&) { return storage::log_config{}; }};
    replica_manager rm{node_id(1), logs};
    model::timestamp_ms now{1000};
    const model::topic_partition t0{"t", model::partition_id(0)};

    void SetUp() override {
        ASSERT_TRUE(logs.load(now));
        logs.set_dir_failure_listener(
            [this](const std::string&, const std::vector<model::topic_partition>& tps,
                   std::size_t) { rm.take_offline(tps); });
    }
    partition_assignment assignment(model::topic_partition tp, int epoch, bool is_new) {
        partition_assignment a;
        a.tp = std::move(tp);
        a.leader = node_id(1);
        a.leader_epoch = model::leader_epoch(epoch);
        a.replicas = {node_id(1), node_id(2)};
        a.isr = a.replicas;
        a.is_new = is_new;
        return a;
    }
};

TEST_F(two_dir_fixture, replicas_of_a_failed_dir_answer_storage_errors_and_stay_offline) {
    ASSERT_EQ(rm.apply(assignment(t0, 1, true), now), kafka_error::none);
    bool woken = false;
    rm.wait_for_change([&] { woken = true; });
    logs.fail_dir(0, error(storage::errc::io_error, "test"));
    env.drain();
    EXPECT_TRUE(woken) << "waiting produces and fetches re-check";
    EXPECT_EQ(rm.partition(t0), nullptr);
    EXPECT_TRUE(rm.offline(t0));
    EXPECT_EQ(rm.apply(assignment(t0, 2, true), now), kafka_error::kafka_storage_error);
    EXPECT_EQ(rm.apply(assignment(t0, 2, false), now), kafka_error::kafka_storage_error);
    EXPECT_EQ(logs.get(t0), nullptr) << "never re-created in the healthy dir";
}

TEST_F(two_dir_fixture, missing_log_without_is_new_is_refused_while_a_dir_is_offline) {
    logs.fail_dir(1, error(storage::errc::io_error, "test"));
    env.drain();
    const model::topic_partition t1{"t", model::partition_id(1)};
    EXPECT_EQ(rm.apply(assignment(t1, 1, false), now), kafka_error::kafka_storage_error);
    EXPECT_EQ(logs.get(t1), nullptr);
    EXPECT_EQ(rm.apply(assignment(t1, 1, true), now), kafka_error::none);
    EXPECT_NE(logs.get(t1), nullptr);
}

}  // namespace
}  // namespace gregor::broker
