#include "group/loader.h"

#include "base/assert.h"
#include "group/logger.h"
#include "protocol/errc.h"
#include "protocol/records/batch_records.h"

#include <fmt/format.h>

#include <chrono>
#include <type_traits>
#include <variant>

namespace gregor::group {
namespace {

// The control record key: int16 version (>= 0; newer versions are read as v0), int16 type.
enum class control_type { abort, commit, other, invalid };

control_type parse_control_key(const std::optional<bytes_view>& key) {
    if (!key || key->size() < 4) {
        return control_type::invalid;
    }
    const auto version = static_cast<std::int16_t>(((*key)[0] << 8) | (*key)[1]);
    const auto type = static_cast<std::int16_t>(((*key)[2] << 8) | (*key)[3]);
    if (version < 0) {
        return control_type::invalid;
    }
    if (type == 0) {
        return control_type::abort;
    }
    return type == 1 ? control_type::commit : control_type::other;
}

constexpr auto corrupt_log_interval = std::chrono::seconds(10);

}  // namespace

struct offsets_loader::record_context {
    const model::record_batch_header& header;
    model::offset batch_offset;  // the offset of the batch's first record
    model::offset record_offset;
};

std::vector<std::string> load_result::offsets_only_groups() const {
    std::vector<std::string> out;
    for (std::string& group : offsets.group_ids()) {
        if (!groups.contains(group)) {
            out.push_back(std::move(group));
        }
    }
    return out;
}

offsets_loader::offsets_loader(offsets_config config, std::size_t batch_bytes_max,
                               std::size_t decompressed_bytes_max)
    : batch_bytes_max_(batch_bytes_max),
      decompressed_bytes_max_(decompressed_bytes_max),
      out_{offset_store(config), {}, {}, {}, model::offset{0}, std::nullopt} {
    GREGOR_ASSERT(batch_bytes_max >= model::batch_header_bytes, "batch limit {}", batch_bytes_max);
}

result<std::size_t> offsets_loader::feed(bytes_view data) {
    if (out_.error) {
        return *out_.error;
    }
    model::batch_reader reader(data, batch_bytes_max_, model::count_rule::at_most);
    for (;;) {
        const std::size_t position = reader.position();
        auto entry = reader.next(true);
        if (entry.has_error()) {
            if (entry.code() == model::batch_errc::truncated) {
                return position;  // a partial batch at the end: wait for the rest
            }
            out_.error = entry.err();
            break;
        }
        if (!entry->has_value()) {
            return reader.position();
        }
        auto replayed = replay_batch(**entry);
        if (replayed.has_error()) {
            out_.error = replayed.err();
            break;
        }
    }
    GREGOR_LOG(group_log, err, "offsets load stopped at offset {}: {}", out_.next_offset(),
               out_.error->to_string());
    return *out_.error;
}

result<void> offsets_loader::replay_batch(const model::batch_reader::entry& entry) {
    const model::record_batch_header& header = entry.header;
    GREGOR_TRY(protocol::batch_records batch,
               protocol::batch_records::open(header, entry.bytes, decompressed_bytes_max_));
    // Framing is checked before anything is applied, so a batch counts whole or not at all.
    GREGOR_TRY_VOID(protocol::validate_records(batch.section(), header.record_count));
    ++out_.stats.batches;
    protocol::record_reader records = batch.records();
    std::optional<model::offset> first;
    for (auto next = records.next(); next.has_value() && next->has_value();
         next = records.next()) {
        const protocol::record_view& record = **next;
        if (header.is_control()) {
            replay_control(header, record);
            break;  // a control batch holds one record
        }
        const model::offset offset = batch.offset_of(record);
        first = first.value_or(offset);
        replay_record(record_context{header, *first, offset}, record);
    }
    out_.next_offset = header.last_offset() + 1;
    return {};
}

void offsets_loader::replay_control(const model::record_batch_header& header,
                                    const protocol::record_view& record) {
    ++out_.stats.control_batches;
    const control_type type = parse_control_key(record.key);
    if (type == control_type::invalid) {
        ++out_.stats.corrupt_records;
        GREGOR_LOG_RATE_LIMITED(group_log, err, corrupt_log_interval,
                                "offsets load: bad control record key at batch {}",
                                header.base_offset());
        return;
    }
    out_.offsets.complete_txn(header.producer, type == control_type::commit);
}

void offsets_loader::replay_record(const record_context& ctx, const protocol::record_view& record) {
    if (!record.key) {
        count_corrupt(ctx, gregor::error(protocol::errc::unexpected_null, "record without key"));
        return;
    }
    auto key = decode_record_key(*record.key);
    if (key.has_error()) {
        count_corrupt(ctx, key.err());
        return;
    }
    std::visit(
        [&](const auto& k) {
            using K = std::decay_t<decltype(k)>;
            if constexpr (std::is_same_v<K, offset_commit_key>) {
                replay_offset_record(ctx, k, record.value);
            } else if constexpr (std::is_same_v<K, group_metadata_key>) {
                replay_group_record(k, record.value);
            } else {
                ++out_.stats.unknown_key_records;
                GREGOR_LOG_RATE_LIMITED(group_log, warn, corrupt_log_interval,
                                        "offsets load: skipping record with key version {} at {}",
                                        k.version, ctx.record_offset());
            }
        },
        *key);
}

void offsets_loader::replay_offset_record(const record_context& ctx, const offset_commit_key& key,
                                          const std::optional<bytes_view>& value) {
    const bool txn = ctx.header.is_transactional();
    if (!value) {
        ++out_.stats.offset_tombstones;
        if (txn) {
            out_.offsets.replay_txn_tombstone(ctx.header.producer, key.group, key.tp);
        } else {
            out_.offsets.replay_tombstone(key.group, key.tp);
        }
        return;
    }
    auto decoded = decode_offset_commit_value(*value);
    if (decoded.has_error()) {
        count_corrupt(ctx, decoded.err());
        return;
    }
    ++out_.stats.offset_records;
    const committed_offset committed{std::move(decoded).value(), ctx.batch_offset};
    if (txn) {
        out_.offsets.stage_txn_offset(ctx.header.producer, key.group, key.tp, committed);
    } else {
        out_.offsets.replay_offset(key.group, key.tp, committed);
    }
}

void offsets_loader::replay_group_record(const group_metadata_key& key,
                                         const std::optional<bytes_view>& value) {
    if (!value) {
        ++out_.stats.group_tombstones;
        out_.groups.erase(key.group);
        out_.removed_groups.insert(key.group);
        return;
    }
    auto decoded = decode_group_metadata_value(*value);
    if (decoded.has_error()) {
        ++out_.stats.corrupt_records;
        GREGOR_LOG_RATE_LIMITED(group_log, err, corrupt_log_interval,
                                "offsets load: skipping group record of {}: {}", key.group,
                                decoded.err().to_string());
        return;
    }
    ++out_.stats.group_records;
    out_.removed_groups.erase(key.group);
    out_.groups.insert_or_assign(key.group, std::move(decoded).value());
}

void offsets_loader::count_corrupt(const record_context& ctx, const gregor::error& error) {
    ++out_.stats.corrupt_records;
    GREGOR_LOG_RATE_LIMITED(group_log, err, corrupt_log_interval,
                            "offsets load: skipping corrupt record at {}: {}",
                            ctx.record_offset(), error.to_string());
}

load_result offsets_loader::finish() && {
    return std::move(out_);
}

load_result load_offsets_partition(bytes_view log, offsets_config config,
                                   std::size_t batch_bytes_max,
                                   std::size_t decompressed_bytes_max) {
    offsets_loader loader(config, batch_bytes_max, decompressed_bytes_max);
    auto fed = loader.feed(log);
    load_result out = std::move(loader).finish();
    if (fed.has_value() && *fed != log.size() && !out.error) {
        out.error = gregor::error(model::batch_errc::truncated,
                                  fmt::format("{} bytes after the last whole batch",
                                              log.size() - *fed));
    }
    return out;
}

}  // namespace gregor::group
