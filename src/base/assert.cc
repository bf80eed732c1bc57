#include "base/assert.h"

#include <cstdio>
#include <cstdlib>
#include <execinfo.h>
#include <unistd.h>

namespace gregor::detail {

void assert_failed(std::string_view file, int line, std::string_view expr,
                   std::string_view message) noexcept {
    // fprintf rather than the logger: the logger itself may be what is broken.
    std::fprintf(stderr, "ASSERTION FAILED at %.*s:%d: (%.*s) %.*s\n",
                 static_cast<int>(file.size()), file.data(), line, static_cast<int>(expr.size()),
                 expr.data(), static_cast<int>(message.size()), message.data());
    void* frames[64];
    int depth = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, depth, STDERR_FILENO);
    std::fflush(stderr);
    std::abort();
}

}  // namespace gregor::detail
