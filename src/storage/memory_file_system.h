// An in-memory file_system for tests: fast, deterministic, and able to misbehave like a
// real disk does.
//
// Each file keeps two images: the bytes written so far (what reads see, the page cache) and
// the bytes made durable by the last sync(). crash() throws away what was not synced, either
// completely or leaving a random part of it (a torn tail, optionally followed by garbage or
// zeros, as when the kernel wrote back some pages but not others). flip_bit() corrupts a
// byte, inject() makes chosen calls fail with ENOSPC/EIO-like errors (a write may land a
// prefix first, as a real short write does). Directory operations (create, rename, remove)
// are durable at once: the log's correctness never depends on a dir fsync order we would
// have to model.
//
// Thread-safe: one mutex guards the whole tree, so the owner loop and the I/O worker may
// use it together. Handles opened before crash() keep reading the old image; reopen after.
#pragma once

#include "storage/errc.h"
#include "storage/file_system.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace gregor::storage {

enum class fs_op : std::uint8_t { open, read, write, sync, truncate, rename, remove, mkdir };

// One injected failure rule: calls of `op` on a path containing `path_part` fail with
// `code`, `count` times (-1: until cleared). A failing write first lands `partial_bytes`.
struct fs_fault {
    fs_op op = fs_op::write;
    std::string path_part;
    errc code = errc::io_error;
    int count = -1;
    std::size_t partial_bytes = 0;
};

enum class crash_mode : std::uint8_t {
    drop_unsynced,  // every file reverts to its last synced image
    torn_tail,      // a random part of each file's unsynced appended tail survives
    garbage_tail,   // torn_tail, then random bytes or zeros over part of the lost tail
};

class memory_file_system final : public file_system {
public:
    struct node;

    result<std::shared_ptr<file>> open(const std::string& path, open_mode mode) override;
    bool exists(const std::string& path) override;
    result<void> create_dirs(const std::string& path) override;
    result<std::vector<std::string>> list_dir(const std::string& path) override;
    result<bool> is_dir(const std::string& path) override;
    result<void> rename(const std::string& from, const std::string& to) override;
    result<void> remove(const std::string& path) override;
    result<void> remove_all(const std::string& path) override;
    result<void> sync_dir(const std::string& path) override;
    std::size_t open_files() const override { return open_files_.load(); }

    // Simulates a power loss: see the header comment. Deterministic for a given `rng`.
    void crash(crash_mode mode, std::mt19937_64& rng);
    // Flips bit `bit` (0..7) of byte `pos` of the file, in both images (media corruption).
    // REQUIRES: the file exists and pos < its size.
    void flip_bit(const std::string& path, std::uint64_t pos, int bit);
    void inject(fs_fault fault);
    void clear_faults();
    // Crash points: after `n` more calls that are not reads (writes, syncs, truncations,
    // opens, renames, removes, mkdirs), every such call fails with io_error, as if the
    // process had died there. nullopt: off. mutating_calls() counts them since start.
    void fail_after(std::optional<std::uint64_t> n);
    std::uint64_t mutating_calls();
    // Current (page cache) size of a file; 0 when missing.
    std::uint64_t file_size(const std::string& path);
    // Number of bytes written but not yet synced across all files (tests of flush policy).
    std::uint64_t unsynced_bytes();
    std::uint64_t sync_count();
    // read_at calls on every file since start (tests of how much a lookup reads).
    std::uint64_t read_calls();

    // Used by the file handles; returns the error to fail with, if any (and the number of
    // bytes a failing write lands first).
    std::optional<fs_fault> take_fault(fs_op op, const std::string& path);
    std::mutex& mutex() { return mu_; }
    void note_sync() { ++syncs_; }
    void note_open(bool opened) { opened ? ++open_files_ : --open_files_; }

private:
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<node>> files_;
    std::set<std::string> dirs_;
    std::vector<fs_fault> faults_;
    std::uint64_t mutating_calls_ = 0;
    std::optional<std::uint64_t> fail_at_;
    std::uint64_t syncs_ = 0;
    std::uint64_t read_calls_ = 0;
    std::atomic<std::size_t> open_files_{0};
};

}  // namespace gregor::storage
