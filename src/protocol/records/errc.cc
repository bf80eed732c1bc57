#include "protocol/records/errc.h"

#include <string>

namespace gregor::protocol {
namespace {

class records_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "records"; }
    std::string message(int value) const override {
        switch (static_cast<records_errc>(value)) {
            case records_errc::truncated:
                return "record runs past the end of the batch";
            case records_errc::bad_varint:
                return "malformed varint";
            case records_errc::bad_record_length:
                return "record length does not match fields";
            case records_errc::bad_field_length:
                return "invalid key, value or header length";
            case records_errc::bad_header_count:
                return "invalid record header count";
            case records_errc::record_count_mismatch:
                return "record count does not match the batch header";
            case records_errc::unsupported_compression:
                return "unsupported compression codec";
            case records_errc::corrupt_compressed_data:
                return "corrupt compressed data";
            case records_errc::decompressed_too_large:
                return "decompressed batch too large";
            case records_errc::compression_failed:
                return "compression failed";
        }
        return "unknown records error";
    }
};

}  // namespace

const std::error_category& records_category() {
    static const records_category_impl category;
    return category;
}

}  // namespace gregor::protocol
