#include "storage/memory_file_system.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace gregor::storage {

// `data` is what reads see; `durable` is the image at the last sync. `dirty_from` is the
// lowest position changed since that sync, so sync() copies only the changed tail.
struct memory_file_system::node {
    bytes data;
    bytes durable;
    std::size_t dirty_from = 0;
};

namespace {

error injected(const fs_fault& f, const std::string& path) {
    return error(f.code, fmt::format("injected fault on {}", path));
}

class snapshot_mapping final : public mapped_region {
public:
    explicit snapshot_mapping(bytes b) : bytes_(std::move(b)) {}
    bytes_view data() const override { return bytes_; }

private:
    bytes bytes_;
};

class memory_file final : public file {
public:
    using node = memory_file_system::node;
    memory_file(memory_file_system& fs, std::shared_ptr<node> n, std::string path)
        : fs_(fs), node_(std::move(n)), path_(std::move(path)) {
        fs_.note_open(true);
    }
    ~memory_file() override { fs_.note_open(false); }
    memory_file(const memory_file&) = delete;
    memory_file& operator=(const memory_file&) = delete;

    result<std::size_t> read_at(std::uint64_t pos, mutable_bytes_view dst) override {
        if (auto f = fs_.take_fault(fs_op::read, path_)) {
            return injected(*f, path_);
        }
        std::lock_guard lock(fs_.mutex());
        if (pos >= node_->data.size()) {
            return std::size_t{0};
        }
        auto n = std::min<std::size_t>(dst.size(), node_->data.size() - pos);
        std::memcpy(dst.data(), node_->data.data() + pos, n);
        return n;
    }

    result<void> write_at(std::uint64_t pos, bytes_view src) override {
        auto f = fs_.take_fault(fs_op::write, path_);
        std::lock_guard lock(fs_.mutex());
        auto len = f ? std::min(f->partial_bytes, src.size()) : src.size();
        auto p = static_cast<std::size_t>(pos);
        if (node_->data.size() < p + len) {
            node_->data.resize(p + len);
        }
        if (len > 0) {  // an empty file's data() may be null: memcpy of nothing is still UB
            std::memcpy(node_->data.data() + p, src.data(), len);
        }
        node_->dirty_from = std::min(node_->dirty_from, p);
        if (f) {
            return injected(*f, path_);
        }
        return ok();
    }

    result<std::uint64_t> size() override {
        std::lock_guard lock(fs_.mutex());
        return static_cast<std::uint64_t>(node_->data.size());
    }

    result<void> truncate(std::uint64_t size) override {
        if (auto f = fs_.take_fault(fs_op::truncate, path_)) {
            return injected(*f, path_);
        }
        std::lock_guard lock(fs_.mutex());
        auto s = static_cast<std::size_t>(size);
        node_->data.resize(s);
        node_->dirty_from = std::min(node_->dirty_from, s);
        return ok();
    }

    result<void> sync() override {
        if (auto f = fs_.take_fault(fs_op::sync, path_)) {
            return injected(*f, path_);
        }
        std::lock_guard lock(fs_.mutex());
        auto& n = *node_;
        n.durable.resize(n.data.size());
        if (n.dirty_from < n.data.size()) {
            std::memcpy(n.durable.data() + n.dirty_from, n.data.data() + n.dirty_from,
                        n.data.size() - n.dirty_from);
        }
        n.dirty_from = n.data.size();
        fs_.note_sync();
        return ok();
    }

