// Goal: the group APIs work through dispatch with a real group service in the versions no
// client on this machine sends: a Java-style consumer on flexible versions (JoinGroup v9
// with MEMBER_ID_REQUIRED, SyncGroup v5, Heartbeat v4, OffsetCommit v9, OffsetFetch v9,
// DescribeGroups v5, ListGroups v5, LeaveGroup v5, DeleteGroups v2), an old client joining
// in one round (JoinGroup v0) and committing with v0, OffsetFetch v0's and v1's answers, and
// NOT_COORDINATOR in each version's place once the offsets partition is resigned.
// Method: request frames through dispatch() on an io_context the test runs; the group
// service writes `__consumer_offsets` into an in-memory offsets_log. The service's timers
// are real (the initial rebalance delay is 0, and its deadline lies 1 ms ahead), so a
// parked JoinGroup is awaited by running the loop until it answers, with a bound.
#include "broker/dispatch.h"
#include "broker/tests/broker_parts.h"
#include "group/service.h"
#include "protocol/messages/all.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using model::kafka_error;
using model::node_id;
using model::partition_id;

constexpr std::int16_t err(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

model::timestamp_ms wall_clock() {
    auto since = std::chrono::system_clock::now().time_since_epoch();
    return model::timestamp_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(since).count());
}

// `__consumer_offsets` in memory: batches get consecutive offsets and are acknowledged on
// the loop after the call, as a high watermark would pass them.
class memory_offsets_log : public group::offsets_log {
public:
    explicit memory_offsets_log(asio::io_context& ioc) : ioc_(ioc) {}

    void append(model::partition_id /*p*/, bytes batch, bool /*wait_for_isr*/,
                std::chrono::milliseconds /*timeout*/, append_done done) override {
        // A v2 batch: base offset at byte 0, last offset delta at byte 23 (big-endian).
        std::int64_t base = next_;
        for (int i = 0; i < 8; ++i) {
            batch[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(base >> (56 - 8 * i));
        }
        std::int64_t delta = 0;
        for (std::size_t i = 23; i < 27; ++i) {
            delta = (delta << 8) | batch[i];
        }
        next_ = base + delta + 1;
        ++appended_;
        asio::post(ioc_, [done = std::move(done), base] {
            done({kafka_error::none, model::offset(base)});
        });
    }
    result<chunk> read(model::partition_id, model::offset, std::size_t) override {
        return chunk{{}, model::offset(next_)};  // loads start empty in these tests
    }
    result<model::offset> log_start_offset(model::partition_id) override {
        return model::offset(0);
    }
    int appended() const { return appended_; }

private:
    asio::io_context& ioc_;
    std::int64_t next_ = 0;
    int appended_ = 0;
};

group::service_config service_settings() {
    group::service_config c;
    c.groups.initial_rebalance_delay = std::chrono::milliseconds(0);
    c.offsets_topic_partitions = 1;  // every group on partition 0
    return c;
}

struct group_dispatch_fixture : ::testing::Test, test::broker_parts {
    memory_offsets_log offsets_log{ioc};
    int uuids = 0;
    group::group_service groups{ioc, service_settings(), offsets_log, wall_clock,
                                [this] { return "uuid-" + std::to_string(++uuids); }};
    services svc{.config = config,
                 .ioc = ioc,
                 .cache = cache,
                 .replicas = rm,
                 .cluster_id = "cluster-x",
                 .now = wall_clock,
                 .groups = &groups};
    std::int32_t correlation = 0;

    void SetUp() override {
        ASSERT_TRUE(logs.load(model::timestamp_ms(0)));
        cached_partition led;
        led.leader = node_id(1);
        cache.update_partition("t", partition_id(0), led);
        groups.start();
        groups.became_leader(partition_id(0), model::leader_epoch(1));
        ASSERT_TRUE(
            run_until([&] { return groups.status_of("g") == group::partition_status::owned; }));
    }
    void TearDown() override { groups.stop(); }

    // Runs the loop until `done` holds, at most 5 s (the service's timers are real).
    bool run_until(const std::function<bool()>& done) { return test::run_until(ioc, done); }

    template <class Api>
    typename Api::response_type call(const typename Api::request_type& body, std::int16_t version) {
        auto peer = net::tcp::endpoint(net::asio::ip::make_address("10.1.2.3"), 5555);
        auto out = test::dispatch_until_answered(
            ioc, svc, test::request_of<Api>(body, version, ++correlation, "java-client", peer));
        EXPECT_TRUE(out.has_value()) << Api::name << " never answered";
        EXPECT_TRUE(out && out->what() == net::reply::kind::send);
        return out && out->what() == net::reply::kind::send ? decode<Api>(*out, version)
                                                            : typename Api::response_type{};
    }

