// Goal: every request real clients sent to a Kafka listener decodes with gregor's codecs
// exactly (no byte left over), re-encodes to the identical bytes, and carries the values
// the client was asked to send. Method: the frames in tests/compat/data/requests, captured
// by tests/compat/tools/capture_clients.py from kcat (librdkafka 2.0.2) and kafka-python
// 2.0.2 producing 20 records to partition 0 of "gregor-golden" and consuming it.
#include "protocol/frame.h"
#include "protocol/messages/all.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace gregor::protocol {
namespace {

namespace fs = std::filesystem;

const fs::path data_dir{GREGOR_COMPAT_DATA_DIR};

bytes read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<fs::path> captured_frames() {
    std::vector<fs::path> out;
    for (const auto& dir : fs::directory_iterator(data_dir / "requests")) {
        for (const auto& f : fs::directory_iterator(dir.path())) {
            out.push_back(f.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct decoded {
    request_header header;
    std::size_t header_bytes = 0;
};

// Decodes header and body of `frame`; re-encodes the body and compares it with the input.
decoded check_frame(const fs::path& path, const bytes& frame) {
    reader r(frame);
    auto header = decode_request_header(r);
    EXPECT_TRUE(header.has_value()) << path;
    if (!header) {
        return {};
    }
    decoded out{*header, frame.size() - r.remaining()};
    bool known = visit_api(header->api_key, [&](auto api) {
        using request = typename decltype(api)::request_type;
        auto body = decode_exact<request>(r, header->api_version);
        ASSERT_TRUE(body.has_value()) << path << ": " << body.err().to_string();
        writer w;
        body->encode(w, header->api_version);
        ASSERT_TRUE(w.ok()) << path;
        bytes again = std::move(w).finish().flatten();
        bytes original(frame.begin() + static_cast<std::ptrdiff_t>(out.header_bytes), frame.end());
        EXPECT_TRUE(again == original) << path << ": re-encoded body differs";
    });
    EXPECT_TRUE(known) << path << ": api key " << header->api_key;
    return out;
}

TEST(captured_requests, every_frame_decodes_exactly_and_reencodes_identically) {
    auto frames = captured_frames();
    ASSERT_GE(frames.size(), 40U) << "captures missing under " << data_dir;
    for (const auto& path : frames) {
        bytes frame = read_file(path);
        auto d = check_frame(path, frame);
        std::string name = path.filename().string();
        EXPECT_NE(name.find("-v" + std::to_string(d.header.api_version) + ".bin"),
                  std::string::npos)
            << name << " decoded as version " << d.header.api_version;
    }
}

TEST(captured_requests, librdkafka_identifies_itself_and_uses_flexible_api_versions) {
    bytes frame = read_file(data_dir / "requests/kcat-produce-none/000-api_versions-v3.bin");
    reader r(frame);
    auto header = decode_request_header(r);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->client_id, "rdkafka");
    auto body = decode_exact<api_versions_request>(r, 3);
    ASSERT_TRUE(body.has_value());
    EXPECT_EQ(body->client_software_name, "librdkafka");
    EXPECT_EQ(body->client_software_version.substr(0, 3), "2.0");
}

// The record set inside each captured Produce request is byte for byte the one stored in
// tests/compat/data/produce, so the records tests and this test describe the same bytes.
TEST(captured_requests, produce_requests_carry_the_captured_record_sets) {
    for (const char* client : {"kcat", "kafkapython"}) {
        for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
            fs::path dir = data_dir / "requests" / (std::string(client) + "-produce-" + codec);
            fs::path produce;
            for (const auto& f : fs::directory_iterator(dir)) {
                if (f.path().filename().string().find("-produce-") != std::string::npos) {
                    produce = f.path();
                }
            }
            ASSERT_FALSE(produce.empty()) << dir;
            bytes frame = read_file(produce);
            reader r(frame);
            auto header = decode_request_header(r);
            ASSERT_TRUE(header.has_value());
            auto body = decode_exact<produce_request>(r, header->api_version);
            ASSERT_TRUE(body.has_value()) << produce;
            ASSERT_EQ(body->topic_data.size(), 1U);
            EXPECT_EQ(body->topic_data[0].name, "gregor-golden");
            ASSERT_EQ(body->topic_data[0].partition_data.size(), 1U);
            const auto& part = body->topic_data[0].partition_data[0];
            EXPECT_EQ(part.index, model::partition_id(0));
            ASSERT_TRUE(part.records.has_value());
            bytes expected =
                read_file(data_dir / "produce" / (std::string(client) + "-" + codec + ".bin"));
            EXPECT_TRUE(std::equal(part.records->data().begin(), part.records->data().end(),
                                   expected.begin(), expected.end()))
                << produce;
        }
    }
}

TEST(captured_requests, consumers_fetch_partition_zero_from_offset_zero) {
    for (const char* file :
         {"kcat-consume/004-fetch-v11.bin", "kafkapython-consume/004-fetch-v4.bin"}) {
        bytes frame = read_file(data_dir / "requests" / file);
        reader r(frame);
        auto header = decode_request_header(r);
        ASSERT_TRUE(header.has_value());
        auto body = decode_exact<fetch_request>(r, header->api_version);
        ASSERT_TRUE(body.has_value()) << file;
        EXPECT_EQ(body->replica_id, model::node_id(-1)) << file;
        ASSERT_EQ(body->topics.size(), 1U);
        EXPECT_EQ(body->topics[0].topic, "gregor-golden");
        ASSERT_EQ(body->topics[0].partitions.size(), 1U);
        EXPECT_EQ(body->topics[0].partitions[0].fetch_offset, model::offset(0));
        EXPECT_GT(body->topics[0].partitions[0].partition_max_bytes, 0);
    }
}

}  // namespace
}  // namespace gregor::protocol
