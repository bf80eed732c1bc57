// The records the group coordinator keeps in `__consumer_offsets`, as values.
//
// These mirror Kafka's internal record schemas field for field (OffsetCommitKey/Value,
// GroupMetadataKey/Value; kafka-messages/internal/), so a group written by gregor reads back
// in Kafka's tools and brokers and the other way round. The group state machine produces and
// consumes these values; group/records.cc encodes and decodes their bytes.
//
// Byte layout (Kafka's "version-prefixed" records): int16 version, then the fields in schema
// order. Versions 0-3 use the classic encoding (STRING = int16 length + UTF-8, BYTES = int32
// length, ARRAY = int32 count, -1 = null); version 4 of both values is flexible (compact
// lengths as unsigned varint length + 1, a tagged-field section after each struct). Kafka
// 3.8 writes offset key v1, group key v2, offset value v3 (v1 when an explicit expire
// timestamp exists) and group value v3; it reads every value version 0-4 and skips keys of
// any other version (3-8 are KIP-848 consumer-group records). gregor does the same.
//
// Decoders take untrusted bytes (the log, a follower's fetch): every length is checked
// against the bytes left before anything is allocated, and failures are protocol::errc
// values (truncated, bad_length, unexpected_null, invalid_utf8, bad_tagged_fields,
// unsupported_version, trailing_bytes). Unlike Kafka's generated readers, which ignore bytes
// after the last field and replace ill-formed UTF-8, gregor rejects both: Kafka never writes
// them, so they only come from corruption. Tagged fields of v4 are skipped.
//
// Value types and pure functions; any thread.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gregor::group {

// Key of an offset commit record (key version 0 or 1; Kafka 3.x writes 1).
struct offset_commit_key {
    std::string group;
    model::topic_partition tp;

    auto operator<=>(const offset_commit_key&) const = default;
};

// Value of an offset commit record (OffsetCommitValue v0..v4).
struct offset_commit_value {
    model::offset offset{0};
    model::leader_epoch leader_epoch = model::no_leader_epoch;  // v3+; -1 = none
    std::string metadata;
    model::timestamp_ms commit_timestamp{0};
    // v1 only: an explicit expiry (OffsetCommit v2..v4 with a retention time).
    std::optional<model::timestamp_ms> expire_timestamp;

    bool operator==(const offset_commit_value&) const = default;
};

// Key of a group metadata record (key version 2).
struct group_metadata_key {
    std::string group;

    auto operator<=>(const group_metadata_key&) const = default;
};

// One member in a group metadata record (GroupMetadataValue.MemberMetadata).
struct member_metadata_value {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v3+
    std::string client_id;
    std::string client_host;
    std::int32_t rebalance_timeout_ms = 0;  // v1+ (v0: equal to the session timeout)
    std::int32_t session_timeout_ms = 0;
    bytes subscription;  // the member's metadata for the selected protocol
    bytes assignment;    // what the leader assigned it (empty when none)

    bool operator==(const member_metadata_value&) const = default;
};

// Value of a group metadata record (GroupMetadataValue v0..v4).
struct group_metadata_value {
    std::string protocol_type;  // "" for a group without a type
    std::int32_t generation = 0;
    std::optional<std::string> protocol;  // the selected protocol; none when Empty
    std::optional<std::string> leader;    // the leader's member id; none when Empty
    // v2+: when the group entered its current state; -1 = unknown.
    model::timestamp_ms current_state_timestamp{-1};
    std::vector<member_metadata_value> members;

    bool operator==(const group_metadata_value&) const = default;
};

// Record versions.
inline constexpr std::int16_t offset_commit_key_version = 1;    // written (0 is read too)
inline constexpr std::int16_t group_metadata_key_version = 2;
inline constexpr std::int16_t offset_commit_value_version = 3;  // written normally
inline constexpr std::int16_t offset_commit_value_version_with_expiry = 1;
inline constexpr std::int16_t group_metadata_value_version = 3;  // written
inline constexpr std::int16_t record_value_version_max = 4;      // read up to here
inline constexpr std::int16_t first_flexible_value_version = 4;
// KIP-848 consumer-group records (written by Kafka's new coordinator, KRaft only).
inline constexpr std::int16_t consumer_group_key_version_min = 3;
inline constexpr std::int16_t consumer_group_key_version_max = 8;

// The key of a record the classic coordinator does not read; the loader skips it.
struct unknown_record_key {
    std::int16_t version = 0;

    // Iff a KIP-848 consumer-group record (key versions 3..8).
    bool is_consumer_group_record() const {
        return version >= consumer_group_key_version_min &&
               version <= consumer_group_key_version_max;
    }
    auto operator<=>(const unknown_record_key&) const = default;
};

using record_key = std::variant<offset_commit_key, group_metadata_key, unknown_record_key>;

// Encoders. They fail (protocol::errc::value_too_large) only for a string longer than the
// 32767 bytes a classic STRING holds, which only a group id from a flexible request can be.
// REQUIRES: version is 0 or 1.
result<bytes> encode_offset_commit_key(const offset_commit_key& key,
                                       std::int16_t version = offset_commit_key_version);
result<bytes> encode_group_metadata_key(const group_metadata_key& key);
// The value version Kafka 3.8 writes: 1 iff an expire timestamp is set, else 3.
std::int16_t offset_commit_value_version_for(const offset_commit_value& value);
result<bytes> encode_offset_commit_value(const offset_commit_value& value);
// Encodes in `version`, dropping the fields it lacks (as Kafka drops "ignorable" fields).
// REQUIRES: 0 <= version <= record_value_version_max.
result<bytes> encode_offset_commit_value(const offset_commit_value& value, std::int16_t version);
result<bytes> encode_group_metadata_value(const group_metadata_value& value);
// REQUIRES: 0 <= version <= record_value_version_max.
result<bytes> encode_group_metadata_value(const group_metadata_value& value,
                                          std::int16_t version);

// The int16 version at the front of a key or value; truncated iff fewer than 2 bytes.
result<std::int16_t> decode_record_version(bytes_view data);
// An offset commit key (v0, v1), a group metadata key (v2) or any other version as
// unknown_record_key (whose remaining bytes are not looked at).
result<record_key> decode_record_key(bytes_view data);
// Any value version 0..4; v1's expire timestamp -1 reads as none, v0's rebalance timeout as
// the session timeout, absent fields as their defaults (leader epoch -1, state time -1).
result<offset_commit_value> decode_offset_commit_value(bytes_view data);
result<group_metadata_value> decode_group_metadata_value(bytes_view data);

}  // namespace gregor::group
