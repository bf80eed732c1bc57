#include "group/records.h"

#include "base/assert.h"
#include "protocol/errc.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

#include <fmt/format.h>

namespace gregor::group {
namespace {

using protocol::errc;

bool flexible(std::int16_t version) {
    return version >= first_flexible_value_version;
}

result<bytes> finish(protocol::writer&& w) {
    if (!w.ok()) {
        return w.error();
    }
    protocol::wire_buffer out = std::move(w).finish();
    GREGOR_ASSERT(out.splices().empty(), "records never splice");
    return out.flatten();
}

// Ends a decode: the first reader error, else an error for bytes after the last field.
template <class T>
result<T> finish(const protocol::reader& r, T value) {
    if (!r.ok()) {
        return r.error();
    }
    if (r.remaining() != 0) {
        return gregor::error(errc::trailing_bytes,
                             fmt::format("{} bytes after the last field", r.remaining()));
    }
    return value;
}

result<void> check_value_version(std::int16_t version) {
    if (version < 0 || version > record_value_version_max) {
        return gregor::error(errc::unsupported_version,
                             fmt::format("record value version {}", version));
    }
    return {};
}

void skip_tagged_fields(protocol::reader& r) {
    std::vector<protocol::tagged_field> ignored;
    r.read_unknown_tags(ignored);
}

void encode_member(protocol::writer& w, const member_metadata_value& m, std::int16_t version) {
    const bool flex = flexible(version);
    w.write_string(m.member_id, flex);
    if (version >= 3) {
        w.write_nullable_string(m.group_instance_id, flex, true);
    }
    w.write_string(m.client_id, flex);
    w.write_string(m.client_host, flex);
    if (version >= 1) {
        w.write_int32(m.rebalance_timeout_ms);
    }
    w.write_int32(m.session_timeout_ms);
    w.write_bytes(m.subscription, flex);
    w.write_bytes(m.assignment, flex);
    if (flex) {
        w.write_unknown_tags({});
    }
}

void decode_member(protocol::reader& r, member_metadata_value& m, std::int16_t version) {
    const bool flex = flexible(version);
    m.member_id = r.read_string(flex);
    if (version >= 3) {
        m.group_instance_id = r.read_nullable_string(flex, true);
    }
    m.client_id = r.read_string(flex);
    m.client_host = r.read_string(flex);
    if (version >= 1) {
        m.rebalance_timeout_ms = r.read_int32();
    }
    m.session_timeout_ms = r.read_int32();
    if (version == 0) {
        m.rebalance_timeout_ms = m.session_timeout_ms;
    }
    m.subscription = r.read_bytes(flex);
    m.assignment = r.read_bytes(flex);
    if (flex) {
        skip_tagged_fields(r);
    }
}

}  // namespace

result<bytes> encode_offset_commit_key(const offset_commit_key& key, std::int16_t version) {
    GREGOR_ASSERT(version == 0 || version == 1, "offset commit key version {}", version);
    protocol::writer w(8 + key.group.size() + key.tp.topic.size());
    w.write_int16(version);
    w.write_string(key.group, false);
    w.write_string(key.tp.topic, false);
    w.write_int32(key.tp.partition());
    return finish(std::move(w));
}

result<bytes> encode_group_metadata_key(const group_metadata_key& key) {
    protocol::writer w(4 + key.group.size());
    w.write_int16(group_metadata_key_version);
    w.write_string(key.group, false);
    return finish(std::move(w));
}

std::int16_t offset_commit_value_version_for(const offset_commit_value& value) {
    return value.expire_timestamp ? offset_commit_value_version_with_expiry
                                  : offset_commit_value_version;
}

result<bytes> encode_offset_commit_value(const offset_commit_value& value) {
    return encode_offset_commit_value(value, offset_commit_value_version_for(value));
}

result<bytes> encode_offset_commit_value(const offset_commit_value& value, std::int16_t version) {
    GREGOR_ASSERT(version >= 0 && version <= record_value_version_max,
                  "offset commit value version {}", version);
    const bool flex = flexible(version);
    protocol::writer w(40 + value.metadata.size());
    w.write_int16(version);
    w.write_int64(value.offset());
    if (version >= 3) {
        w.write_int32(value.leader_epoch());
    }
    w.write_string(value.metadata, flex);
    w.write_int64(value.commit_timestamp());
    if (version == 1) {
        w.write_int64(value.expire_timestamp ? (*value.expire_timestamp)() : -1);
    }
    if (flex) {
        w.write_unknown_tags({});
    }
    return finish(std::move(w));
}

result<bytes> encode_group_metadata_value(const group_metadata_value& value) {
    return encode_group_metadata_value(value, group_metadata_value_version);
}

result<bytes> encode_group_metadata_value(const group_metadata_value& value,
                                          std::int16_t version) {
    GREGOR_ASSERT(version >= 0 && version <= record_value_version_max,
                  "group metadata value version {}", version);
    const bool flex = flexible(version);
    protocol::writer w(64);
    w.write_int16(version);
    w.write_string(value.protocol_type, flex);
    w.write_int32(value.generation);
    w.write_nullable_string(value.protocol, flex, true);
    w.write_nullable_string(value.leader, flex, true);
    if (version >= 2) {
        w.write_int64(value.current_state_timestamp());
    }
    w.write_array(value.members, flex,
                  [&](const member_metadata_value& m) { encode_member(w, m, version); });
    if (flex) {
        w.write_unknown_tags({});
    }
    return finish(std::move(w));
}

result<std::int16_t> decode_record_version(bytes_view data) {
    protocol::reader r(data);
    const std::int16_t version = r.read_int16();
    if (!r.ok()) {
        return r.error();
    }
    return version;
}

result<record_key> decode_record_key(bytes_view data) {
    protocol::reader r(data);
    const std::int16_t version = r.read_int16();
    if (!r.ok()) {
        return r.error();
    }
    if (version == 0 || version == 1) {
        offset_commit_key key;
        key.group = r.read_string(false);
        key.tp.topic = r.read_string(false);
        key.tp.partition = model::partition_id{r.read_int32()};
        return finish<record_key>(r, std::move(key));
    }
    if (version == group_metadata_key_version) {
        group_metadata_key key;
        key.group = r.read_string(false);
        return finish<record_key>(r, std::move(key));
    }
    return record_key{unknown_record_key{version}};
}

result<offset_commit_value> decode_offset_commit_value(bytes_view data) {
    protocol::reader r(data);
    const std::int16_t version = r.read_int16();
    if (!r.ok()) {
        return r.error();
    }
    GREGOR_TRY_VOID(check_value_version(version));
    const bool flex = flexible(version);
    offset_commit_value value;
    value.offset = model::offset{r.read_int64()};
    if (version >= 3) {
        value.leader_epoch = model::leader_epoch{r.read_int32()};
    }
    value.metadata = r.read_string(flex);
    value.commit_timestamp = model::timestamp_ms{r.read_int64()};
    if (version == 1) {
        const std::int64_t expire = r.read_int64();
        if (expire != -1) {
            value.expire_timestamp = model::timestamp_ms{expire};
        }
    }
    if (flex) {
        skip_tagged_fields(r);
    }
    return finish(r, std::move(value));
}

result<group_metadata_value> decode_group_metadata_value(bytes_view data) {
    protocol::reader r(data);
    const std::int16_t version = r.read_int16();
    if (!r.ok()) {
        return r.error();
    }
    GREGOR_TRY_VOID(check_value_version(version));
    const bool flex = flexible(version);
    group_metadata_value value;
    value.protocol_type = r.read_string(flex);
    value.generation = r.read_int32();
    value.protocol = r.read_nullable_string(flex, true);
    value.leader = r.read_nullable_string(flex, true);
    if (version >= 2) {
        value.current_state_timestamp = model::timestamp_ms{r.read_int64()};
    }
    r.read_array(value.members, flex,
                 [&](member_metadata_value& m) { decode_member(r, m, version); });
    if (flex) {
        skip_tagged_fields(r);
    }
    return finish(r, std::move(value));
}

}  // namespace gregor::group
