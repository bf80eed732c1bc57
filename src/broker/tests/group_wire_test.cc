// Goal: the membership APIs' per-version rules hold in the translation between the wire
// messages and group/messages.h: JoinGroup's client identity and its nullable-only-from-v7
// protocol name, LeaveGroup v0-v2 (one member, its error on top) against v3+, SyncGroup's
// v5 protocol fields, DescribeGroups' authorized operations and DeleteGroups' failures.
// Method: pure functions on hand-built messages; answers are encoded for their version (an
// encoding failure would close the client's connection) and decoded back. No service.
#include "broker/handlers/group_wire.h"

#include "broker/tests/wire_round_trip.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

using model::kafka_error;
namespace ip = net::asio::ip;

using test::round_trip;

// Kafka's wire code of an error.
std::int16_t err(kafka_error e) {
    return model::to_wire(e);
}

TEST(kafka_client_host, has_java_inet_address_forms) {
    EXPECT_EQ(kafka_client_host(ip::make_address("127.0.0.1")), "/127.0.0.1");
    EXPECT_EQ(kafka_client_host(ip::make_address("::1")), "/0:0:0:0:0:0:0:1");
    EXPECT_EQ(kafka_client_host(ip::make_address("2001:db8::ab:0")), "/2001:db8:0:0:0:0:ab:0");
    EXPECT_EQ(kafka_client_host(ip::make_address("::ffff:10.0.0.5")), "/10.0.0.5");
    EXPECT_EQ(kafka_client_host(ip::make_address("fe80::1%3")), "/fe80:0:0:0:0:0:0:1%3");
}

protocol::join_group_request join_body() {
    protocol::join_group_request req;
    req.group_id = "g";
    req.session_timeout_ms = 10000;
    req.rebalance_timeout_ms = 300000;
    req.member_id = "m-1";
    req.protocol_type = "consumer";
    req.protocols.push_back({"range", bytes{1, 2, 3}, {}});
    req.protocols.push_back({"roundrobin", bytes{4}, {}});
    return req;
}

TEST(join_group_wire, v0_uses_the_session_timeout_and_the_connection_identity) {
    auto req = join_body();
    req.rebalance_timeout_ms = -1;  // absent in v0
    group::join_request r = to_join_request(req, 0, "rdkafka", "/127.0.0.1");
    EXPECT_EQ(r.version, 0);
    EXPECT_EQ(r.group_id, "g");
    EXPECT_EQ(r.session_timeout_ms, 10000);
    EXPECT_EQ(r.rebalance_timeout_ms, 10000);
    EXPECT_EQ(r.member_id, "m-1");
    EXPECT_EQ(r.client_id, "rdkafka");
    EXPECT_EQ(r.client_host, "/127.0.0.1");
    ASSERT_EQ(r.protocols.size(), 2u);
    EXPECT_EQ(r.protocols[0], (group::member_protocol{"range", bytes{1, 2, 3}}));
    EXPECT_EQ(r.protocols[1].name, "roundrobin");
    EXPECT_FALSE(r.group_instance_id);
}

TEST(join_group_wire, v8_carries_instance_id_rebalance_timeout_and_reason) {
    auto req = join_body();
    req.group_instance_id = "i-1";
    req.reason = "rejoin";
    group::join_request r = to_join_request(req, 8, "java", "/10.0.0.1");
    EXPECT_EQ(r.rebalance_timeout_ms, 300000);
    EXPECT_EQ(r.group_instance_id, "i-1");
    EXPECT_EQ(r.reason, "rejoin");
}

group::join_response leader_answer() {
    group::join_response a;
    a.generation_id = 3;
    a.protocol_type = "consumer";
    a.protocol_name = "range";
    a.leader = "m-1";
    a.member_id = "m-1";
    a.skip_assignment = true;
    a.members.push_back({"m-1", "i-1", bytes{9}});
    return a;
}

