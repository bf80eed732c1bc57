// Storage error codes: every operating failure of the file-system seam, segments, logs and
// the log manager. The broker maps them to Kafka codes in one place (io_error and
// no_space -> KAFKA_STORAGE_ERROR, invalid_batch -> CORRUPT_MESSAGE, offset_out_of_range ->
// OFFSET_OUT_OF_RANGE, out_of_order_sequence -> OUT_OF_ORDER_SEQUENCE_NUMBER(45),
// invalid_producer_epoch -> INVALID_PRODUCER_EPOCH(47), invalid_record -> INVALID_RECORD(87),
// ...). Plain values; any thread.
#pragma once

#include <system_error>

namespace gregor::storage {

enum class errc {
    io_error = 1,         // EIO or any other failed system call
    no_space,             // ENOSPC / EDQUOT
    not_found,            // file, directory or partition does not exist
    already_exists,       // create of something that exists
    invalid_batch,        // bad CRC, inconsistent lengths, bad magic: nothing written
    batch_too_large,      // one batch above max.message.bytes
    offset_out_of_order,  // follower append whose offsets do not increase
    offset_out_of_range,  // read/lookup outside [log start, upper bound]
    corrupt_checkpoint,   // a checkpoint file that does not parse
    corrupt_index,        // an index file that fails its sanity check
    corrupt_segment,      // a segment whose batch headers do not chain (below recovery)
    invalid_config,       // a config key with a malformed or out-of-range value
    queue_full,           // the I/O worker's bounded queue is full (back-pressure)
    closed,               // the log or worker was closed
    // Producer state (idempotent producers) refusing a leader append; nothing written.
    out_of_order_sequence,   // sequence gap or reset (broker -> OUT_OF_ORDER_SEQUENCE_NUMBER)
    invalid_producer_epoch,  // epoch below the partition's (broker -> INVALID_PRODUCER_EPOCH)
    invalid_record,          // producer id with base sequence < 0, a client control batch
                             // (broker -> INVALID_RECORD)
    corrupt_snapshot,        // a producer-state .snapshot file that fails validation
    // EMFILE / ENFILE: out of descriptors, not a disk failure (the dir stays online; the
    // call that hit it fails, with KAFKA_STORAGE_ERROR for clients, and may be retried).
    too_many_open_files,
};

const std::error_category& storage_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), storage_category()};
}

// Maps an errno value from a failed system call to the storage errc.
errc errc_from_errno(int err);

}  // namespace gregor::storage

template <>
struct std::is_error_code_enum<gregor::storage::errc> : std::true_type {};