    template <class Api>
    static typename Api::response_type decode(const net::reply& r, std::int16_t version) {
        bytes flat;
        for (const auto& seg : r.body().segments()) {
            if (const auto* b = std::get_if<bytes>(&seg)) {
                flat.insert(flat.end(), b->begin(), b->end());
            } else {
                bytes_view v = std::get<net::external_span>(seg).view;
                flat.insert(flat.end(), v.begin(), v.end());
            }
        }
        reader rd(flat);
        EXPECT_TRUE(decode_response_header(rd, response_header_version(Api::key, version)));
        auto body = Api::response_type::decode(rd, version);
        EXPECT_TRUE(body) << body.err().to_string();
        return body ? std::move(*body) : typename Api::response_type{};
    }

    join_group_request join_body(std::string member_id) const {
        join_group_request req;
        req.group_id = "g";
        req.session_timeout_ms = 10000;
        req.rebalance_timeout_ms = 30000;
        req.member_id = std::move(member_id);
        req.protocol_type = "consumer";
        req.protocols.push_back({"range", bytes{1, 2}, {}});
        return req;
    }

    offset_commit_request commit_body(std::int32_t generation, std::string member) const {
        using partition =
            offset_commit_request::offset_commit_request_topic::offset_commit_request_partition;
        offset_commit_request req;
        req.group_id = "g";
        req.generation_id_or_member_epoch = generation;
        req.member_id = std::move(member);
        partition p{partition_id(0),
                    model::offset(42),
                    model::leader_epoch(3),
                    model::timestamp_ms(-1),
                    "x",
                    {}};
        req.topics.push_back({"t", {p}, {}});
        req.topics.push_back({"nope", {p}, {}});
        return req;
    }
};

TEST_F(group_dispatch_fixture, java_consumer_on_flexible_versions) {
    auto first = call<join_group_api>(join_body(""), 9);
    ASSERT_EQ(first.error_code, err(kafka_error::member_id_required));
    const std::string m = first.member_id;
    ASSERT_FALSE(m.empty());
    auto joined = call<join_group_api>(join_body(m), 9);
    ASSERT_EQ(joined.error_code, 0);
    EXPECT_EQ(joined.generation_id, 1);
    EXPECT_EQ(joined.protocol_type, "consumer");
    EXPECT_EQ(joined.protocol_name, "range");
    EXPECT_EQ(joined.leader, m);
    ASSERT_EQ(joined.members.size(), 1u);

    sync_group_request sync{"g", 1, m, std::nullopt, "consumer", "range", {{m, bytes{7}, {}}}, {}};
    auto synced = call<sync_group_api>(sync, 5);
    EXPECT_EQ(synced.error_code, 0);
    EXPECT_EQ(synced.protocol_name, "range");
    EXPECT_EQ(synced.assignment, bytes{7});
    EXPECT_EQ(call<heartbeat_api>({"g", 1, m, std::nullopt, {}}, 4).error_code, 0);

    auto committed = call<offset_commit_api>(commit_body(1, m), 9);
    ASSERT_EQ(committed.topics.size(), 2u);
    EXPECT_EQ(committed.topics[0].partitions[0].error_code, 0);
    EXPECT_EQ(committed.topics[1].partitions[0].error_code,
              err(kafka_error::unknown_topic_or_partition));
    offset_fetch_request fetch;
    fetch.groups.push_back({"g", m, -1, std::nullopt, {}});
    fetch.require_stable = true;
    auto fetched = call<offset_fetch_api>(fetch, 9);
    ASSERT_EQ(fetched.groups.size(), 1u);
    ASSERT_EQ(fetched.groups[0].topics.size(), 1u);
    const auto& p = fetched.groups[0].topics[0].partitions.at(0);
    EXPECT_EQ(p.committed_offset, model::offset(42));
    EXPECT_EQ(p.committed_leader_epoch, model::leader_epoch(3));
    EXPECT_EQ(p.metadata, "x");

    auto described = call<describe_groups_api>({{"g"}, true, {}}, 5);
    ASSERT_EQ(described.groups.size(), 1u);
    EXPECT_EQ(described.groups[0].group_state, "Stable");
    EXPECT_EQ(described.groups[0].authorized_operations, 328);
    ASSERT_EQ(described.groups[0].members.size(), 1u);
    EXPECT_EQ(described.groups[0].members[0].client_id, "java-client");
    EXPECT_EQ(described.groups[0].members[0].client_host, "/10.1.2.3");
    auto listed = call<list_groups_api>({}, 5);
    ASSERT_EQ(listed.groups.size(), 1u);
    EXPECT_EQ(listed.groups[0].group_state, "Stable");
    EXPECT_EQ(listed.groups[0].group_type, "classic");

    auto non_empty = call<delete_groups_api>({{"g"}, {}}, 2);
    EXPECT_EQ(non_empty.results.at(0).error_code, err(kafka_error::non_empty_group));
    leave_group_request leave;
    leave.group_id = "g";
    leave.members.push_back({m, std::nullopt, "done", {}});
    auto left = call<leave_group_api>(leave, 5);
    EXPECT_EQ(left.error_code, 0);
    ASSERT_EQ(left.members.size(), 1u);
    EXPECT_EQ(left.members[0].error_code, 0);
    EXPECT_EQ(call<delete_groups_api>({{"g"}, {}}, 2).results.at(0).error_code, 0);
    auto after = call<offset_fetch_api>(fetch, 9);
    EXPECT_TRUE(after.groups.at(0).topics.empty());
}

TEST_F(group_dispatch_fixture, old_clients_join_in_one_round_and_commit_with_v0) {
    auto joined = call<join_group_api>(join_body(""), 0);
    ASSERT_EQ(joined.error_code, 0);
    EXPECT_FALSE(joined.member_id.empty());
    EXPECT_EQ(joined.leader, joined.member_id);
    EXPECT_EQ(joined.members.size(), 1u);
    // v0 commits as generation -1 without a member: refused while the group has members.
    auto refused = call<offset_commit_api>(commit_body(7, "ignored"), 0);
    EXPECT_EQ(refused.topics.at(0).partitions.at(0).error_code,
              err(kafka_error::unknown_member_id));
    auto left = call<leave_group_api>({"g", "someone-else", {}, {}}, 0);
    EXPECT_EQ(left.error_code, err(kafka_error::unknown_member_id));
    EXPECT_TRUE(left.members.empty());
    EXPECT_EQ(call<leave_group_api>({"g", joined.member_id, {}, {}}, 1).error_code, 0);
    auto accepted = call<offset_commit_api>(commit_body(7, "ignored"), 0);
    EXPECT_EQ(accepted.topics.at(0).partitions.at(0).error_code, 0);

    offset_fetch_request fetch;
    fetch.group_id = "g";
    fetch.topics.emplace();
    fetch.topics->push_back({"t", {partition_id(0), partition_id(1)}, {}});
    auto v0 = call<offset_fetch_api>(fetch, 0);
    const auto& parts = v0.topics.at(0).partitions;
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].committed_offset, model::offset(42));
    EXPECT_EQ(parts[0].metadata, "");
    EXPECT_EQ(parts[1].error_code, err(kafka_error::unknown_topic_or_partition));
    auto v1 = call<offset_fetch_api>(fetch, 1);
    EXPECT_EQ(v1.topics.at(0).partitions.at(0).metadata, "x");
    EXPECT_EQ(v1.topics.at(0).partitions.at(1).committed_offset, model::no_offset);
    EXPECT_EQ(v1.topics.at(0).partitions.at(1).error_code, 0);
}

