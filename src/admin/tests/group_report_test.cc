// Goal: `groups describe|list|reset-offsets|delete` show what kafka-consumer-groups.sh
// shows: members' partitions decoded from their ConsumerProtocolAssignment (and malformed
// bytes survived), the offsets table with lag and "-" for unknown cells and unassigned
// partitions, the members and state tables, Kafka's notes for empty, rebalancing and
// missing groups, and JSON with the same facts. Method: hand-built DescribeGroups responses
// and assignment bytes through the pure functions, compared with exact text.
#include "admin/group_report.h"
#include "protocol/messages/consumer_protocol.h"
#include "protocol/writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gregor::admin {
namespace {

using described_group = protocol::describe_groups_response::described_group;
using assignment = protocol::consumer_protocol_assignment;

bytes encode_assignment(std::int16_t version,
                        const std::vector<std::pair<std::string, std::vector<int>>>& topics) {
    assignment a;
    for (const auto& [name, parts] : topics) {
        assignment::topic_partition tp;
        tp.topic = name;
        for (int p : parts) {
            tp.partitions.push_back(model::partition_id{p});
        }
        a.assigned_partitions.push_back(std::move(tp));
    }
    protocol::writer w;
    w.write_int16(version);
    a.encode(w, std::min<std::int16_t>(version, assignment::version_max));
    return std::move(w).finish().flatten();
}

described_group::described_group_member member(const std::string& id, const bytes& assigned) {
    described_group::described_group_member m;
    m.member_id = id;
    m.client_id = "client-" + id.substr(0, 1);
    m.client_host = "/127.0.0.1";
    m.member_assignment = assigned;
    return m;
}

described_group stable_group() {
    described_group g;
    g.group_id = "g1";
    g.group_state = "Stable";
    g.protocol_type = "consumer";
    g.protocol_data = "range";
    g.members.push_back(member("a-1", encode_assignment(0, {{"t", {0}}})));
    g.members.push_back(member("b-2", encode_assignment(3, {{"t", {2, 1}}, {"u", {0}}})));
    return g;
}

const coordinator_info coordinator{2, "127.0.0.1", 19093};

TEST(group_assignment, decodes_every_version) {
    for (std::int16_t v = 0; v <= 3; ++v) {
        auto parts = decode_assignment(encode_assignment(v, {{"b", {1, 0}}, {"a", {7}}}));
        ASSERT_TRUE(parts) << v;
        EXPECT_EQ(*parts, (std::vector<topic_partition>{{"a", 7}, {"b", 0}, {"b", 1}})) << v;
    }
    // A newer version is read with the fields we know; what it appends is ignored.
    auto newer = encode_assignment(3, {{"t", {4}}});
    newer[1] = 9;
    newer.insert(newer.end(), {1, 2, 3});
    auto parts = decode_assignment(newer);
    ASSERT_TRUE(parts);
    EXPECT_EQ(*parts, (std::vector<topic_partition>{{"t", 4}}));
    EXPECT_TRUE(decode_assignment({})->empty()) << "a group that is not Stable sends none";
}

TEST(group_assignment, malformed_bytes_are_errors) {
    auto good = encode_assignment(1, {{"topic", {0, 1, 2}}});
    for (std::size_t cut = 1; cut + 4 < good.size(); ++cut) {  // user_data (4 bytes) is last
        bytes truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        EXPECT_FALSE(decode_assignment(truncated)) << "cut at " << cut;
    }
    EXPECT_FALSE(decode_assignment(bytes{0xff, 0xff, 0, 0, 0, 0}));  // version -1
    // A topic count of 2^31-1 with nothing behind it.
    EXPECT_FALSE(decode_assignment(bytes{0, 0, 0x7f, 0xff, 0xff, 0xff}));
    EXPECT_FALSE(decode_assignment(bytes{0}));
}

TEST(group_assignment, describe_view_keeps_members_with_bad_assignments) {
    auto g = stable_group();
    g.members.push_back(member("c-3", bytes{0, 0, 0, 0, 0, 9}));
    auto d = describe_view(g, coordinator);
    ASSERT_EQ(d.members.size(), 3u);
    EXPECT_EQ(d.members[1].assignment.size(), 3u);
    EXPECT_TRUE(d.members[2].assignment.empty());
    EXPECT_FALSE(d.members[2].assignment_error.empty());
    EXPECT_EQ(d.coordinator.port, 19093);
    g.protocol_type = "connect";  // not the consumer protocol: bytes are not decoded
    auto other = describe_view(g, coordinator);
    EXPECT_TRUE(other.members[1].assignment.empty());
    EXPECT_TRUE(other.members[2].assignment_error.empty());
}

group_report stable_report() {
    group_report r;
    r.description = describe_view(stable_group(), coordinator);
    r.committed = {{{"t", 0}, 5}, {{"t", 1}, 7}, {{"v", 3}, 1}};
    r.log_end = {{{"t", 0}, 10}, {{"t", 1}, 7}, {{"t", 2}, 4}, {{"v", 3}, 8}};
    return r;
}

TEST(group_offsets, rows_in_kafka_order_with_lag) {
    auto rows = offset_rows(stable_report());
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[0].consumer_id, "b-2") << "the member with more partitions first";
    EXPECT_EQ(rows[0].partition->to_string(), "t-1");
    EXPECT_EQ(rows[0].lag, 0);
    EXPECT_EQ(rows[1].partition->to_string(), "t-2");
    EXPECT_FALSE(rows[1].current) << "nothing committed";
    EXPECT_FALSE(rows[1].lag);
    EXPECT_EQ(rows[2].partition->to_string(), "u-0");
    EXPECT_FALSE(rows[2].log_end);
    EXPECT_EQ(rows[3].consumer_id, "a-1");
    EXPECT_EQ(rows[3].lag, 5);
    EXPECT_EQ(rows[4].partition->to_string(), "v-3");
    EXPECT_EQ(rows[4].consumer_id, "-") << "committed but assigned to nobody";
    EXPECT_EQ(rows[4].lag, 7);
}

