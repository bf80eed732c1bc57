#include "storage/checkpoint.h"

#include "base/limits.h"
#include "storage/errc.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

namespace gregor::storage {
namespace {

constexpr std::string_view checkpoint_version = "0";

error corrupt(std::string_view why) {
    return error(errc::corrupt_checkpoint, std::string(why));
}

// Splits the text into lines; the format ends each line with '\n'.
std::vector<std::string_view> split_lines(bytes_view text) {
    std::string_view s(reinterpret_cast<const char*>(text.data()), text.size());
    std::vector<std::string_view> lines;
    while (!s.empty()) {
        auto nl = s.find('\n');
        if (nl == std::string_view::npos) {
            lines.push_back(s);
            break;
        }
        lines.push_back(s.substr(0, nl));
        s.remove_prefix(nl + 1);
    }
    return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        auto sp = line.find(' ');
        if (sp != 0) {
            out.push_back(line.substr(0, sp));
        }
        if (sp == std::string_view::npos) {
            break;
        }
        line.remove_prefix(sp + 1);
    }
    return out;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

// Checks the version and count lines; returns the entry lines.
result<std::vector<std::string_view>> entry_lines(bytes_view text) {
    auto lines = split_lines(text);
    if (lines.size() < 2 || lines[0] != checkpoint_version) {
        return corrupt("missing or unknown version line");
    }
    std::size_t count = 0;
    if (!parse_int(lines[1], count) || count != lines.size() - 2) {
        return corrupt("count line does not match the entries");
    }
    return std::vector<std::string_view>(lines.begin() + 2, lines.end());
}

bytes to_bytes(const std::string& s) {
    return bytes(s.begin(), s.end());
}

}  // namespace

void offset_checkpoint_builder::add(const model::topic_partition& tp, model::offset off) {
    fmt::format_to(std::back_inserter(entries_), "{} {} {}\n", tp.topic, tp.partition(), off());
    ++count_;
}

bytes offset_checkpoint_builder::finish() const {
    return to_bytes(fmt::format("{}\n{}\n{}", checkpoint_version, count_, entries_));
}

bytes encode_offset_checkpoint(const offset_map& offsets) {
    offset_checkpoint_builder b;
    for (const auto& [tp, off] : offsets) {
        b.add(tp, off);
    }
    return b.finish();
}

result<offset_map> decode_offset_checkpoint(bytes_view text) {
    GREGOR_TRY(auto lines, entry_lines(text));
    offset_map out;
    for (auto line : lines) {
        auto f = split_fields(line);
        std::int32_t partition = 0;
        std::int64_t off = 0;
        if (f.size() != 3 || !parse_int(f[1], partition) || !parse_int(f[2], off) ||
            partition < 0 || f[0].size() > limits::topic_name_bytes_max) {
            return corrupt(fmt::format("bad offset entry '{}'", line));
        }
        out[model::topic_partition{std::string(f[0]), model::partition_id(partition)}] =
            model::offset(off);
    }
    return out;
}

bytes encode_epoch_checkpoint(const std::vector<epoch_entry>& entries) {
    std::string out = fmt::format("{}\n{}\n", checkpoint_version, entries.size());
    for (const auto& e : entries) {
        out += fmt::format("{} {}\n", e.epoch(), e.start_offset());
    }
    return to_bytes(out);
}

result<std::vector<epoch_entry>> decode_epoch_checkpoint(bytes_view text) {
    GREGOR_TRY(auto lines, entry_lines(text));
    std::vector<epoch_entry> out;
    for (auto line : lines) {
        auto f = split_fields(line);
        std::int32_t epoch = 0;
        std::int64_t off = 0;
        if (f.size() != 2 || !parse_int(f[0], epoch) || !parse_int(f[1], off) || epoch < 0 ||
            off < 0) {
            return corrupt(fmt::format("bad epoch entry '{}'", line));
        }
        out.push_back({model::leader_epoch(epoch), model::offset(off)});
    }
    return out;
}

result<offset_map> read_offset_checkpoint(file_system& fs, const std::string& path) {
    if (!fs.exists(path)) {
        return offset_map{};
    }
    GREGOR_TRY(auto text, read_small_file(fs, path, limits::checkpoint_file_bytes_max));
    return decode_offset_checkpoint(text);
}

result<void> write_offset_checkpoint(file_system& fs, const std::string& path,
                                     const offset_map& offsets) {
    return write_file_atomic(fs, path, encode_offset_checkpoint(offsets));
}

result<std::vector<epoch_entry>> read_epoch_checkpoint(file_system& fs, const std::string& path) {
    if (!fs.exists(path)) {
        return std::vector<epoch_entry>{};
    }
    GREGOR_TRY(auto text, read_small_file(fs, path, limits::checkpoint_file_bytes_max));
    return decode_epoch_checkpoint(text);
}

result<void> checkpoint_writer::write(file_system& fs, const std::string& path, bytes_view content,
                                      std::uint64_t seq) {
    std::lock_guard lock(mu_);
    if (seq <= written_) {
        return ok();
    }
    GREGOR_TRY_VOID(write_file_atomic(fs, path, content));
    written_ = seq;
    return ok();
}

}  // namespace gregor::storage
