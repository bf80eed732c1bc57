// Records library internals: one compress/decompress pair per codec, and the bounded output
// buffer the streaming decompressors share. Only compression.cc and the tests use these.
// Pure functions; any thread.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <cstddef>

namespace gregor::protocol::records_detail {

// A decompression output that grows by doubling up to `limit + 1` bytes: reaching the extra
// byte proves the stream expands past the limit, without trusting any declared size.
// It writes into the caller's `storage` from its start, using whatever size the buffer
// already has before growing it (a buffer reused across batches is neither reallocated nor
// zero-filled again), and never shrinks it: the output is its first size() bytes.
class bounded_output {
public:
    // `size_hint`: the output size the stream declares (0 if none). It is untrusted, so it
    // only sizes the first buffer, and only when it is plausible: at most
    // output_hint_ratio_max times the input (the buffer never exceeds limit + 1 anyway).
    bounded_output(bytes& storage, std::size_t limit, std::size_t input_bytes,
                   std::size_t size_hint = 0);

    // Writable space after the bytes written so far; empty iff the cap is reached.
    mutable_bytes_view space();
    // REQUIRES: n <= space().size() of the last call.
    void commit(std::size_t n);
    bool over_limit() const { return size_ > limit_; }
    std::size_t size() const { return size_; }

private:
    bytes& buf_;
    std::size_t size_ = 0;
    std::size_t limit_;
    std::size_t first_bytes_;
};

// Each X_decompress writes into `out` as bounded_output does and returns the output's size.
result<bytes> gzip_compress(bytes_view input);
result<std::size_t> gzip_decompress(bytes_view input, std::size_t limit, bytes& out);
// Raw snappy block(s) or the xerial framing, detected by the magic.
result<std::size_t> snappy_decompress(bytes_view input, std::size_t limit, bytes& out);
result<bytes> snappy_xerial_compress(bytes_view input);
result<bytes> lz4_compress(bytes_view input);
result<std::size_t> lz4_decompress(bytes_view input, std::size_t limit, bytes& out);
result<bytes> zstd_compress(bytes_view input);
result<std::size_t> zstd_decompress(bytes_view input, std::size_t limit, bytes& out);

}  // namespace gregor::protocol::records_detail
