// The figure: validating a 1 MiB uncompressed Produce request carrying 10,000
// records the way the broker does before appending: decode the request header and body
// (records stay a view), then walk every batch checking header fields and CRC32C with the
// produce count rule, never parsing a record. Batches are cut at 16 KiB as librdkafka's
// default batching would. Baseline in the same run: one memcpy of the same frame.
// Target: at least 2 GB/s.
#include "model/record_batch.h"
#include "protocol/frame.h"
#include "protocol/messages/produce.h"
#include "protocol/records/batch_builder.h"

#include <benchmark/benchmark.h>

#include <cstring>

namespace {

using namespace gregor;
using namespace gregor::protocol;

constexpr int record_count = 10'000;
constexpr std::size_t value_bytes = 90;  // ~100-byte records with key and framing
constexpr std::size_t batch_bytes_max = 16 * 1024;

bytes record_set() {
    bytes out;
    std::string value(value_bytes, 'v');
    batch_builder b(batch_options{});
    for (int i = 0; i < record_count; ++i) {
        std::string key = fmt::format("k{:06}", i);
        b.add(record_input{
            bytes_view(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()),
            bytes_view(reinterpret_cast<const std::uint8_t*>(value.data()), value.size()),
            {},
            model::timestamp_ms{1700000000000 + i}});
        if (b.records_bytes() >= batch_bytes_max || i + 1 == record_count) {
            bytes batch = b.build().value();
            out.insert(out.end(), batch.begin(), batch.end());
            b = batch_builder(batch_options{});
        }
    }
    return out;
}

// A whole request frame without its size prefix: header v2 (Produce v9 is flexible) + body.
bytes produce_frame(const bytes& records) {
    produce_request req;
    req.acks = -1;
    req.timeout_ms = 30000;
    auto& topic = req.topic_data.emplace_back();
    topic.name = "bench";
    auto& part = topic.partition_data.emplace_back();
    part.index = model::partition_id{0};
    part.records = records_ref(bytes_view(records));
    auto frame = encode_request_frame<produce_api>(1, std::string("bench"), 9, req);
    bytes flat = frame.value().flatten();
    return bytes(flat.begin() + 4, flat.end());
}

bool validate(bytes_view frame) {
    reader r(frame);
    auto header = decode_request_header(r);
    auto body = decode_exact<produce_request>(r, header.value().api_version);
    if (!body) {
        return false;
    }
    for (const auto& topic : body->topic_data) {
        for (const auto& part : topic.partition_data) {
            model::batch_reader batches(part.records->data(), 1 << 20, model::count_rule::exact);
            while (true) {
                auto next = batches.next();
                if (!next) {
                    return false;
                }
                if (!next->has_value()) {
                    break;
                }
            }
        }
    }
    return true;
}

void produce_request_validate(benchmark::State& state) {
    bytes records = record_set();
    bytes frame = produce_frame(records);
    if (!validate(frame)) {
        state.SkipWithError("the request does not validate");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(validate(frame));
    }
    state.counters["frame_bytes"] = static_cast<double>(frame.size());
    state.counters["records"] = record_count;
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
}
BENCHMARK(produce_request_validate)->Unit(benchmark::kMicrosecond);

void produce_frame_memcpy_baseline(benchmark::State& state) {
    bytes frame = produce_frame(record_set());
    bytes target(frame.size());
    for (auto _ : state) {
        std::memcpy(target.data(), frame.data(), frame.size());
        benchmark::DoNotOptimize(target.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
}
BENCHMARK(produce_frame_memcpy_baseline)->Unit(benchmark::kMicrosecond);

}  // namespace
