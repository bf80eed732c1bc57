// Goal: a gather_cursor hands the writer exactly the framed response bytes, in order, across
// memory runs and file slices, however the kernel splits the writes. Method: walk the cursor
// against an in-memory "socket" that accepts a few bytes per call and resolves file chunks
// from a fake file table, then compare with the expected frame.
#include "net/response.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>

namespace gregor::net {
namespace {

// Drains `cursor`, accepting at most `step` bytes per write, and returns what was "sent".
bytes drain(gather_cursor& cursor, const std::map<int, bytes>& files, std::size_t step) {
    bytes out;
    while (!cursor.done()) {
        std::size_t n = 0;
        if (cursor.at_file()) {
            auto chunk = cursor.next_file();
            const auto& f = files.at(chunk.fd);
            n = std::min(step, chunk.length);
            auto from = f.begin() + chunk.offset;
            out.insert(out.end(), from, from + static_cast<std::ptrdiff_t>(n));
        } else {
            std::array<iovec, 3> iov{};  // small, to exercise runs longer than one call
            std::size_t count = cursor.next_iovecs(iov);
            EXPECT_GT(count, 0u);
            for (std::size_t i = 0; i < count && n < step; ++i) {
                std::size_t take = std::min(step - n, iov[i].iov_len);
                auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
                out.insert(out.end(), p, p + take);
                n += take;
            }
        }
        cursor.advance(n);
    }
    return out;
}

TEST(gather_cursor, frames_a_single_buffer_with_its_size) {
    response r(bytes{1, 2, 3});
    gather_cursor c(r);
    EXPECT_EQ(c.remaining_bytes(), 7u);
    EXPECT_EQ(drain(c, {}, 100), (bytes{0, 0, 0, 3, 1, 2, 3}));
}

TEST(gather_cursor, mixed_buffer_span_file_buffer_arrive_intact_with_one_byte_writes) {
    static const bytes external{10, 11, 12, 13};
    std::map<int, bytes> files{{7, bytes{90, 91, 92, 93, 94, 95}}};
    response r;
    r.append(bytes{1, 2});
    r.append(bytes_view(external), nullptr);
    r.append_file(7, 1, 4, nullptr);
    r.append(bytes{3});
    EXPECT_EQ(r.size_bytes(), 11u);
    for (std::size_t step : {1u, 2u, 3u, 5u, 100u}) {
        gather_cursor c(r);
        EXPECT_EQ(drain(c, files, step),
                  (bytes{0, 0, 0, 11, 1, 2, 10, 11, 12, 13, 91, 92, 93, 94, 3}))
            << "step " << step;
    }
}

TEST(gather_cursor, a_batch_of_responses_is_framed_back_to_back) {
    std::map<int, bytes> files{{4, bytes{50, 51, 52}}};
    response a(bytes{1, 2});
    response b;
    b.append_file(4, 1, 2, nullptr);
    response empty;
    std::array<const response*, 3> batch{&a, &b, &empty};
    for (std::size_t step : {1u, 4u, 100u}) {
        gather_cursor c(batch);
        EXPECT_EQ(drain(c, files, step), (bytes{0, 0, 0, 2, 1, 2, 0, 0, 0, 2, 51, 52, 0, 0, 0, 0}))
            << "step " << step;
    }
}

TEST(gather_cursor, iovec_run_stops_at_a_file_slice) {
    std::map<int, bytes> files{{3, bytes{7, 7}}};
    response r;
    r.append(bytes{1});
    r.append_file(3, 0, 2, nullptr);
    gather_cursor c(r);
    std::array<iovec, 8> iov{};
    EXPECT_EQ(c.next_iovecs(iov), 2u);  // prefix + the buffer, not the file
    c.advance(5);
    EXPECT_TRUE(c.at_file());
    EXPECT_EQ(c.next_file().length, 2u);
}

TEST(gather_cursor, empty_segments_are_skipped) {
    response r;
    r.append(bytes{});
    r.append_file(3, 0, 0, nullptr);
    EXPECT_TRUE(r.segments().empty());
    gather_cursor c(r);
    EXPECT_EQ(drain(c, {}, 1), (bytes{0, 0, 0, 0}));
}

}  // namespace
}  // namespace gregor::net
