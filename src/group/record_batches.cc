#include "group/record_batches.h"

#include "base/assert.h"
#include "protocol/records/batch_builder.h"

#include <vector>

namespace gregor::group {
namespace {

protocol::batch_options options_for(const batch_settings& settings,
                                    const std::optional<txn_producer>& producer) {
    protocol::batch_options o;
    o.compression = settings.compression;
    o.ts_type = model::timestamp_type::create_time;
    if (producer) {
        o.producer = producer->id;
        o.producer_epoch = producer->epoch;
        o.base_sequence = 0;  // unchecked: the coordinator is the origin
        o.transactional = true;
    }
    return o;
}

void add(protocol::batch_builder& builder, const bytes& key, const std::optional<bytes>& value,
         model::timestamp_ms now) {
    protocol::record_input r;
    r.key = bytes_view(key);
    if (value) {
        r.value = bytes_view(*value);
    }
    r.timestamp = now;
    builder.add(r);
}

}  // namespace

result<bytes> build_offset_commit_batch(std::string_view group,
                                        std::span<const offset_record> records,
                                        model::timestamp_ms now, const batch_settings& settings,
                                        std::optional<txn_producer> producer) {
    GREGOR_ASSERT(!records.empty(), "an offset commit batch without records");
    protocol::batch_builder builder(options_for(settings, producer));
    offset_commit_key key{std::string(group), {}};
    for (const offset_record& r : records) {
        key.tp = r.tp;
        GREGOR_TRY(bytes k, encode_offset_commit_key(key));
        GREGOR_TRY(bytes v, encode_offset_commit_value(r.value));
        add(builder, k, v, now);
    }
    return builder.build();
}

result<bytes> build_group_metadata_batch(std::string_view group,
                                         const group_metadata_value& value,
                                         model::timestamp_ms now, const batch_settings& settings) {
    protocol::batch_builder builder(options_for(settings, std::nullopt));
    GREGOR_TRY(bytes k, encode_group_metadata_key(group_metadata_key{std::string(group)}));
    GREGOR_TRY(bytes v, encode_group_metadata_value(value));
    add(builder, k, v, now);
    return builder.build();
}

result<bytes> build_tombstone_batch(std::span<const offset_commit_key> offsets,
                                    const std::optional<group_metadata_key>& group_key,
                                    model::timestamp_ms now, const batch_settings& settings) {
    GREGOR_ASSERT(!offsets.empty() || group_key, "a tombstone batch without tombstones");
    protocol::batch_builder builder(options_for(settings, std::nullopt));
    for (const offset_commit_key& key : offsets) {
        GREGOR_TRY(bytes k, encode_offset_commit_key(key));
        add(builder, k, std::nullopt, now);
    }
    if (group_key) {
        GREGOR_TRY(bytes k, encode_group_metadata_key(*group_key));
        add(builder, k, std::nullopt, now);
    }
    return builder.build();
}

}  // namespace gregor::group