TEST(join_group_wire, leader_answer_keeps_every_field_its_version_has) {
    auto v9 = round_trip(to_wire(leader_answer(), 9), 9);
    EXPECT_EQ(v9.generation_id, 3);
    EXPECT_EQ(v9.protocol_type, "consumer");
    EXPECT_EQ(v9.protocol_name, "range");
    EXPECT_TRUE(v9.skip_assignment);
    ASSERT_EQ(v9.members.size(), 1u);
    EXPECT_EQ(v9.members[0].group_instance_id, "i-1");
    EXPECT_EQ(v9.members[0].metadata, bytes{9});

    auto v2 = round_trip(to_wire(leader_answer(), 2), 2);
    EXPECT_EQ(v2.protocol_name, "range");
    EXPECT_EQ(v2.leader, "m-1");
    EXPECT_FALSE(v2.skip_assignment);  // not in v2
    ASSERT_EQ(v2.members.size(), 1u);
    EXPECT_FALSE(v2.members[0].group_instance_id);  // v5+
}

TEST(join_group_wire, error_without_protocol_is_empty_before_v7_and_null_from_v7) {
    auto failure = join_failure(kafka_error::coordinator_not_available, "m-7");
    auto v6 = round_trip(to_wire(failure, 6), 6);
    EXPECT_EQ(v6.error_code, err(kafka_error::coordinator_not_available));
    EXPECT_EQ(v6.protocol_name, "");
    EXPECT_EQ(v6.member_id, "m-7");
    EXPECT_EQ(v6.generation_id, -1);
    EXPECT_EQ(v6.leader, "");
    auto v7 = round_trip(to_wire(failure, 7), 7);
    EXPECT_FALSE(v7.protocol_name);
    EXPECT_FALSE(v7.protocol_type);
}

TEST(sync_group_wire, v5_protocol_fields_pass_both_ways_and_older_versions_encode) {
    protocol::sync_group_request req;
    req.group_id = "g";
    req.generation_id = 4;
    req.member_id = "m-1";
    req.group_instance_id = "i-1";
    req.protocol_type = "consumer";
    req.protocol_name = "range";
    req.assignments.push_back({"m-1", bytes{7, 7}, {}});
    group::sync_request r = to_sync_request(req, 5);
    EXPECT_EQ(r.version, 5);
    EXPECT_EQ(r.generation_id, 4);
    EXPECT_EQ(r.protocol_name, "range");
    ASSERT_EQ(r.assignments.size(), 1u);
    EXPECT_EQ(r.assignments[0].assignment, (bytes{7, 7}));

    group::sync_response a{kafka_error::none, "consumer", "range", bytes{1}};
    auto v5 = round_trip(to_wire(a, 5), 5);
    EXPECT_EQ(v5.protocol_name, "range");
    EXPECT_EQ(v5.assignment, bytes{1});
    auto v0 = round_trip(to_wire(group::sync_failure(kafka_error::rebalance_in_progress), 0), 0);
    EXPECT_EQ(v0.error_code, err(kafka_error::rebalance_in_progress));
    EXPECT_TRUE(v0.assignment.empty());
}

TEST(leave_group_wire, v0_to_v2_name_one_member_and_v3_a_list) {
    protocol::leave_group_request v1;
    v1.group_id = "g";
    v1.member_id = "m-1";
    group::leave_request r1 = to_leave_request(v1, 1);
    ASSERT_EQ(r1.members.size(), 1u);
    EXPECT_EQ(r1.members[0].member_id, "m-1");
    EXPECT_FALSE(r1.members[0].group_instance_id);

    protocol::leave_group_request v5;
    v5.group_id = "g";
    v5.members.push_back({"m-1", std::nullopt, "bye", {}});
    v5.members.push_back({"", "i-2", std::nullopt, {}});
    group::leave_request r5 = to_leave_request(v5, 5);
    ASSERT_EQ(r5.members.size(), 2u);
    EXPECT_EQ(r5.members[0].reason, "bye");
    EXPECT_EQ(r5.members[1].member_id, "");
    EXPECT_EQ(r5.members[1].group_instance_id, "i-2");
}

