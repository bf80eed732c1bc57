// Kafka's record compression codecs for the records section of a v2 batch.
//
// gzip (RFC 1952, concatenated members accepted), snappy (raw blocks as librdkafka writes
// them, or the xerial framing the Java client writes: magic "\x82SNAPPY\0", version,
// compatible version, then int32-length-prefixed raw blocks), lz4 (the LZ4 frame format,
// with the header checksum Kafka >= 0.10 writes), zstd (one or more frames).
// Decompression treats its input as hostile: the output is bounded by the caller's limit and
// by limits::decompressed_batch_bytes_max, so a bomb stops with decompressed_too_large, and no
// buffer is sized from a length field before that field is checked against the limit.
// Pure functions; any thread.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/record_batch.h"
#include "protocol/records/errc.h"

#include <cstddef>

namespace gregor::protocol {

// Returns `input` compressed with `codec` (none: a copy). snappy output uses the xerial
// framing, which every Kafka client and broker reads. Fails only if the library fails.
result<bytes> compress(model::compression_type codec, bytes_view input);

// Returns the decompressed form of `input` iff it is well formed for `codec` and expands to
// at most min(decompressed_bytes_max, limits::decompressed_batch_bytes_max) bytes.
// Errors: unsupported_compression, corrupt_compressed_data, decompressed_too_large.
result<bytes> decompress(model::compression_type codec, bytes_view input,
                         std::size_t decompressed_bytes_max);

// As decompress, into `out` from its start, reusing its storage: a buffer passed again for
// every batch is allocated once and not zero-filled again (and lz4 then decodes each block
// straight into it, not through a staging copy). Returns the output's size; `out` may be
// larger, and its bytes past the output are unspecified. On error `out`'s contents are
// unspecified.
result<std::size_t> decompress_into(model::compression_type codec, bytes_view input,
                                    std::size_t decompressed_bytes_max, bytes& out);

}  // namespace gregor::protocol
