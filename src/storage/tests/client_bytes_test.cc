// Goal: record sets exactly as real producers sent them (kcat/librdkafka and kafka-python,
// every compression codec) are accepted by a leader append and read back byte for byte,
// apart from the base offset and leader epoch the broker assigns.
// Method: the captured produce payloads in tests/compat/data/produce (committed with the
// repository), appended twice to a memory log so the second copy gets rewritten offsets.
#include "storage/log.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace gregor::storage {
namespace {

bytes read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(client_bytes, real_producer_record_sets_append_and_read_back) {
    std::filesystem::path dir = GREGOR_COMPAT_PRODUCE_DIR;
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".bin") {
            continue;
        }
        ++files;
        auto original = read_file(entry.path());
        ASSERT_FALSE(original.empty()) << entry.path();
        test::memory_env env;
        log_config cfg;
        cfg.segment_index_bytes = 1024;
        auto l =
            log::open(env.ctx(), "/c/t-0", {"t", model::partition_id(0)}, cfg, {}, test::ts(0));
        ASSERT_TRUE(l);
        for (int copy = 0; copy < 2; ++copy) {
            auto payload = original;
            auto r = (*l)->append_as_leader(payload, model::leader_epoch(4), test::ts(0));
            ASSERT_TRUE(r) << entry.path() << ": " << r.err().to_string();
        }
        auto half = (*l)->log_end_offset()() / 2;
        auto back = (*l)->read(model::offset(half), 1 << 20, (*l)->log_end_offset());
        ASSERT_TRUE(back);
        auto data = *back->slice.read_all();
        ASSERT_EQ(data.size(), original.size()) << entry.path();
        // Bytes 0..7 (base offset) and 12..15 (leader epoch) are the broker's; the rest
        // is the client's, untouched (same CRC).
        EXPECT_TRUE(std::equal(data.begin() + 16, data.end(), original.begin() + 16));
        EXPECT_TRUE(std::equal(data.begin() + 8, data.begin() + 12, original.begin() + 8));
        EXPECT_EQ(back->first_offset, model::offset(half));
    }
    EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace gregor::storage
