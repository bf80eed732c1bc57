// Iteration over the v2 records of one batch's (decompressed) records section.
//
// Record layout: length varint (bytes after it), attributes int8, timestamp_delta varlong,
// offset_delta varint, key (varint length, -1 = null), value (same), header count varint,
// then per header a key (varint length, never null) and a value (varint length, -1 = null).
// The section is untrusted: every length is checked against the bytes that remain, each
// record's fields must fill its length exactly, and the section must hold exactly the
// header's record_count records with nothing after them. Views point into the caller's
// buffer, which must outlive them. Value types; any thread, one thread per reader.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "protocol/records/errc.h"

#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

namespace gregor::protocol {

struct record_header_view {
    std::string_view key;
    std::optional<bytes_view> value;
};

// The headers of one record, already validated by record_reader, parsed on iteration.
class record_header_range {
public:
    class iterator {
    public:
        using value_type = record_header_view;
        using difference_type = std::ptrdiff_t;

        iterator() = default;
        iterator(bytes_view rest, std::int32_t left) : rest_(rest), left_(left) { load(); }
        const record_header_view& operator*() const { return current_; }
        const record_header_view* operator->() const { return &current_; }
        iterator& operator++() {
            --left_;
            load();
            return *this;
        }
        iterator operator++(int) {
            iterator old = *this;
            ++*this;
            return old;
        }
        bool operator==(const iterator& other) const { return left_ == other.left_; }

    private:
        void load();

        bytes_view rest_;
        std::int32_t left_ = 0;
        record_header_view current_;
    };

    record_header_range() = default;
    // REQUIRES: `raw` holds exactly `count` well-formed headers (record_reader checked them).
    record_header_range(bytes_view raw, std::int32_t count) : raw_(raw), count_(count) {}

    iterator begin() const { return {raw_, count_}; }
    iterator end() const { return {}; }
    std::int32_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    bytes_view raw() const { return raw_; }

private:
    bytes_view raw_;
    std::int32_t count_ = 0;
};

struct record_view {
    std::int8_t attributes = 0;
    std::int64_t timestamp_delta = 0;
    std::int32_t offset_delta = 0;
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
    record_header_range headers;
    // The record's bytes on the wire, length prefix included.
    bytes_view wire;
};

class record_reader {
public:
    // `records`: the records section (after the 61-byte header, decompressed);
    // `record_count`: the batch header's count.
    record_reader(bytes_view records, std::int32_t record_count)
        : records_(records), expected_(record_count) {}

    // Returns the next record; nullopt once exactly record_count records were read and the
    // section is exhausted; an error for malformed bytes, a missing record or bytes left
    // over. After an error the reader keeps returning that error.
    result<std::optional<record_view>> next();

    std::int32_t records_read() const { return read_; }

private:
    // The hot path: no result<> or message formatting per record, only on failure.
    struct parsed {
        record_view view;
        records_errc error{};
    };
    parsed parse_one() const;

    bytes_view records_;
    std::size_t pos_ = 0;
    std::int32_t expected_;
    std::int32_t read_ = 0;
    std::optional<error> failed_;
};

// Reads every record of the section; returns the count iff all are well formed and there
// are exactly record_count of them.
result<std::int32_t> validate_records(bytes_view records, std::int32_t record_count);

}  // namespace gregor::protocol
