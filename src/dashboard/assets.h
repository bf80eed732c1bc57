// The dashboard's static files (index.html, dashboard.js, dashboard.css and Chart.js),
// compiled into the binary at build time from src/dashboard/assets/ and Debian's
// libjs-chart.js, so a broker serves its dashboard with nothing installed beside it.
// Read-only data; any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::dashboard {

// One embedded file, as the build wrote it (embedded_assets.cc).
struct embedded_file {
    const char* name;
    const unsigned char* data;
    std::size_t size;
};
extern const embedded_file embedded_files[];
extern const std::size_t embedded_file_count;

struct asset {
    std::string_view content_type;
    std::string_view body;
};

// The file served at `path` ("/" and "/index.html" are the page, "/<name>" the others);
// nullopt for any other path.
std::optional<asset> find(std::string_view path);

// Every path find() answers.
std::vector<std::string> paths();

}  // namespace gregor::dashboard
