#include "storage/names.h"

#include "base/assert.h"
#include "base/limits.h"

#include <fmt/format.h>

#include <charconv>

namespace gregor::storage {
namespace {

std::string_view suffix_of(segment_file_kind kind) {
    switch (kind) {
        case segment_file_kind::log:
            return log_suffix;
        case segment_file_kind::index:
            return index_suffix;
        case segment_file_kind::time_index:
            return time_index_suffix;
    }
    GREGOR_UNREACHABLE("bad segment_file_kind");
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string format_base_offset(model::offset base) {
    GREGOR_ASSERT(base() >= 0, "negative base offset {}", base());
    return fmt::format("{:020d}", base());
}

std::string segment_file_name(model::offset base, segment_file_kind kind) {
    return format_base_offset(base) + std::string(suffix_of(kind));
}

std::optional<parsed_segment_name> parse_segment_file_name(std::string_view name) {
    parsed_segment_name out;
    for (auto [suffix, flag] :
         {std::pair{deleted_suffix, &out.deleted}, std::pair{cleaned_suffix, &out.cleaned},
          std::pair{swap_suffix, &out.swap}}) {
        if (ends_with(name, suffix)) {
            *flag = true;
            name.remove_suffix(suffix.size());
            break;
        }
    }
    constexpr std::size_t digits = 20;
    if (name.size() <= digits) {
        return std::nullopt;
    }
    auto rest = name.substr(digits);
    if (rest == log_suffix) {
        out.kind = segment_file_kind::log;
    } else if (rest == index_suffix) {
        out.kind = segment_file_kind::index;
    } else if (rest == time_index_suffix) {
        out.kind = segment_file_kind::time_index;
    } else {
        return std::nullopt;
    }
    std::int64_t v = 0;
    auto num = name.substr(0, digits);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec != std::errc{} || p != num.data() + num.size() || v < 0) {
        return std::nullopt;
    }
    out.base = model::offset(v);
    return out;
}

std::string snapshot_file_name(model::offset end) {
    return format_base_offset(end) + std::string(snapshot_suffix);
}

std::optional<model::offset> parse_snapshot_file_name(std::string_view name) {
    constexpr std::size_t digits = 20;
    if (name.size() != digits + snapshot_suffix.size() || !ends_with(name, snapshot_suffix)) {
        return std::nullopt;
    }
    std::int64_t v = 0;
    auto num = name.substr(0, digits);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec != std::errc{} || p != num.data() + num.size() || v < 0) {
        return std::nullopt;
    }
    return model::offset(v);
}

std::string partition_dir_name(const model::topic_partition& tp) {
    return fmt::format("{}-{}", tp.topic, tp.partition());
}

std::optional<model::topic_partition> parse_partition_dir_name(std::string_view name) {
    if (ends_with(name, dir_delete_suffix)) {
        return std::nullopt;
    }
    auto dash = name.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) {
        return std::nullopt;
    }
    auto topic = name.substr(0, dash);
    if (topic.size() > limits::topic_name_bytes_max) {
        return std::nullopt;
    }
    std::int32_t p = 0;
    auto num = name.substr(dash + 1);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), p);
    if (ec != std::errc{} || ptr != num.data() + num.size() || p < 0) {
        return std::nullopt;
    }
    return model::topic_partition{std::string(topic), model::partition_id(p)};
}

}  // namespace gregor::storage
