// Errors of the records library: malformed records inside a batch and compression failures.
//
// Every value describes untrusted input the broker refuses (it maps them to CORRUPT_MESSAGE,
// or UNSUPPORTED_COMPRESSION_TYPE for unsupported_compression); none is a programmer error.
// Pure values; any thread.
#pragma once

#include <system_error>

namespace gregor::protocol {

enum class records_errc {
    truncated = 1,            // a record or field runs past the end of the records section
    bad_varint,               // a varint longer than 5 bytes (10 for a varlong)
    bad_record_length,        // negative record length, or fields that do not fill it exactly
    bad_field_length,         // key/value/header length below -1 (or -1 for a header key)
    bad_header_count,         // negative header count, or more headers than bytes
    record_count_mismatch,    // the body holds fewer or more records than the header says
    unsupported_compression,  // codec value gregor does not know
    corrupt_compressed_data,  // the codec rejected the compressed bytes
    decompressed_too_large,   // output would exceed the caller's or the global limit
    compression_failed,       // the codec library failed to compress (out of memory)
};

const std::error_category& records_category();
inline std::error_code make_error_code(records_errc e) {
    return {static_cast<int>(e), records_category()};
}

}  // namespace gregor::protocol

template <>
struct std::is_error_code_enum<gregor::protocol::records_errc> : std::true_type {};