    result<std::unique_ptr<mapped_region>> map_readonly(std::uint64_t size) override {
        std::lock_guard lock(fs_.mutex());
        GREGOR_ASSERT(size <= node_->data.size(), "map beyond end of {}", path_);
        bytes copy(node_->data.begin(), node_->data.begin() + static_cast<std::ptrdiff_t>(size));
        return std::unique_ptr<mapped_region>(std::make_unique<snapshot_mapping>(std::move(copy)));
    }

private:
    memory_file_system& fs_;
    std::shared_ptr<node> node_;
    std::string path_;
};

bool has_prefix(const std::string& s, const std::string& prefix) {
    return s.size() > prefix.size() && s.compare(0, prefix.size(), prefix) == 0 &&
           s[prefix.size()] == '/';
}

void crash_file(memory_file_system::node& n, crash_mode mode, std::mt19937_64& rng) {
    bool pure_append = n.dirty_from >= n.durable.size() && n.data.size() >= n.durable.size();
    if (mode == crash_mode::drop_unsynced || !pure_append) {
        n.data = n.durable;
        n.dirty_from = n.data.size();
        return;
    }
    std::uniform_int_distribution<std::size_t> keep_dist(n.durable.size(), n.data.size());
    auto keep = keep_dist(rng);
    auto lost_end = n.data.size();
    n.data.resize(keep);
    if (mode == crash_mode::garbage_tail && keep < lost_end && (rng() % 2) == 0) {
        // Part of the lost region is written back as garbage or zeros (an extended file
        // size whose pages never made it).
        auto extra = std::uniform_int_distribution<std::size_t>(1, lost_end - keep)(rng);
        bool zeros = (rng() % 2) == 0;
        for (std::size_t i = 0; i < extra; ++i) {
            n.data.push_back(zeros ? 0 : static_cast<std::uint8_t>(rng()));
        }
    }
    n.durable = n.data;
    n.dirty_from = n.data.size();
}

}  // namespace

void memory_file_system::fail_after(std::optional<std::uint64_t> n) {
    std::lock_guard lock(mu_);
    fail_at_ = n ? std::optional(mutating_calls_ + *n) : std::nullopt;
}

std::uint64_t memory_file_system::mutating_calls() {
    std::lock_guard lock(mu_);
    return mutating_calls_;
}

std::optional<fs_fault> memory_file_system::take_fault(fs_op op, const std::string& path) {
    std::lock_guard lock(mu_);
    if (op == fs_op::read) {
        ++read_calls_;
    } else {
        if (fail_at_ && mutating_calls_ >= *fail_at_) {
            return fs_fault{.op = op, .path_part = path, .code = errc::io_error};
        }
        ++mutating_calls_;
    }
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
        if (it->op == op && path.find(it->path_part) != std::string::npos) {
            fs_fault f = *it;
            if (it->count > 0 && --it->count == 0) {
                faults_.erase(it);
            }
            return f;
        }
    }
    return std::nullopt;
}

result<std::shared_ptr<file>> memory_file_system::open(const std::string& path, open_mode mode) {
    if (auto f = take_fault(fs_op::open, path)) {
        return injected(*f, path);
    }
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) {
        if (mode == open_mode::read_write) {
            return error(errc::not_found, path);
        }
        if (!dirs_.contains(path_parent(path))) {
            return error(errc::not_found, "no directory for " + path);
        }
        it = files_.emplace(path, std::make_shared<node>()).first;
    } else if (mode == open_mode::create_exclusive) {
        return error(errc::already_exists, path);
    }
    return std::shared_ptr<file>(std::make_shared<memory_file>(*this, it->second, path));
}

bool memory_file_system::exists(const std::string& path) {
    std::lock_guard lock(mu_);
    return files_.contains(path) || dirs_.contains(path);
}

result<void> memory_file_system::create_dirs(const std::string& path) {
    if (auto f = take_fault(fs_op::mkdir, path)) {
        return injected(*f, path);
    }
    std::lock_guard lock(mu_);
    std::string p = path;
    while (!p.empty() && p != "/" && p != ".") {
        if (files_.contains(p)) {
            return error(errc::already_exists, "a file is in the way: " + p);
        }
        dirs_.insert(p);
        p = path_parent(p);
    }
    return ok();
}

result<std::vector<std::string>> memory_file_system::list_dir(const std::string& path) {
    std::lock_guard lock(mu_);
    if (!dirs_.contains(path)) {
        return error(errc::not_found, path);
    }
    std::vector<std::string> out;
    auto add = [&](const std::string& full) {
        if (has_prefix(full, path) && full.find('/', path.size() + 1) == std::string::npos) {
            out.push_back(full.substr(path.size() + 1));
        }
    };
    for (auto& [name, n] : files_) {
        add(name);
    }
    for (auto& d : dirs_) {
        add(d);
    }
    return out;
}

result<bool> memory_file_system::is_dir(const std::string& path) {
    std::lock_guard lock(mu_);
    if (dirs_.contains(path)) {
        return true;
    }
    if (files_.contains(path)) {
        return false;
    }
    return error(errc::not_found, path);
}

