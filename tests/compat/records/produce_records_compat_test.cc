// Goal: gregor decodes the exact record sets real producers send, for every codec: kcat
// (librdkafka 2.0.2, raw snappy) and kafka-python (xerial-framed snappy), so produce
// validation and the consumer-facing paths agree with real clients byte for byte.
// Method: each tests/compat/data/produce/<client>-<codec>.bin is walked with
// model::batch_reader (CRC and the produce count rule), every batch is opened with
// batch_records (decompressing), and every record is compared in order with
// <client>-<codec>.json (key, value, headers). The batches must use the named codec.
#include "model/record_batch.h"
#include "protocol/records/batch_records.h"
#include "protocol/records/compression.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace gregor::protocol {
namespace {

using model::compression_type;

struct capture {
    std::string client;
    std::string codec;
    compression_type type;
};

std::string to_name(const testing::TestParamInfo<capture>& info) {
    return info.param.client + "_" + info.param.codec;
}

std::optional<bytes> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<std::string> as_string(const std::optional<bytes_view>& b) {
    if (!b) {
        return std::nullopt;
    }
    return std::string(b->begin(), b->end());
}

std::optional<std::string> json_string(const nlohmann::json& j) {
    if (j.is_null()) {
        return std::nullopt;
    }
    return j.get<std::string>();
}

class produce_capture : public testing::TestWithParam<capture> {
protected:
    std::string path(const char* ext) const {
        return std::string(GREGOR_COMPAT_PRODUCE_DIR) + "/" + GetParam().client + "-" +
               GetParam().codec + ext;
    }
};

void expect_record(const record_view& r, const nlohmann::json& want, std::size_t index) {
    SCOPED_TRACE("record " + std::to_string(index));
    EXPECT_EQ(as_string(r.key), json_string(want.at("key")));
    EXPECT_EQ(as_string(r.value), json_string(want.at("value")));
    const auto& headers = want.at("headers");
    ASSERT_EQ(static_cast<std::size_t>(r.headers.size()), headers.size());
    std::size_t h = 0;
    for (const record_header_view& hv : r.headers) {
        EXPECT_EQ(std::string(hv.key), headers[h].at(0).get<std::string>());
        EXPECT_EQ(as_string(hv.value), json_string(headers[h].at(1)));
        ++h;
    }
}

TEST_P(produce_capture, every_record_decodes_as_sent) {
    const auto set = read_file(path(".bin"));
    const auto json_text = read_file(path(".json"));
    ASSERT_TRUE(set && json_text) << "missing capture " << path(".bin");
    const auto want = nlohmann::json::parse(json_text->begin(), json_text->end());
    ASSERT_FALSE(want.empty());

    model::batch_reader reader(*set, set->size(), model::count_rule::exact);
    std::size_t next_record = 0;
    std::int32_t batches = 0;
    for (;;) {
        auto entry = reader.next();
        ASSERT_TRUE(entry.has_value()) << entry.err().to_string();
        if (!entry->has_value()) {
            break;
        }
        ++batches;
        const auto& e = **entry;
        EXPECT_EQ(e.header.compression(), GetParam().type);
        auto opened = batch_records::open(e.header, e.bytes, 1 << 20);
        ASSERT_TRUE(opened.has_value()) << opened.err().to_string();
        record_reader records = opened->records();
        for (std::int32_t i = 0;; ++i) {
            auto r = records.next();
            ASSERT_TRUE(r.has_value()) << r.err().to_string();
            if (!r->has_value()) {
                break;
            }
            ASSERT_LT(next_record, want.size()) << "more records than sent";
            EXPECT_EQ((*r)->offset_delta, i);
            expect_record(**r, want[next_record], next_record);
            ++next_record;
        }
    }
    EXPECT_GE(batches, 1);
    EXPECT_EQ(next_record, want.size());
    EXPECT_EQ(reader.position(), set->size());
}

TEST_P(produce_capture, one_flipped_byte_is_refused) {
    auto set = read_file(path(".bin"));
    ASSERT_TRUE(set);
    (*set)[set->size() - 3] ^= 0x20;
    model::batch_reader reader(*set, set->size(), model::count_rule::exact);
    bool refused = false;
    while (!refused) {
        auto entry = reader.next();
        refused = entry.has_error();
        if (!refused && !entry->has_value()) {
            break;
        }
    }
    EXPECT_TRUE(refused);
}

INSTANTIATE_TEST_SUITE_P(clients, produce_capture,
                         testing::Values(capture{"kcat", "none", compression_type::none},
                                         capture{"kcat", "gzip", compression_type::gzip},
                                         capture{"kcat", "snappy", compression_type::snappy},
                                         capture{"kcat", "lz4", compression_type::lz4},
                                         capture{"kcat", "zstd", compression_type::zstd},
                                         capture{"kafkapython", "none", compression_type::none},
                                         capture{"kafkapython", "gzip", compression_type::gzip},
                                         capture{"kafkapython", "snappy", compression_type::snappy},
                                         capture{"kafkapython", "lz4", compression_type::lz4},
                                         capture{"kafkapython", "zstd", compression_type::zstd}),
                         to_name);

// The two snappy framings must both appear in real traffic, or the xerial reader would only
// ever see our own bytes.
TEST(produce_capture_framing, kcat_sends_raw_snappy_and_kafka_python_sends_xerial) {
    const std::string dir = GREGOR_COMPAT_PRODUCE_DIR;
    const auto kcat = read_file(dir + "/kcat-snappy.bin");
    const auto kp = read_file(dir + "/kafkapython-snappy.bin");
    ASSERT_TRUE(kcat && kp);
    const auto is_xerial = [](const bytes& set) {
        return set.size() > model::batch_header_bytes + 8 &&
               set[model::batch_header_bytes] == 0x82 &&
               std::string(set.begin() + model::batch_header_bytes + 1,
                           set.begin() + model::batch_header_bytes + 7) == "SNAPPY";
    };
    EXPECT_FALSE(is_xerial(*kcat));
    EXPECT_TRUE(is_xerial(*kp));
}

}  // namespace
}  // namespace gregor::protocol
