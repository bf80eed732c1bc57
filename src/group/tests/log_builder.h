// Test helper: an in-memory `__consumer_offsets` log, batches appended with offsets
// assigned as the log would (base offset = the next offset; the CRC does not cover it).
#pragma once

#include "base/bytes.h"
#include "group/record_batches.h"
#include "model/record_batch.h"
#include "protocol/records/batch_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gregor::group::testing {

class log_builder {
public:
    // Appends a whole batch; returns its base offset.
    model::offset append(bytes batch) {
        auto header = model::parse_batch_header(batch, batch.size());
        EXPECT_TRUE(header.has_value());
        const model::offset base = next_;
        model::set_base_offset(batch, base);
        next_ = base + header->last_offset_delta + 1;
        log_.insert(log_.end(), batch.begin(), batch.end());
        return base;
    }
    model::offset commit(const std::string& group, const std::string& topic, std::int32_t p,
                         std::int64_t offset, std::optional<txn_producer> producer = {}) {
        offset_commit_value v;
        v.offset = model::offset{offset};
        v.commit_timestamp = model::timestamp_ms{1};
        const offset_record r[] = {{{topic, model::partition_id{p}}, v}};
        return append(*build_offset_commit_batch(group, r, model::timestamp_ms{1}, {}, producer));
    }
    model::offset tombstone(const std::string& group, const std::string& topic, std::int32_t p) {
        const offset_commit_key k[] = {{group, {topic, model::partition_id{p}}}};
        return append(*build_tombstone_batch(k, std::nullopt, model::timestamp_ms{1}, {}));
    }
    // A transaction marker: COMMIT (type 1) or ABORT (type 0).
    model::offset marker(model::producer_id producer, bool commit) {
        const bytes key = {0, 0, 0, static_cast<std::uint8_t>(commit ? 1 : 0)};
        const bytes value = {0, 0, 0, 0, 0, 0};
        protocol::record_input r;
        r.key = bytes_view(key);
        r.value = bytes_view(value);
        r.timestamp = model::timestamp_ms{1};
        protocol::batch_options o;
        o.producer = producer;
        o.producer_epoch = 0;
        o.transactional = true;
        o.control = true;
        return append(*protocol::build_batch(std::span(&r, 1), o));
    }
    // A plain batch of raw records (key, value) for malformed-record cases.
    model::offset raw(const std::vector<std::pair<std::optional<bytes>, std::optional<bytes>>>& kv,
                      model::compression_type compression = model::compression_type::none) {
        std::vector<protocol::record_input> records;
        for (const auto& [k, v] : kv) {
            protocol::record_input r;
            if (k) {
                r.key = bytes_view(*k);
            }
            if (v) {
                r.value = bytes_view(*v);
            }
            records.push_back(r);
        }
        protocol::batch_options o;
        o.compression = compression;
        return append(*protocol::build_batch(records, o));
    }

    const bytes& bytes_of() const { return log_; }
    bytes& mutable_bytes() { return log_; }
    model::offset next() const { return next_; }

private:
    bytes log_;
    model::offset next_{0};
};

}  // namespace gregor::group::testing
