// Test helpers shared by the replication unit tests and the seeded simulation: one replica
// (a storage::log on its own in-memory file system, wrapped in a replication::partition),
// the leader's side of a follower fetch as a broker would serve it (check, then read the log
// up to its end offset), and a reader that lists a log's batches for comparisons.
// Single-threaded: the I/O worker and executor are manual and run only when drained.
#pragma once

#include "replication/partition.h"
#include "storage/tests/test_batches.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace gregor {

// Readable strong ids in gtest failure messages.
template <class T, class Tag>
void PrintTo(const named_type<T, Tag>& v, std::ostream* os) {
    *os << v();
}

}  // namespace gregor

namespace gregor::replication::test {

inline const model::topic_partition test_tp{"events", model::partition_id(0)};

// One batch as a log holds it: where it sits, who wrote it, and its exact bytes.
struct stored_batch {
    model::offset base;
    model::offset last;
    model::leader_epoch epoch;
    std::uint32_t crc = 0;
    bytes data;

    bool operator==(const stored_batch&) const = default;
};

// Every batch of `lg` that starts in [from, to), read up to `to`. `complete` (optional) is
// set to whether everything up to `to` could be read.
inline std::vector<stored_batch> read_batches(storage::log& lg, model::offset from,
                                              model::offset to, bool* complete = nullptr) {
    std::vector<stored_batch> out;
    auto next = std::max(from, lg.log_start_offset());
    bool whole = true;
    while (next < to) {
        auto r = lg.read(next, 1 << 20, to);
        auto data = r && r->slice.length > 0 ? r->slice.read_all() : result<bytes>(bytes{});
        if (!data || data->empty()) {
            whole = false;
            break;
        }
        model::batch_reader reader(*data, 1 << 24, model::count_rule::at_most);
        for (;;) {
            auto e = reader.next();
            if (!e || !*e) {
                break;
            }
            const auto& h = (*e)->header;
            if (h.base_offset >= from) {
                out.push_back(stored_batch{h.base_offset, h.last_offset(), h.partition_leader_epoch,
                                           h.crc, bytes((*e)->bytes.begin(), (*e)->bytes.end())});
            }
        }
        next = r->next_offset;
    }
    if (complete != nullptr) {
        *complete = whole;
    }
    return out;
}

// Every batch of `lg` from its start to its end offset.
inline std::vector<stored_batch> read_batches(storage::log& lg) {
    return read_batches(lg, lg.log_start_offset(), lg.log_end_offset());
}

// What a leader sends back for one follower fetch, owning its bytes (it may sit in a
// simulated network for a while).
struct fetch_reply {
    model::kafka_error error = model::kafka_error::none;
    model::offset high_watermark = model::no_offset;
    model::offset log_start_offset = model::no_offset;
    std::optional<storage::epoch_entry> diverging;
    bytes records;

    leader_reply view() const {
        return leader_reply{error, high_watermark, log_start_offset, diverging, records};
    }
};

// The leader's side of a follower fetch: on_follower_fetch, then (no error, no divergence)
// a read of whole batches from the fetch offset up to the log end offset, at most
// `max_bytes` (at least one batch).
inline fetch_reply serve_fetch(partition& leader, const follower_fetch& f, model::timestamp_ms now,
                               std::size_t max_bytes = 1 << 20) {
    fetch_reply out;
    auto d = leader.on_follower_fetch(f, now);
    out.error = d.error;
    // Like Kafka's partition data, errors carry the leader's offsets too (a follower that
    // fell below the log start restarts there).
    out.high_watermark = leader.high_watermark();
    out.log_start_offset = leader.log().log_start_offset();
    if (d.error != model::kafka_error::none) {
        return out;
    }
    if (d.diverging) {
        out.diverging = d.diverging;
        return out;
    }
    auto r = leader.log().read(f.fetch_offset, max_bytes, leader.log_end_offset());
    if (!r) {
        out.error = model::kafka_error::offset_out_of_range;
        return out;
    }
    if (r->slice.length > 0) {
        auto data = r->slice.read_all();
        if (data) {
            out.records = std::move(*data);
        }
    }
    return out;
}

// A follower's next fetch as the leader receives it.
inline follower_fetch fetch_of(model::node_id self, const fetch_position& p) {
    return follower_fetch{self, p.fetch_offset, p.last_fetched_epoch, p.current_leader_epoch};
}

// One replica: its own in-memory disk, its log and its partition state machine.
struct replica_node {
    model::node_id id;
    storage::test::memory_env env;
    std::unique_ptr<storage::log> log;
    std::unique_ptr<partition> part;

    explicit replica_node(model::node_id self) : id(self) {}

    static storage::log_config log_cfg() {
        storage::log_config c;
        c.segment_bytes = 2048;  // small segments: fetches and reads cross rolls
        c.segment_index_bytes = 1024;
        return c;
    }

    // Opens (or reopens, after a kill) the log and builds a fresh partition over it, as a
    // broker does at start-up: a full recovery scan, the checkpointed high watermark.
    result<void> open(const replication_config& cfg, model::offset checkpoint_hw,
                      partition::liveness alive, model::timestamp_ms now) {
        part.reset();
        log.reset();
        auto r = storage::log::open(env.ctx(), "/data/events-0", test_tp, log_cfg(),
                                    storage::log_open_state{}, now);
        if (!r) {
            return r.err();
        }
        log = std::move(*r);
        part = std::make_unique<partition>(id, *log, checkpoint_hw, cfg, std::move(alive));
        return {};
    }

    // kill -9: the process and its queued disk work vanish; the page cache (every byte
    // written) survives, as it does when only the process dies.
    void kill() {
        part.reset();
        log.reset();
        env.worker = std::make_unique<storage::io_worker>(storage::io_worker::mode::manual);
        env.exec = std::make_unique<storage::manual_executor>();
    }

    void drain() { env.drain(); }
};

// A produce payload of `records` records whose create timestamps start at `stamp` (distinct
// stamps make distinct CRCs, so equal batches are the same produce).
inline bytes produce_batch(int records, std::int64_t stamp, std::size_t value_bytes = 16) {
    return storage::test::make_batch(
        {.records = records, .value_bytes = value_bytes, .timestamp = stamp});
}

}  // namespace gregor::replication::test