TEST_F(group_dispatch_fixture, a_resigned_partition_is_not_coordinator_in_each_shape) {
    groups.resigned(partition_id(0), model::leader_epoch(2));
    constexpr std::int16_t not_coordinator = err(kafka_error::not_coordinator);
    offset_fetch_request fetch;
    fetch.group_id = "g";
    fetch.topics.emplace();
    fetch.topics->push_back({"t", {partition_id(0)}, {}});
    auto v1 = call<offset_fetch_api>(fetch, 1);
    EXPECT_EQ(v1.topics.at(0).partitions.at(0).error_code, not_coordinator);
    EXPECT_EQ(v1.topics.at(0).partitions.at(0).committed_offset, model::no_offset);
    auto v3 = call<offset_fetch_api>(fetch, 3);
    EXPECT_EQ(v3.error_code, not_coordinator);
    EXPECT_TRUE(v3.topics.empty());
    auto commit = call<offset_commit_api>(commit_body(-1, ""), 9);
    EXPECT_EQ(commit.topics.at(0).partitions.at(0).error_code, not_coordinator);
    EXPECT_EQ(call<join_group_api>(join_body(""), 9).error_code, not_coordinator);
    EXPECT_EQ(call<leave_group_api>({"g", "m", {}, {}}, 2).error_code, not_coordinator);
    EXPECT_EQ(offsets_log.appended(), 0);
}

}  // namespace
}  // namespace gregor::broker
