#include "storage/errc.h"

#include <cerrno>
#include <string>

namespace gregor::storage {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "storage"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::io_error:
                return "i/o error";
            case errc::no_space:
                return "no space left on device";
            case errc::not_found:
                return "not found";
            case errc::already_exists:
                return "already exists";
            case errc::invalid_batch:
                return "invalid record batch";
            case errc::batch_too_large:
                return "record batch too large";
            case errc::offset_out_of_order:
                return "offsets out of order";
            case errc::offset_out_of_range:
                return "offset out of range";
            case errc::corrupt_checkpoint:
                return "corrupt checkpoint file";
            case errc::corrupt_index:
                return "corrupt index file";
            case errc::corrupt_segment:
                return "corrupt segment file";
            case errc::invalid_config:
                return "invalid log config";
            case errc::queue_full:
                return "i/o worker queue full";
            case errc::closed:
                return "closed";
            case errc::out_of_order_sequence:
                return "out of order sequence number";
            case errc::invalid_producer_epoch:
                return "invalid producer epoch";
            case errc::invalid_record:
                return "invalid record";
            case errc::corrupt_snapshot:
                return "corrupt producer state snapshot";
            case errc::too_many_open_files:
                return "too many open files";
        }
        return "unknown storage error";
    }
};

}  // namespace

const std::error_category& storage_category() {
    static const category c;
    return c;
}

errc errc_from_errno(int err) {
    switch (err) {
        case ENOSPC:
        case EDQUOT:
            return errc::no_space;
        case ENOENT:
            return errc::not_found;
        case EEXIST:
            return errc::already_exists;
        case EMFILE:
        case ENFILE:
            return errc::too_many_open_files;
        default:
            return errc::io_error;
    }
}

}  // namespace gregor::storage
