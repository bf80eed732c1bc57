// Test helpers: builds uncompressed record batch v2 bytes (so storage tests do not depend on
// the records library), and a small fixture of memory file system + manual worker/executor.
#pragma once

#include "base/bytes.h"
#include "base/crc32c.h"
#include "model/fundamental.h"
#include "model/record_batch.h"
#include "storage/io_worker.h"
#include "storage/log.h"
#include "storage/memory_file_system.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gregor::storage::test {

inline void put_be(bytes& out, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

inline void put_varint(bytes& out, std::int64_t v) {
    auto z = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
    while (z >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(z | 0x80));
        z >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(z));
}

struct batch_spec {
    int records = 1;
    std::size_t value_bytes = 10;
    std::int64_t timestamp = 1000;
    std::int64_t base_offset = 0;
    std::int32_t epoch = -1;
    std::uint8_t fill = 'x';
    // Idempotent producer fields (-1: none) and raw attributes (0x20: control).
    std::int64_t producer_id = -1;
    std::int16_t producer_epoch = -1;
    std::int32_t base_sequence = -1;
    std::uint16_t attributes = 0;
};

// One v2 batch: `records` records with `value_bytes`-byte values, timestamps
// timestamp..timestamp+records-1, CRC set.
inline bytes make_batch(const batch_spec& s) {
    bytes recs;
    for (int i = 0; i < s.records; ++i) {
        bytes r;
        r.push_back(0);     // attributes
        put_varint(r, i);   // timestamp delta
        put_varint(r, i);   // offset delta
        put_varint(r, -1);  // null key
        put_varint(r, static_cast<std::int64_t>(s.value_bytes));
        r.insert(r.end(), s.value_bytes, s.fill);
        put_varint(r, 0);  // headers
        put_varint(recs, static_cast<std::int64_t>(r.size()));
        recs.insert(recs.end(), r.begin(), r.end());
    }
    bytes b;
    put_be(b, static_cast<std::uint64_t>(s.base_offset), 8);
    put_be(b, static_cast<std::uint32_t>(49 + recs.size()), 4);
    put_be(b, static_cast<std::uint32_t>(s.epoch), 4);
    b.push_back(2);
    put_be(b, 0, 4);  // crc, set below
    put_be(b, s.attributes, 2);
    put_be(b, static_cast<std::uint32_t>(s.records - 1), 4);
    put_be(b, static_cast<std::uint64_t>(s.timestamp), 8);
    put_be(b, static_cast<std::uint64_t>(s.timestamp + s.records - 1), 8);
    put_be(b, static_cast<std::uint64_t>(s.producer_id), 8);
    put_be(b, static_cast<std::uint16_t>(s.producer_epoch), 2);
    put_be(b, static_cast<std::uint32_t>(s.base_sequence), 4);
    put_be(b, static_cast<std::uint32_t>(s.records), 4);
    b.insert(b.end(), recs.begin(), recs.end());
    auto crc = crc32c(bytes_view(b).subspan(model::batch_crc_start));
    for (int i = 0; i < 4; ++i) {
        b[17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
    }
    return b;
}

// Everything a log needs, in memory, with nothing running until the test says so.
struct memory_env {
    // Declaration order matters: the worker (whose jobs use fs and exec) goes first.
    memory_file_system fs;
    std::unique_ptr<manual_executor> exec = std::make_unique<manual_executor>();
    std::unique_ptr<io_worker> worker = std::make_unique<io_worker>(io_worker::mode::manual);
    log_context ctx() { return log_context{&fs, worker.get(), exec->get(), {}, {}, {}}; }
    // Runs queued worker jobs and their completions until both are idle.
    void drain() {
        while (worker->run_pending() + exec->run_pending() > 0) {
        }
    }
    // Power loss: unsynced bytes go (per `mode`), queued jobs and completions vanish.
    // REQUIRES: every log using this env was destroyed first.
    void crash(crash_mode mode, std::mt19937_64& rng) {
        worker = std::make_unique<io_worker>(io_worker::mode::manual);
        exec = std::make_unique<manual_executor>();
        fs.crash(mode, rng);
    }
};

// Text as bytes and back (keys and values of test records).
inline bytes_view as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}
inline std::string as_text(bytes_view b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};  // NOLINT
}

inline model::timestamp_ms ts(std::int64_t v) {
    return model::timestamp_ms(v);
}
inline model::offset off(std::int64_t v) {
    return model::offset(v);
}

}  // namespace gregor::storage::test
