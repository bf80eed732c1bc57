// Fuzz target: a record set as a broker receives it in Produce or reads it back from disk.
// Walks it with model::batch_reader without the CRC check (a fuzzer cannot forge CRCs, and
// every other check would stay unreached), opens each batch with batch_records under a small
// decompression limit, and reads every record and header. Then checks the CRC path and the
// in-place rewrites on a copy. Any crash, sanitizer report or assertion is a bug: this input
// is untrusted by definition.
#include "model/record_batch.h"
#include "protocol/records/batch_records.h"

#include <cstddef>
#include <cstdint>

namespace {

using namespace gregor;

constexpr std::size_t max_batch_bytes = 1 << 20;
constexpr std::size_t decompressed_limit = 256 * 1024;

std::size_t read_records(const protocol::batch_records& batch) {
    std::size_t touched = 0;
    protocol::record_reader reader = batch.records();
    for (;;) {
        auto r = reader.next();
        if (r.has_error() || !r->has_value()) {
            return touched;
        }
        const protocol::record_view& v = **r;
        touched += v.key ? v.key->size() : 0;
        touched += v.value ? v.value->size() : 0;
        for (const protocol::record_header_view& h : v.headers) {
            touched += h.key.size() + (h.value ? h.value->size() : 0);
        }
        touched += static_cast<std::size_t>(batch.offset_of(v)() & 1);
        touched += static_cast<std::size_t>(batch.timestamp_of(v)() & 1);
    }
}

void rewrite_copy(bytes_view batch) {
    bytes copy(batch.begin(), batch.end());
    model::set_base_offset(copy, model::offset{12345});
    model::set_partition_leader_epoch(copy, model::leader_epoch{7});
    model::stamp_log_append_time(copy, model::timestamp_ms{1});
    // After stamping, the CRC is ours, so the batch must validate whatever it was before.
    auto h = model::validate_batch(copy, max_batch_bytes, model::count_rule::at_most);
    if (h.has_error()) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const bytes_view input(data, size);
    model::batch_reader reader(input, max_batch_bytes, model::count_rule::at_most);
    for (;;) {
        auto entry = reader.next(false);
        if (entry.has_error() || !entry->has_value()) {
            break;
        }
        const auto& e = **entry;
        ignore_error(model::validate_batch(e.bytes, max_batch_bytes, model::count_rule::exact),
                     "exercising the CRC path; most fuzz inputs fail it");
        auto opened = protocol::batch_records::open(e.header, e.bytes, decompressed_limit);
        if (opened.has_value()) {
            read_records(*opened);
        }
        rewrite_copy(e.bytes);
    }
    return 0;
}
