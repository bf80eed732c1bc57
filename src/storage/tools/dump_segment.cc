// gregor-dump-segment <file.log>...: prints every record batch of segment files, one line
// each, and where (and why) the first bad batch is, the way recovery would judge it.
// Read-only; runs on its own (no broker needed).
#include "model/record_batch.h"
#include "storage/errc.h"
#include "storage/posix_file_system.h"
#include "storage/segment.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

using namespace gregor;
using namespace gregor::storage;

namespace {

constexpr std::size_t max_batch_bytes = 128 * 1024 * 1024;

int dump(file_system& fs, const std::string& path) {
    auto f = fs.open(path, open_mode::read_write);
    if (!f) {
        fmt::print(stderr, "{}: {}\n", path, f.err().to_string());
        return 1;
    }
    auto size = (*f)->size();
    std::uint64_t pos = 0;
    bytes buf;
    while (size && pos < *size) {
        bytes hdr(model::batch_header_bytes);
        auto n = (*f)->read_at(pos, hdr);
        auto peek = n && *n == hdr.size() ? peek_batch(hdr, max_batch_bytes)
                                          : result<batch_summary>(errc::corrupt_segment);
        if (!peek) {
            fmt::print("position {}: bad header ({}); {} bytes follow\n", pos,
                       peek.err().to_string(), *size - pos);
            return 2;
        }
        buf.resize(peek->size_bytes);
        auto m = (*f)->read_at(pos, buf);
        auto valid = model::validate_batch(bytes_view(buf.data(), m ? *m : 0), max_batch_bytes,
                                           model::count_rule::at_most);
        if (!valid) {
            fmt::print("position {}: bad batch ({})\n", pos, valid.err().to_string());
            return 2;
        }
        fmt::print("position {} offsets {}..{} count {} size {} epoch {} max_ts {} codec {}\n", pos,
                   peek->base_offset, peek->last_offset, valid->record_count, peek->size_bytes,
                   peek->epoch, peek->max_timestamp, static_cast<int>(valid->compression()));
        pos += peek->size_bytes;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        fmt::print(stderr, "usage: gregor-dump-segment <segment.log>...\n");
        return 64;
    }
    posix_file_system fs;
    int rc = 0;
    for (int i = 1; i < argc; ++i) {
        rc = std::max(rc, dump(fs, argv[i]));
    }
    return rc;
}