TEST(group_offsets, kafka_table) {
    auto r = render_group_offsets(stable_report());
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out,
              "\n"
              "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  "
              "           CONSUMER-ID     HOST            CLIENT-ID\n"
              "g1              t               1          7               7               0    "
              "           b-2             /127.0.0.1      client-b\n"
              "g1              t               2          -               4               -    "
              "           b-2             /127.0.0.1      client-b\n"
              "g1              u               0          -               -               -    "
              "           b-2             /127.0.0.1      client-b\n"
              "g1              t               0          5               10              5    "
              "           a-1             /127.0.0.1      client-a\n"
              "g1              v               3          1               8               7    "
              "           -               -               -\n");
}

TEST(group_offsets, member_without_partitions_has_a_row_of_dashes) {
    group_report r;
    r.description = describe_view(stable_group(), coordinator);
    r.description.members[0].assignment.clear();
    r.description.members[1].assignment.clear();
    r.description.members[1].consumer_id = "a-very-long-consumer-id-0123456789";
    auto out = render_group_offsets(r).out;
    EXPECT_NE(out.find("CONSUMER-ID                        HOST"), std::string::npos) << out;
    EXPECT_NE(out.find("g1              -               -          -               -"),
              std::string::npos)
        << out;
}

TEST(group_offsets, notes_for_empty_rebalancing_and_missing_groups) {
    group_report empty;
    empty.description.group = "idle";
    empty.description.state = "Empty";
    empty.committed = {{{"t", 0}, 3}};
    auto e = render_group_offsets(empty);
    EXPECT_EQ(e.err, "\nConsumer group 'idle' has no active members.\n");
    EXPECT_NE(e.out.find("idle            t               0          3               -"),
              std::string::npos)
        << "the committed offsets are still shown: " << e.out;

    group_report dead;
    dead.description.group = "ghost";
    dead.description.state = "Dead";
    auto d = render_group_offsets(dead);
    EXPECT_EQ(d.err, "\nError: Consumer group 'ghost' does not exist.\n");
    EXPECT_EQ(d.out, "");
    EXPECT_FALSE(group_found(dead));
    EXPECT_EQ(render_group_members(dead, false).out, "");
    EXPECT_EQ(render_group_state(dead).out, "");

    auto moving = stable_report();
    moving.description.state = "PreparingRebalance";
    EXPECT_EQ(render_group_offsets(moving).err,
              "\nWarning: Consumer group 'g1' is rebalancing.\n");

    group_report failed;
    failed.description.group = "secret";
    failed.description.error_code = 30;  // GROUP_AUTHORIZATION_FAILED
    EXPECT_NE(render_group_offsets(failed).err.find("Group authorization failed."),
              std::string::npos);
    EXPECT_FALSE(group_found(failed));
}

