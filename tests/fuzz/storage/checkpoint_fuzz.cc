// Fuzz target: checkpoint files (offset and leader-epoch) with arbitrary content are
// parsed without crashing; whatever parses re-encodes to text that parses to the same.
#include "storage/checkpoint.h"
#include "storage/leader_epoch_cache.h"

#include <cstdlib>

using namespace gregor;
using namespace gregor::storage;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    bytes_view in(data, size);
    if (auto m = decode_offset_checkpoint(in)) {
        auto again = decode_offset_checkpoint(encode_offset_checkpoint(*m));
        if (!again || *again != *m) {
            std::abort();
        }
    }
    if (auto e = decode_epoch_checkpoint(in)) {
        auto again = decode_epoch_checkpoint(encode_epoch_checkpoint(*e));
        if (!again || *again != *e) {
            std::abort();
        }
        if (leader_epoch_cache::is_valid(*e)) {
            leader_epoch_cache c(*e);
            (void)c.end_offset_for(model::leader_epoch(1), model::offset(100));
        }
    }
    return 0;
}
