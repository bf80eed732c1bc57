// Fuzz target: the log cleaner's batch filter on hostile batches. The input is a record
// batch whose CRC is fixed up first (so the fuzzer reaches the records, compressed or not,
// instead of stopping at the checksum); whatever validates is filtered keeping every other
// record, with a delete horizon to stamp. The filter must never crash, and what it writes
// must be one valid batch with the original base offset, last offset and producer fields.
#include "base/crc32c.h"
#include "model/record_batch.h"
#include "storage/batch_filter.h"

#include <cstdlib>
#include <cstring>

using namespace gregor;
using namespace gregor::storage;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < model::batch_header_bytes) {
        return 0;
    }
    bytes batch(data, data + size);
    auto crc = crc32c(bytes_view(batch).subspan(model::batch_crc_start));
    for (int i = 0; i < 4; ++i) {
        batch[17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * (3 - i)));
    }
    auto header = model::validate_batch(batch, 1 << 20, model::count_rule::at_most);
    if (!header) {
        return 0;
    }
    (void)records_without_key(*header, batch, 1 << 20);
    filter_options opts;
    opts.decompressed_bytes_max = 1 << 20;
    opts.retain_empty = (size & 1) != 0;
    opts.stamp_horizon = model::timestamp_ms(1'000'000);
    bytes out;
    auto r = filter_batch(
        *header, batch, opts, [](const filter_record& rec) { return (rec.offset() & 1) == 0; },
        out);
    if (!r) {
        if (!out.empty()) {
            std::abort();  // nothing is written on error
        }
        return 0;
    }
    if (out.empty()) {
        return 0;
    }
    auto written = model::validate_batch(out, 1 << 21, model::count_rule::at_most);
    if (!written || written->size_bytes() != out.size() ||
        written->base_offset != header->base_offset ||
        written->last_offset() != header->last_offset() || written->producer != header->producer ||
        written->producer_epoch != header->producer_epoch) {
        std::abort();
    }
    return 0;
}