TEST(group_members, table_and_verbose_assignment) {
    auto r = stable_report();
    r.description.members[0].instance_id = "static-1";
    EXPECT_EQ(render_group_members(r, false).out,
              "\n"
              "GROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       "
              "#PARTITIONS\n"
              "g1              a-1             static-1          /127.0.0.1      client-a        1\n"
              "g1              b-2             -                 /127.0.0.1      client-b        "
              "3\n");
    auto verbose = render_group_members(r, true).out;
    EXPECT_NE(verbose.find("#PARTITIONS     ASSIGNMENT\n"), std::string::npos) << verbose;
    EXPECT_NE(verbose.find("3               t(1,2),u(0)\n"), std::string::npos) << verbose;
    EXPECT_NE(verbose.find("1               t(0)\n"), std::string::npos) << verbose;

    group_report empty;
    empty.description.group = "idle";
    empty.description.state = "Empty";
    auto e = render_group_members(empty, false);
    EXPECT_EQ(e.out, "");
    EXPECT_EQ(e.err, "\nConsumer group 'idle' has no active members.\n");
}

TEST(group_state, table) {
    EXPECT_EQ(render_group_state(stable_report()).out,
              "\n"
              "GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                "
              "#MEMBERS\n"
              "g1              127.0.0.1:19093  (2)      range                Stable               "
              "2\n");
}

TEST(group_describe, json_has_members_and_offsets) {
    auto j = nlohmann::json::parse(render_group_describe_json({stable_report()}));
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["group"], "g1");
    EXPECT_EQ(j[0]["exists"], true);
    EXPECT_EQ(j[0]["state"], "Stable");
    EXPECT_EQ(j[0]["assignment_strategy"], "range");
    EXPECT_EQ(j[0]["coordinator"]["id"], 2);
    EXPECT_EQ(j[0]["members"][1]["partitions"], 3);
    EXPECT_EQ(j[0]["members"][1]["assignment"][2]["topic"], "u");
    ASSERT_EQ(j[0]["offsets"].size(), 5u);
    EXPECT_EQ(j[0]["offsets"][3]["lag"], 5);
    EXPECT_TRUE(j[0]["offsets"][1]["current_offset"].is_null());
    EXPECT_TRUE(j[0]["offsets"][4]["consumer_id"].is_null());
}

TEST(group_list, names_states_and_json) {
    std::vector<listed_group> groups{{"zeta", "Empty", "consumer", 1},
                                     {"alpha", "Stable", "consumer", 3},
                                     {"a-rather-long-group-name", "", "", 2}};
    EXPECT_EQ(render_group_list(groups, false, output_format::text),
              "a-rather-long-group-name\nalpha\nzeta\n");
    EXPECT_EQ(render_group_list(groups, true, output_format::text),
              "GROUP                    STATE\n"
              "a-rather-long-group-name -\n"
              "alpha                    Stable\n"
              "zeta                     Empty\n");
    auto j = nlohmann::json::parse(render_group_list(groups, false, output_format::json));
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[1]["group"], "alpha");
    EXPECT_EQ(j[1]["state"], "Stable");
    EXPECT_EQ(j[1]["coordinator"], 3);
    EXPECT_TRUE(j[0]["state"].is_null());
}

TEST(group_reset_plan, table_and_json) {
    std::vector<group_plan> plans{{"g", {{{"t", 0}, 0}, {{"t", 1}, 42}}}};
    EXPECT_EQ(render_reset_plan(plans, output_format::text),
              "\n"
              "GROUP                          TOPIC                          PARTITION  "
              "NEW-OFFSET\n"
              "g                              t                              0          0\n"
              "g                              t                              1          42\n");
    auto j = nlohmann::json::parse(render_reset_plan(plans, output_format::json));
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[1]["new_offset"], 42);
    EXPECT_EQ(j[1]["partition"], 1);
}

TEST(group_delete, kafka_messages) {
    auto ok = render_delete_groups({{"a", 0}, {"b", 0}}, output_format::text);
    EXPECT_EQ(ok.out, "Deletion of requested consumer groups ('a', 'b') was successful.\n");
    EXPECT_EQ(ok.err, "");
    auto some = render_delete_groups({{"a", 0}, {"busy", 68}, {"nope", 69}}, output_format::text);
    EXPECT_EQ(some.err, "\nError: Deletion of some consumer groups failed:\n");
    EXPECT_EQ(some.out,
              "* Group 'busy' could not be deleted due to: The group is not empty.\n"
              "* Group 'nope' could not be deleted due to: The group id does not exist.\n"
              "\nThese consumer groups were deleted successfully: 'a'\n");
    auto j = nlohmann::json::parse(
        render_delete_groups({{"a", 0}, {"busy", 68}}, output_format::json).out);
    EXPECT_EQ(j[0]["ok"], true);
    EXPECT_EQ(j[1]["error"], "NON_EMPTY_GROUP");
    EXPECT_EQ(j[1]["message"], "The group is not empty.");
}

}  // namespace
}  // namespace gregor::admin
