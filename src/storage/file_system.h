// The file-system seam: every byte storage reads or writes goes through these interfaces,
// so the same log code runs on real files (posix_file_system) and on an in-memory file
// system that simulates crashes, torn writes, flipped bits and ENOSPC/EIO
// (memory_file_system) for the recovery tests.
//
// Threading: a file_system and its files may be used from several threads at once (the
// owner loop appends with write_at while the I/O worker calls sync on the same file); every
// implementation must be thread-safe at the level of single calls. Files are shared_ptr so
// that a read slice or an in-flight fsync keeps a file alive after its segment is deleted,
// exactly as an open fd keeps an unlinked file readable on POSIX.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gregor::storage {

// A read-only view of a whole file at the time it was mapped. POSIX: mmap(PROT_READ);
// memory: a snapshot. Used for the indexes of sealed segments, which never change while
// mapped. The view stays valid for the lifetime of the mapping object.
class mapped_region {
public:
    virtual ~mapped_region() = default;
    virtual bytes_view data() const = 0;
};

class file {
public:
    virtual ~file() = default;

    // Reads up to dst.size() bytes at `pos`. Returns the number read; fewer than asked
    // iff the file ends first.
    virtual result<std::size_t> read_at(std::uint64_t pos, mutable_bytes_view dst) = 0;
    // Writes all of `src` at `pos`, extending the file if needed. On error some prefix of
    // `src` may have reached the file (as with a failed pwrite); the caller cleans up.
    virtual result<void> write_at(std::uint64_t pos, bytes_view src) = 0;
    virtual result<std::uint64_t> size() = 0;
    // Sets the size: shrinking drops the tail, growing adds zeros (sparse on POSIX).
    virtual result<void> truncate(std::uint64_t size) = 0;
    // Makes every byte written so far durable (fdatasync).
    virtual result<void> sync() = 0;
    // Maps the first `size` bytes read-only. REQUIRES: size <= current file size.
    virtual result<std::unique_ptr<mapped_region>> map_readonly(std::uint64_t size) = 0;
    // The OS file descriptor for sendfile, or -1 when the file has none (memory).
    virtual int native_handle() const { return -1; }
};

enum class open_mode {
    read_write,        // existing file only
    create,            // create if missing, keep contents otherwise
    create_exclusive,  // fail with already_exists if present
};

class file_system {
public:
    virtual ~file_system() = default;

    virtual result<std::shared_ptr<file>> open(const std::string& path, open_mode mode) = 0;
    virtual bool exists(const std::string& path) = 0;
    // Creates the directory and any missing parents; no error when it exists.
    virtual result<void> create_dirs(const std::string& path) = 0;
    // Entry names (not paths) of a directory, unsorted, without "." and "..".
    virtual result<std::vector<std::string>> list_dir(const std::string& path) = 0;
    virtual result<bool> is_dir(const std::string& path) = 0;
    // Atomically renames a file or directory (replacing a file at `to`).
    virtual result<void> rename(const std::string& from, const std::string& to) = 0;
    // Removes a file or an empty directory.
    virtual result<void> remove(const std::string& path) = 0;
    // Removes a directory tree (or a file).
    virtual result<void> remove_all(const std::string& path) = 0;
    // Makes the directory's entries (creates, renames, removes) durable.
    virtual result<void> sync_dir(const std::string& path) = 0;
    // Files opened through it whose handles are still alive (descriptors, on POSIX).
    virtual std::size_t open_files() const = 0;
};

// Joins two path parts with one '/'.
std::string path_join(const std::string& dir, const std::string& name);
// Returns the directory part of `path` (everything before the last '/').
std::string path_parent(const std::string& path);

// Reads the whole file at `path` (for checkpoints and small files).
// REQUIRES: the caller knows the file is small; bounded by `max_bytes` (errc::io_error
// with detail when larger, so a corrupt huge file never allocates unbounded memory).
result<bytes> read_small_file(file_system& fs, const std::string& path, std::size_t max_bytes);

// Writes `content` to `path` atomically: a temp file beside it, fsync, rename over the old
// file, fsync of the directory. A crash leaves either the old or the new content.
result<void> write_file_atomic(file_system& fs, const std::string& path, bytes_view content);

}  // namespace gregor::storage
