// file_system on real POSIX files: pread/pwrite/fdatasync on plain fds, mmap for sealed
// indexes, and native_handle() so the network layer can sendfile() straight from segment
// files. Stateless apart from the fds it hands out (and their count); thread-safe as the
// kernel is.
#pragma once

#include "storage/file_system.h"

#include <atomic>
#include <memory>

namespace gregor::storage {

class posix_file_system final : public file_system {
public:
    result<std::shared_ptr<file>> open(const std::string& path, open_mode mode) override;
    bool exists(const std::string& path) override;
    result<void> create_dirs(const std::string& path) override;
    result<std::vector<std::string>> list_dir(const std::string& path) override;
    result<bool> is_dir(const std::string& path) override;
    result<void> rename(const std::string& from, const std::string& to) override;
    result<void> remove(const std::string& path) override;
    result<void> remove_all(const std::string& path) override;
    result<void> sync_dir(const std::string& path) override;
    std::size_t open_files() const override { return open_->load(std::memory_order_relaxed); }

    // Raises the process's soft limit on descriptors (RLIMIT_NOFILE) to its hard limit, as
    // far as the system allows, and returns the soft limit then in force.
    static std::size_t raise_open_file_limit();

private:
    // Shared with the files, which may outlive the file system (a slice being sent).
    std::shared_ptr<std::atomic<std::size_t>> open_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace gregor::storage
