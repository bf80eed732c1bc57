#include "group/consumer_protocol.h"

#include <cstddef>
#include <cstdint>

namespace gregor::group {
namespace {

// A bounds-checked big-endian reader over untrusted bytes.
class prefix_reader {
public:
    explicit prefix_reader(bytes_view data) : data_(data) {}

    std::optional<std::int64_t> read_int(std::size_t width) {
        if (data_.size() - pos_ < width) {
            return std::nullopt;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < width; ++i) {
            v = (v << 8) | data_[pos_ + i];
        }
        pos_ += width;
        // Sign-extend from `width` bytes.
        std::uint64_t sign = std::uint64_t{1} << (width * 8 - 1);
        return static_cast<std::int64_t>((v ^ sign)) - static_cast<std::int64_t>(sign);
    }
    std::optional<std::string> read_string() {
        auto len = read_int(2);
        if (!len || *len < 0 || data_.size() - pos_ < static_cast<std::size_t>(*len)) {
            return std::nullopt;
        }
        auto first = data_.begin() + static_cast<std::ptrdiff_t>(pos_);
        std::string s(first, first + static_cast<std::ptrdiff_t>(*len));
        pos_ += static_cast<std::size_t>(*len);
        return s;
    }
    std::size_t left() const { return data_.size() - pos_; }

private:
    bytes_view data_;
    std::size_t pos_ = 0;
};

void put_int(bytes& out, std::uint64_t v, std::size_t width) {
    for (std::size_t i = width; i > 0; --i) {
        out.push_back(static_cast<std::uint8_t>(v >> ((i - 1) * 8)));
    }
}

}  // namespace

std::optional<std::vector<std::string>> parse_subscription_topics(bytes_view metadata) {
    prefix_reader r(metadata);
    auto version = r.read_int(2);
    auto count = version && *version >= 0 ? r.read_int(4) : std::nullopt;
    // Each topic takes at least its 2-byte length: a larger count cannot be honest.
    if (!count || *count < 0 || static_cast<std::size_t>(*count) > r.left() / 2) {
        return std::nullopt;
    }
    std::vector<std::string> topics;
    topics.reserve(static_cast<std::size_t>(*count));
    for (std::int64_t i = 0; i < *count; ++i) {
        auto topic = r.read_string();
        if (!topic) {
            return std::nullopt;
        }
        topics.push_back(std::move(*topic));
    }
    return topics;
}

bytes encode_subscription_v0(const std::vector<std::string>& topics) {
    bytes out;
    put_int(out, 0, 2);
    put_int(out, topics.size(), 4);
    for (const auto& t : topics) {
        put_int(out, t.size(), 2);
        out.insert(out.end(), t.begin(), t.end());
    }
    put_int(out, 0xffffffffU, 4);  // user data: null
    return out;
}

}  // namespace gregor::group
