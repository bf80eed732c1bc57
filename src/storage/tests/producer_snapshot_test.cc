// Goal: `.snapshot` files are Kafka's exact bytes (so Kafka's tools and ours read each
// other's), and a damaged file of any kind is refused whole, never half loaded, never a
// crash.
// Method: golden bytes worked out by hand from the layout in kafka-transactions.md §2.4
// (the CRC-32C computed separately with a bitwise implementation), round trips, one file
// per kind of damage, and a seeded loop of random mutations.
#include "storage/producer_snapshot.h"

#include "base/crc32c.h"
#include "storage/errc.h"
#include "storage/names.h"

#include <gtest/gtest.h>

#include <random>

namespace gregor::storage {
namespace {

// Producer 1, epoch 2, last batch sequences 5..9 at offsets 38..42, timestamp 1000,
// coordinator epoch -1, no open transaction.
const bytes golden = {
    0x00, 0x01,                                      // version 1
    0x3e, 0x03, 0x49, 0x2c,                          // CRC-32C of bytes [6, 56)
    0x00, 0x00, 0x00, 0x01,                          // one entry
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // producer id 1
    0x00, 0x02,                                      // epoch 2
    0x00, 0x00, 0x00, 0x09,                          // last sequence 9
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,  // last offset 42
    0x00, 0x00, 0x00, 0x04,                          // offset delta 4
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // timestamp 1000
    0xff, 0xff, 0xff, 0xff,                          // coordinator epoch -1
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // no transaction
};

producer_state golden_state() {
    producer_state s;
    producer_batch_info b;
    b.producer = model::producer_id(1);
    b.epoch = 2;
    b.base_sequence = 5;
    b.first_offset = model::offset(38);
    b.last_offset = model::offset(42);
    b.max_timestamp = model::timestamp_ms(1000);
    s.apply(b);
    return s;
}

result<std::vector<producer_entry>> decode_all(bytes_view data, std::int64_t end = 100) {
    std::vector<producer_entry> out;
    GREGOR_TRY(auto n, decode_producer_snapshot(data, model::offset(end),
                                                [&out](const producer_entry& e) { out.push_back(e); }));
    EXPECT_EQ(n, out.size());
    return out;
}

void expect_corrupt(const bytes& data, const char* why, std::int64_t end = 100) {
    std::size_t delivered = 0;
    auto r = decode_producer_snapshot(data, model::offset(end),
                                      [&delivered](const producer_entry&) { ++delivered; });
    ASSERT_FALSE(r) << why;
    EXPECT_EQ(r.err().code, make_error_code(errc::corrupt_snapshot)) << why;
    EXPECT_EQ(delivered, 0U) << why;
}

// Rewrites the CRC so that only the damage under test is left.
bytes with_crc(bytes data) {
    auto crc = crc32c(bytes_view(data).subspan(6));
    for (int i = 0; i < 4; ++i) {
        data[2 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
    }
    return data;
}

TEST(producer_snapshot, encodes_kafkas_exact_bytes) {
    EXPECT_EQ(encode_producer_snapshot(golden_state()), golden);
    // An empty state: the 10-byte header, CRC-32C of four zero bytes.
    EXPECT_EQ(encode_producer_snapshot(producer_state{}),
              (bytes{0x00, 0x01, 0x48, 0x67, 0x4b, 0xc7, 0x00, 0x00, 0x00, 0x00}));
    EXPECT_EQ(snapshot_file_name(model::offset(1234)), "00000000000000001234.snapshot");
    EXPECT_EQ(parse_snapshot_file_name("00000000000000001234.snapshot"), model::offset(1234));
    EXPECT_EQ(parse_snapshot_file_name("00000000000000001234.snapshot.tmp"), std::nullopt);
    EXPECT_EQ(parse_snapshot_file_name("0000000000000000123x.snapshot"), std::nullopt);
    EXPECT_EQ(parse_snapshot_file_name("1234.snapshot"), std::nullopt);
}

TEST(producer_snapshot, decodes_the_golden_file_into_its_last_batch) {
    auto entries = decode_all(golden);
    ASSERT_TRUE(entries) << entries.err().to_string();
    ASSERT_EQ(entries->size(), 1U);
    const auto& e = entries->front();
    EXPECT_EQ(e.id, model::producer_id(1));
    EXPECT_EQ(e.epoch, 2);
    EXPECT_EQ(e.last_timestamp, model::timestamp_ms(1000));
    EXPECT_EQ(e.coordinator_epoch, -1);
    EXPECT_FALSE(e.has_open_txn());
    ASSERT_EQ(e.batches().size(), 1U);
    EXPECT_EQ(e.batches()[0].first_sequence(), 5);
    EXPECT_EQ(e.batches()[0].last_sequence, 9);
    EXPECT_EQ(e.batches()[0].first_offset(), model::offset(38));
    EXPECT_EQ(e.batches()[0].last_offset, model::offset(42));
}

TEST(producer_snapshot, round_trips_entries_without_batches_and_with_transactions) {
    producer_state s = golden_state();
    producer_entry bare;
    bare.id = model::producer_id(7);
    bare.epoch = 5;
    bare.last_timestamp = model::timestamp_ms(-1);
    bare.coordinator_epoch = 12;
    bare.current_txn_first_offset = model::offset(40);
    s.load(bare);
    auto data = encode_producer_snapshot(s);
    ASSERT_EQ(data.size(), 10U + 2 * 46U);
    auto entries = decode_all(data);
    ASSERT_TRUE(entries) << entries.err().to_string();
    ASSERT_EQ(entries->size(), 2U);
    const auto& b = (*entries)[1];
    EXPECT_EQ(b.id, model::producer_id(7));
    EXPECT_EQ(b.epoch, 5);
    EXPECT_EQ(b.last_sequence(), -1);
    EXPECT_TRUE(b.batches().empty());
    EXPECT_EQ(b.coordinator_epoch, 12);
    EXPECT_EQ(b.current_txn_first_offset, model::offset(40));
    producer_state back;
    for (const auto& e : *entries) {
        back.load(e);
    }
    EXPECT_EQ(encode_producer_snapshot(back), data);
}

TEST(producer_snapshot, refuses_every_kind_of_damage) {
    expect_corrupt({}, "empty");
    expect_corrupt(bytes(golden.begin(), golden.begin() + 9), "short header");
    expect_corrupt(bytes(golden.begin(), golden.end() - 1), "short entry");
    auto longer = golden;
    longer.push_back(0);
    expect_corrupt(with_crc(longer), "trailing byte");
    auto v0 = golden;
    v0[1] = 0;
    expect_corrupt(v0, "version 0");
    auto v2 = golden;
    v2[1] = 2;
    expect_corrupt(v2, "version 2");
    auto crc = golden;
    crc[30] ^= 0x10;
    expect_corrupt(crc, "bad crc");
    auto count = golden;
    count[9] = 2;
    expect_corrupt(with_crc(count), "count above the entries");
    auto negative = golden;
    negative[6] = 0xff;
    expect_corrupt(with_crc(negative), "negative count");
}

TEST(producer_snapshot, refuses_insane_values_even_with_a_good_crc) {
    auto field = [](std::size_t at, std::initializer_list<std::uint8_t> v) {
        auto d = golden;
        std::copy(v.begin(), v.end(), d.begin() + static_cast<std::ptrdiff_t>(10 + at));
        return with_crc(d);
    };
    expect_corrupt(field(0, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "producer -1");
    expect_corrupt(field(10, {0xff, 0xff, 0xff, 0xfe}), "sequence -2");
    expect_corrupt(field(22, {0x00, 0x00, 0x00, 0x2b}), "delta beyond the first offset");
    expect_corrupt(field(22, {0xff, 0xff, 0xff, 0xff}), "negative delta");
    expect_corrupt(field(34, {0xff, 0xff, 0xff, 0xfe}), "coordinator epoch -2");
    expect_corrupt(field(38, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}), "txn -2");
    // No batch (offset -1) but a sequence.
    expect_corrupt(field(14, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
                   "sequence without a batch");
    // Any epoch is a value replication may have recorded from a batch header.
    auto odd_epoch = decode_all(field(8, {0xff, 0xfe}));
    ASSERT_TRUE(odd_epoch);
    EXPECT_EQ(odd_epoch->front().epoch, -2);
    // Offsets must lie below the offset the file is named for.
    expect_corrupt(golden, "batch at the snapshot offset", 42);
    EXPECT_TRUE(decode_all(golden, 43));
}

TEST(producer_snapshot, random_damage_never_crashes_nor_half_loads) {
    producer_state s;
    for (int i = 0; i < 20; ++i) {
        producer_batch_info b;
        b.producer = model::producer_id(i * 7);
        b.epoch = static_cast<std::int16_t>(i % 3);
        b.base_sequence = i * 11;
        b.first_offset = model::offset(i * 10);
        b.last_offset = model::offset(i * 10 + 4);
        b.max_timestamp = model::timestamp_ms(5000 + i);
        s.apply(b);
    }
    auto good = encode_producer_snapshot(s);
    std::mt19937_64 rng(7);
    for (int round = 0; round < 2000; ++round) {
        auto d = good;
        auto flips = 1 + rng() % 4;
        for (std::uint64_t f = 0; f < flips; ++f) {
            d[rng() % d.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
        }
        if (round % 3 == 0) {
            d.resize(rng() % (d.size() + 1));
        }
        if (round % 5 == 0) {
            d = with_crc(d.size() >= 6 ? d : good);
        }
        std::size_t delivered = 0;
        auto r = decode_producer_snapshot(d, model::offset(1000),
                                          [&delivered](const producer_entry&) { ++delivered; });
        EXPECT_EQ(r ? *r : 0U, delivered) << "round " << round;
    }
}

}  // namespace
}  // namespace gregor::storage
