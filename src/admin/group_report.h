// Pure views of consumer groups for `gregor groups ...`: a member's assignment decoded from
// its ConsumerProtocolAssignment bytes, the rows of kafka-consumer-groups.sh's tables, and
// their text and JSON renderings. Text output keeps Kafka's columns and messages, so that
// operators (and their scripts) read it the same way; JSON carries the same facts.
// Pure functions; any thread.
#pragma once

#include "admin/group_model.h"
#include "admin/report.h"
#include "base/bytes.h"
#include "base/result.h"
#include "protocol/messages/describe_groups.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gregor::admin {

// The partitions in a member's ConsumerProtocolAssignment (int16 version, then the v0-v3
// struct; a newer version is read as v3, its extra fields ignored). Empty bytes are an
// empty assignment (members of a group that is not Stable). Sorted, without duplicates.
// errc::bad_response for a negative version or bytes that do not hold an assignment.
result<std::vector<topic_partition>> decode_assignment(std::span<const std::uint8_t> data);

// One group of a DescribeGroups response. Members' assignments are decoded when the
// protocol type is "consumer"; a malformed one leaves the member without partitions and
// says why in assignment_error.
group_description describe_view(const protocol::describe_groups_response::described_group& g,
                                const coordinator_info& coordinator);

// A row of the offsets table. No partition (nullopt) for a member without partitions;
// consumer "-" for a committed partition that no member is assigned.
struct offset_row {
    std::optional<topic_partition> partition;
    std::optional<std::int64_t> current;
    std::optional<std::int64_t> log_end;
    std::optional<std::int64_t> lag;
    std::string consumer_id = "-";
    std::string host = "-";
    std::string client_id = "-";
};
// Kafka's row order: members with more partitions first, each member's partitions in
// order, members without partitions, then committed partitions nobody is assigned.
std::vector<offset_row> offset_rows(const group_report& g);

// What a text rendering prints on stdout and on stderr (Kafka's notes about empty,
// rebalancing and missing groups go to stderr, as kafka-consumer-groups.sh prints them);
// the caller prints `err` first.
struct rendered {
    std::string out;
    std::string err;
};

// The text views of one group, each a table after a blank line, with Kafka's column
// widths. A group that does not exist (Dead) or that has nothing to show has no table,
// only its note.
// `groups describe` (--offsets, the default): GROUP TOPIC PARTITION CURRENT-OFFSET
// LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID.
rendered render_group_offsets(const group_report& g);
// `groups describe --members [--verbose]`: GROUP CONSUMER-ID GROUP-INSTANCE-ID HOST
// CLIENT-ID #PARTITIONS [ASSIGNMENT].
rendered render_group_members(const group_report& g, bool verbose);
// `groups describe --state`: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS.
rendered render_group_state(const group_report& g);
// Returns true iff the group exists and was described without an error.
bool group_found(const group_report& g);
// `groups describe --format json`: [{group, state, protocol_type, assignment_strategy,
// coordinator, members, offsets}] whatever view was asked.
std::string render_group_describe_json(const std::vector<group_report>& groups);

// `groups list`: group ids, or GROUP STATE with `with_state`; JSON [{group, state,
// protocol_type, coordinator}]. Sorted by group id.
std::string render_group_list(std::vector<listed_group> groups, bool with_state, output_format f);

// `groups reset-offsets`: GROUP TOPIC PARTITION NEW-OFFSET per group, or JSON
// [{group, topic, partition, new_offset}].
struct group_plan {
    std::string group;
    std::vector<planned_offset> offsets;
};
std::string render_reset_plan(const std::vector<group_plan>& plans, output_format f);

// The outcome of deleting one group (DeleteGroups) or one partition's offset
// (OffsetDelete): Kafka's error code, 0 on success.
struct delete_outcome {
    std::string group;
    std::int16_t error_code = 0;
};
// Kafka's summary: "Deletion of requested consumer groups ('a', 'b') was successful." or
// "Deletion of some consumer groups failed:" with one "* Group 'g' could not be deleted due
// to: <message>" line each (on stderr), then the ones that went; JSON [{group, ok, error,
// message}].
rendered render_delete_groups(const std::vector<delete_outcome>& outcomes, output_format f);

// Kafka's description of an error code ("The group is not empty."), else its name.
std::string kafka_error_message(std::int16_t code);

}  // namespace gregor::admin