result<void> memory_file_system::rename(const std::string& from, const std::string& to) {
    if (auto f = take_fault(fs_op::rename, from)) {
        return injected(*f, from);
    }
    std::lock_guard lock(mu_);
    if (auto it = files_.find(from); it != files_.end()) {
        auto n = it->second;
        files_.erase(it);
        files_[to] = std::move(n);
        return ok();
    }
    if (!dirs_.contains(from)) {
        return error(errc::not_found, from);
    }
    std::map<std::string, std::shared_ptr<node>> moved;
    for (auto it = files_.begin(); it != files_.end();) {
        if (has_prefix(it->first, from)) {
            moved[to + it->first.substr(from.size())] = it->second;
            it = files_.erase(it);
        } else {
            ++it;
        }
    }
    files_.merge(moved);
    std::set<std::string> dirs;
    for (auto it = dirs_.begin(); it != dirs_.end();) {
        if (*it == from || has_prefix(*it, from)) {
            dirs.insert(to + it->substr(from.size()));
            it = dirs_.erase(it);
        } else {
            ++it;
        }
    }
    dirs_.merge(dirs);
    return ok();
}

result<void> memory_file_system::remove(const std::string& path) {
    if (auto f = take_fault(fs_op::remove, path)) {
        return injected(*f, path);
    }
    std::lock_guard lock(mu_);
    if (files_.erase(path) == 1) {
        return ok();
    }
    if (!dirs_.contains(path)) {
        return error(errc::not_found, path);
    }
    for (auto& [name, n] : files_) {
        if (has_prefix(name, path)) {
            return error(errc::io_error, "directory not empty: " + path);
        }
    }
    dirs_.erase(path);
    return ok();
}

result<void> memory_file_system::remove_all(const std::string& path) {
    if (auto f = take_fault(fs_op::remove, path)) {
        return injected(*f, path);
    }
    std::lock_guard lock(mu_);
    files_.erase(path);
    std::erase_if(files_, [&](const auto& kv) { return has_prefix(kv.first, path); });
    std::erase_if(dirs_, [&](const auto& d) { return d == path || has_prefix(d, path); });
    return ok();
}

result<void> memory_file_system::sync_dir(const std::string& path) {
    if (auto f = take_fault(fs_op::sync, path)) {
        return injected(*f, path);
    }
    return ok();
}

void memory_file_system::crash(crash_mode mode, std::mt19937_64& rng) {
    std::lock_guard lock(mu_);
    for (auto& [name, n] : files_) {
        // Each file gets a fresh node, so handles opened before the crash (which a real
        // process would not have any more) cannot disturb the recovered images.
        auto fresh = std::make_shared<node>(*n);
        crash_file(*fresh, mode, rng);
        n = std::move(fresh);
    }
}

void memory_file_system::flip_bit(const std::string& path, std::uint64_t pos, int bit) {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    GREGOR_ASSERT(it != files_.end(), "flip_bit on missing file {}", path);
    auto& n = *it->second;
    GREGOR_ASSERT(pos < n.data.size(), "flip_bit beyond end of {}", path);
    auto mask = static_cast<std::uint8_t>(1U << bit);
    n.data[pos] ^= mask;
    if (pos < n.durable.size()) {
        n.durable[pos] ^= mask;
    }
}

void memory_file_system::inject(fs_fault fault) {
    std::lock_guard lock(mu_);
    faults_.push_back(std::move(fault));
}

void memory_file_system::clear_faults() {
    std::lock_guard lock(mu_);
    faults_.clear();
}

std::uint64_t memory_file_system::file_size(const std::string& path) {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    return it == files_.end() ? 0 : it->second->data.size();
}

std::uint64_t memory_file_system::unsynced_bytes() {
    std::lock_guard lock(mu_);
    std::uint64_t total = 0;
    for (auto& [name, n] : files_) {
        if (n->dirty_from < n->data.size()) {
            total += n->data.size() - n->dirty_from;
        }
    }
    return total;
}

std::uint64_t memory_file_system::sync_count() {
    std::lock_guard lock(mu_);
    return syncs_;
}

std::uint64_t memory_file_system::read_calls() {
    std::lock_guard lock(mu_);
    return read_calls_;
}

}  // namespace gregor::storage