TEST(leave_group_wire, v0_to_v2_answer_with_the_member_error_on_top) {
    group::leave_response a;
    a.members.push_back({"m-1", std::nullopt, kafka_error::unknown_member_id});
    auto v0 = round_trip(to_wire(a, 0), 0);
    EXPECT_EQ(v0.error_code, err(kafka_error::unknown_member_id));
    EXPECT_TRUE(v0.members.empty());

    group::leave_response top;
    top.error = kafka_error::not_coordinator;
    EXPECT_EQ(round_trip(to_wire(top, 2), 2).error_code, err(kafka_error::not_coordinator));

    a.members.push_back({"", "i-2", kafka_error::none});
    auto v3 = round_trip(to_wire(a, 3), 3);
    EXPECT_EQ(v3.error_code, 0);
    ASSERT_EQ(v3.members.size(), 2u);
    EXPECT_EQ(v3.members[0].error_code, err(kafka_error::unknown_member_id));
    EXPECT_FALSE(v3.members[0].group_instance_id);
    EXPECT_EQ(v3.members[1].group_instance_id, "i-2");
}

TEST(heartbeat_wire, carries_identity) {
    group::heartbeat_request r = to_heartbeat_request({"g", 2, "m-1", "i-1", {}});
    EXPECT_EQ(r.group_id, "g");
    EXPECT_EQ(r.generation_id, 2);
    EXPECT_EQ(r.member_id, "m-1");
    EXPECT_EQ(r.group_instance_id, "i-1");
}

TEST(describe_groups_wire, members_and_authorized_operations_on_request) {
    group::described_group g;
    g.group_id = "g";
    g.state = "Stable";
    g.protocol_type = "consumer";
    g.protocol_data = "range";
    g.members.push_back({"m-1", "i-1", "rdkafka", "/127.0.0.1", bytes{1}, bytes{2}});
    auto with_ops = to_wire(g, true);
    EXPECT_EQ(with_ops.authorized_operations, 328);
    auto without = to_wire(g, false);
    EXPECT_EQ(without.authorized_operations, std::numeric_limits<std::int32_t>::min());
    protocol::describe_groups_response resp;
    resp.groups.push_back(without);
    auto v0 = round_trip(resp, 0);
    ASSERT_EQ(v0.groups.size(), 1u);
    ASSERT_EQ(v0.groups[0].members.size(), 1u);
    EXPECT_EQ(v0.groups[0].members[0].client_host, "/127.0.0.1");
    EXPECT_FALSE(v0.groups[0].members[0].group_instance_id);  // v4+
    EXPECT_EQ(v0.groups[0].members[0].member_assignment, bytes{2});

    auto failed = to_wire(describe_failure(kafka_error::coordinator_not_available, "h"), false);
    EXPECT_EQ(failed.error_code, err(kafka_error::coordinator_not_available));
    EXPECT_EQ(failed.group_id, "h");
    EXPECT_EQ(failed.group_state, "");
}

TEST(list_groups_wire, state_and_type_pass_through) {
    group::list_groups_response r;
    r.error = kafka_error::coordinator_load_in_progress;
    r.groups.push_back({"g", "consumer", "Stable", "classic"});
    auto v5 = round_trip(to_wire(r), 5);
    EXPECT_EQ(v5.error_code, err(kafka_error::coordinator_load_in_progress));
    ASSERT_EQ(v5.groups.size(), 1u);
    EXPECT_EQ(v5.groups[0].group_state, "Stable");
    EXPECT_EQ(v5.groups[0].group_type, "classic");
}

TEST(delete_groups_wire, failure_answers_each_distinct_group_once_in_order) {
    std::vector<std::string> ids{"b", "a", "b", ""};
    auto out = to_wire(delete_failure(kafka_error::coordinator_not_available, ids));
    ASSERT_EQ(out.results.size(), 3u);
    EXPECT_EQ(out.results[0].group_id, "b");
    EXPECT_EQ(out.results[1].group_id, "a");
    EXPECT_EQ(out.results[2].group_id, "");
    EXPECT_EQ(out.results[2].error_code, err(kafka_error::coordinator_not_available));
}

}  // namespace
}  // namespace gregor::broker
