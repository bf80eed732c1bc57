// Test helper: the header and records of one record batch, decoded for assertions.
#pragma once

#include "base/bytes.h"
#include "model/record_batch.h"
#include "protocol/records/batch_records.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace gregor::group::testing {

struct record_contents {
    bytes key;
    std::optional<bytes> value;
    model::timestamp_ms timestamp;
};

struct batch_contents {
    model::record_batch_header header;
    std::vector<record_contents> records;
};

// REQUIRES (asserted by gtest): `batch` is one valid batch.
inline batch_contents read_batch(bytes_view batch) {
    batch_contents out;
    auto header = model::validate_batch(batch, 1 << 24, model::count_rule::exact);
    EXPECT_TRUE(header.has_value());
    if (!header.has_value()) {
        return out;
    }
    out.header = *header;
    auto opened = protocol::batch_records::open(*header, batch, 1 << 24);
    EXPECT_TRUE(opened.has_value());
    if (!opened.has_value()) {
        return out;
    }
    protocol::record_reader reader = opened->records();
    for (auto r = reader.next(); r.has_value() && r->has_value(); r = reader.next()) {
        const protocol::record_view& v = **r;
        record_contents c;
        if (v.key) {
            c.key.assign(v.key->begin(), v.key->end());
        }
        if (v.value) {
            c.value = bytes(v.value->begin(), v.value->end());
        }
        c.timestamp = opened->timestamp_of(v);
        out.records.push_back(std::move(c));
    }
    return out;
}

}  // namespace gregor::group::testing
