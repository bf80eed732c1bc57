// Fuzz target: the `__consumer_offsets` record decoders and the partition loader, which read
// bytes from the log (untrusted: a corrupt disk, a buggy or hostile writer).
//
// The first input byte picks what the rest is fed to:
//   0: decode_record_key        1: decode_offset_commit_value
//   2: decode_group_metadata_value
//   3+: the loader, as a log; batch CRCs are recomputed first (a fuzzer cannot forge them,
//       and every later check would stay unreached), then the loaded store is queried.
// Properties beyond "no crash, no sanitizer report, no leak": whatever decodes re-encodes
// in its own version and decodes to the same value; non-flexible versions (and keys)
// re-encode to the very same bytes, since those encodings have a single form.
#include "base/crc32c.h"
#include "base/log.h"
#include "group/loader.h"
#include "group/records.h"
#include "model/record_batch.h"

#include <cstddef>
#include <cstdint>
#include <variant>

namespace {

using namespace gregor;
using namespace gregor::group;

constexpr std::size_t batch_max = 1 << 20;
constexpr std::size_t decompressed_max = 256 * 1024;

void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

bool same_bytes(const result<bytes>& encoded, bytes_view input) {
    return encoded.has_value() && bytes_view(*encoded).size() == input.size() &&
           std::equal(input.begin(), input.end(), encoded->begin());
}

void fuzz_key(bytes_view input) {
    auto key = decode_record_key(input);
    if (key.has_error()) {
        return;
    }
    if (const auto* offset = std::get_if<offset_commit_key>(&*key)) {
        check(same_bytes(encode_offset_commit_key(*offset, *decode_record_version(input)), input));
    } else if (const auto* group = std::get_if<group_metadata_key>(&*key)) {
        check(same_bytes(encode_group_metadata_key(*group), input));
    }
}

template <class Value, class Encode, class Decode>
void fuzz_value(bytes_view input, Encode encode, Decode decode) {
    result<Value> value = decode(input);
    if (value.has_error()) {
        return;
    }
    const std::int16_t version = *decode_record_version(input);
    result<bytes> again = encode(*value, version);
    check(again.has_value());
    if (version < first_flexible_value_version) {
        check(same_bytes(again, input));
    }
    result<Value> back = decode(*again);
    check(back.has_value() && *back == *value);
}

// Rewrites every complete batch's CRC so the loader looks past it.
bytes with_fixed_crcs(bytes_view input) {
    bytes log(input.begin(), input.end());
    std::size_t pos = 0;
    while (log.size() - pos >= model::batch_header_bytes) {
        auto header = model::parse_batch_header(bytes_view(log).subspan(pos), batch_max);
        if (header.has_error()) {
            break;
        }
        const std::size_t size = header->size_bytes();
        const std::uint32_t crc = crc32c(
            bytes_view(log).subspan(pos + model::batch_crc_start, size - model::batch_crc_start));
        for (std::size_t i = 0; i < 4; ++i) {
            log[pos + 17 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
        }
        pos += size;
    }
    return log;
}

void fuzz_loader(bytes_view input) {
    const bytes log = with_fixed_crcs(input);
    load_result r = load_offsets_partition(log, offsets_config{}, batch_max, decompressed_max);
    group_view empty_view;
    for (const std::string& group : r.offsets.group_ids()) {
        std::vector<fetched_offset> all = r.offsets.fetch(group, std::nullopt, true);
        check(all.size() <= r.offsets.committed_count());
        (void)r.offsets.expire(group, empty_view, model::timestamp_ms{1});
    }
    for (const auto& [group, value] : r.groups) {
        auto encoded = encode_group_metadata_value(value);
        check(encoded.has_error() || decode_group_metadata_value(*encoded).has_value());
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gregor::log_set_level("off");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const bytes_view input(data + 1, size - 1);
    switch (data[0]) {
    case 0:
        fuzz_key(input);
        break;
    case 1:
        fuzz_value<offset_commit_value>(
            input,
            [](const offset_commit_value& v, std::int16_t ver) {
                return encode_offset_commit_value(v, ver);
            },
            [](bytes_view b) { return decode_offset_commit_value(b); });
        break;
    case 2:
        fuzz_value<group_metadata_value>(
            input,
            [](const group_metadata_value& v, std::int16_t ver) {
                return encode_group_metadata_value(v, ver);
            },
            [](bytes_view b) { return decode_group_metadata_value(b); });
        break;
    default:
        fuzz_loader(input);
        break;
    }
    return 0;
}
