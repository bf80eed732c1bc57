#include "storage/posix_file_system.h"

#include "storage/errc.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gregor::storage {
namespace {

error sys_error(const char* what, const std::string& path, int err) {
    return error(errc_from_errno(err), fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

class posix_mapping final : public mapped_region {
public:
    posix_mapping(void* addr, std::size_t len) : addr_(addr), len_(len) {}
    ~posix_mapping() override {
        if (addr_ != nullptr) {
            ::munmap(addr_, len_);
        }
    }
    posix_mapping(const posix_mapping&) = delete;
    posix_mapping& operator=(const posix_mapping&) = delete;
    bytes_view data() const override { return {static_cast<const std::uint8_t*>(addr_), len_}; }

private:
    void* addr_;
    std::size_t len_;
};

class empty_mapping final : public mapped_region {
public:
    bytes_view data() const override { return {}; }
};

// The file's current name, for an error message: asked of the kernel when needed rather than
// stored (every open segment of an idle partition would keep an 80-byte string).
std::string fd_path(int fd) {
    std::array<char, 4096> buf{};
    auto link = fmt::format("/proc/self/fd/{}", fd);
    auto n = ::readlink(link.c_str(), buf.data(), buf.size() - 1);
    if (n <= 0) {
        return fmt::format("descriptor {}", fd);
    }
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

class posix_file final : public file {
public:
    posix_file(int fd, std::shared_ptr<std::atomic<std::size_t>> open_count)
        : fd_(fd), open_count_(std::move(open_count)) {
        open_count_->fetch_add(1, std::memory_order_relaxed);
    }
    ~posix_file() override {
        ::close(fd_);
        open_count_->fetch_sub(1, std::memory_order_relaxed);
    }
    posix_file(const posix_file&) = delete;
    posix_file& operator=(const posix_file&) = delete;

    result<std::size_t> read_at(std::uint64_t pos, mutable_bytes_view dst) override {
        std::size_t done = 0;
        while (done < dst.size()) {
            auto n =
                ::pread(fd_, dst.data() + done, dst.size() - done, static_cast<off_t>(pos + done));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return fail("pread");
            }
            if (n == 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        return done;
    }

    result<void> write_at(std::uint64_t pos, bytes_view src) override {
        std::size_t done = 0;
        while (done < src.size()) {
            auto n =
                ::pwrite(fd_, src.data() + done, src.size() - done, static_cast<off_t>(pos + done));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return fail("pwrite");
            }
            done += static_cast<std::size_t>(n);
        }
        return ok();
    }

    result<std::uint64_t> size() override {
        struct stat st {};
        if (::fstat(fd_, &st) != 0) {
            return fail("fstat");
        }
        return static_cast<std::uint64_t>(st.st_size);
    }

    result<void> truncate(std::uint64_t size) override {
        if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
            return fail("ftruncate");
        }
        return ok();
    }

    result<void> sync() override {
        if (::fdatasync(fd_) != 0) {
            return fail("fdatasync");
        }
        return ok();
    }

    result<std::unique_ptr<mapped_region>> map_readonly(std::uint64_t size) override {
        if (size == 0) {
            return std::unique_ptr<mapped_region>(std::make_unique<empty_mapping>());
        }
        auto len = static_cast<std::size_t>(size);
        void* addr = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd_, 0);
        if (addr == MAP_FAILED) {
            return fail("mmap");
        }
        return std::unique_ptr<mapped_region>(std::make_unique<posix_mapping>(addr, len));
    }

    int native_handle() const override { return fd_; }

private:
    // The error of the system call `what` that just failed (errno read first: finding the
    // name makes system calls of its own).
    error fail(const char* what) const {
        const int err = errno;
        return sys_error(what, fd_path(fd_), err);
    }

    int fd_;
    std::shared_ptr<std::atomic<std::size_t>> open_count_;
};

}  // namespace

result<std::shared_ptr<file>> posix_file_system::open(const std::string& path, open_mode mode) {
    int flags = O_RDWR | O_CLOEXEC;
    if (mode == open_mode::create) {
        flags |= O_CREAT;
    } else if (mode == open_mode::create_exclusive) {
        flags |= O_CREAT | O_EXCL;
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
        return sys_error("open", path, errno);
    }
    return std::shared_ptr<file>(std::make_shared<posix_file>(fd, open_));
}

std::size_t posix_file_system::raise_open_file_limit() {
    struct rlimit lim {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        return 1024;
    }
    if (lim.rlim_cur < lim.rlim_max) {
        auto raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            lim = raised;
        }
    }
    return lim.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20U
                                         : static_cast<std::size_t>(lim.rlim_cur);
}

bool posix_file_system::exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

result<void> posix_file_system::create_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
        return sys_error("mkdir", path, ec.value());
    }
    return ok();
}

result<std::vector<std::string>> posix_file_system::list_dir(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
        return sys_error("opendir", path, errno);
    }
    std::vector<std::string> names;
    while (auto* ent = ::readdir(d)) {
        std::string name = ent->d_name;
        if (name != "." && name != "..") {
            names.push_back(std::move(name));
        }
    }
    ::closedir(d);
    return names;
}

result<bool> posix_file_system::is_dir(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return sys_error("stat", path, errno);
    }
    return S_ISDIR(st.st_mode);
}

result<void> posix_file_system::rename(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return sys_error("rename", from, errno);
    }
    return ok();
}

result<void> posix_file_system::remove(const std::string& path) {
    if (::remove(path.c_str()) != 0) {
        return sys_error("remove", path, errno);
    }
    return ok();
}

result<void> posix_file_system::remove_all(const std::string& path) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) {
        return sys_error("remove_all", path, ec.value());
    }
    return ok();
}

result<void> posix_file_system::sync_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return sys_error("open dir", path, errno);
    }
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
        return sys_error("fsync dir", path, err);
    }
    return ok();
}

}  // namespace gregor::storage
