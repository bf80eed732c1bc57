#include "integration/replication/partition_reader.h"

#include "base/limits.h"
#include "model/record_batch.h"
#include "protocol/messages/all.h"
#include "protocol/records/batch_records.h"
#include "support/broker_process.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace gregor::test {

using namespace std::chrono_literals;

namespace {

constexpr std::size_t batch_bytes_max = 64 * 1024 * 1024;
constexpr std::int32_t fetch_bytes_max = 1 << 20;
// A broker that does not answer in this time is treated as down (a paused one).
constexpr auto io_timeout = 5s;
constexpr auto retry_backoff = 100ms;

std::string as_string(std::optional<bytes_view> v) {
    if (!v) {
        return "<null>";
    }
    return {reinterpret_cast<const char*>(v->data()), v->size()};
}

bytes file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::vector<std::pair<std::int64_t, std::string>> parse_record_set(bytes_view data) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    model::batch_reader batches(data, batch_bytes_max, model::count_rule::at_most);
    while (true) {
        auto next = batches.next();
        if (!next || !*next) {
            return out;  // the clean end, or a torn / partial batch
        }
        const auto& entry = **next;
        if (entry.header.is_control()) {
            continue;
        }
        auto opened = protocol::batch_records::open(entry.header, entry.bytes,
                                                    limits::decompressed_batch_bytes_max);
        if (!opened) {
            return out;
        }
        auto records = opened->records();
        for (auto r = records.next(); r && *r; r = records.next()) {
            out.emplace_back(opened->offset_of(**r)(), as_string((*r)->value));
        }
    }
}

partition_log read_log_dir(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> segments;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".log") {
            segments.push_back(e.path());
        }
    }
    std::sort(segments.begin(), segments.end());
    partition_log out;
    for (const auto& s : segments) {
        bytes data = file_bytes(s);
        for (auto& [offset, value] : parse_record_set(data)) {
            out.emplace(offset, std::move(value));
        }
    }
    return out;
}

std::optional<leader_address> leader_of(std::uint16_t port, const std::string& topic,
                                        std::int32_t partition) {
    try {
        kafka_socket s(port, io_timeout);
        protocol::metadata_request req;
        req.topics = std::nullopt;
        bytes raw = s.call(protocol::metadata_api::key, 12, req);
        protocol::reader r(raw);
        auto m = protocol::metadata_response::decode(r, 12);
        if (!m) {
            return std::nullopt;
        }
        for (const auto& t : m->topics) {
            if (t.name != topic) {
                continue;
            }
            for (const auto& p : t.partitions) {
                if (p.partition_index() != partition || p.error_code != 0) {
                    continue;
                }
                for (const auto& b : m->brokers) {
                    if (b.node_id == p.leader_id) {
                        return leader_address{b.node_id(), static_cast<std::uint16_t>(b.port)};
                    }
                }
            }
        }
    } catch (const std::exception&) {
        // unreachable or paused: no answer from this broker
    }
    return std::nullopt;
}

fetch_result fetch_once(std::uint16_t port, const std::string& topic, std::int32_t partition,
                        std::int64_t offset, std::chrono::milliseconds max_wait) {
    kafka_socket s(port, io_timeout + max_wait);
    protocol::fetch_request req;
    req.max_wait_ms = static_cast<std::int32_t>(max_wait.count());
    req.min_bytes = 1;
    req.max_bytes = fetch_bytes_max;
    req.topics.push_back({topic,
                          {},
                          {{model::partition_id(partition), {}, model::offset(offset), {}, {},
                            fetch_bytes_max, {}}},
                          {}});
    bytes raw = s.call(protocol::fetch_api::key, 4, req);
    protocol::reader r(raw);
    auto decoded = protocol::fetch_response::decode(r, 4);
    if (!decoded || decoded->responses.empty() || decoded->responses[0].partitions.empty()) {
        throw std::runtime_error("malformed Fetch response");
    }
    const auto& p = decoded->responses[0].partitions[0];
    fetch_result out;
    out.error = p.error_code;
    out.high_watermark = p.high_watermark();
    if (p.records) {
        for (auto& rec : parse_record_set(p.records->data())) {
            if (rec.first >= offset) {  // a batch may start before the fetch offset
                out.records.push_back(std::move(rec));
            }
        }
    }
    return out;
}

read_back read_to_high_watermark(std::uint16_t port, const std::string& topic,
                                 std::int32_t partition) {
    read_back out;
    std::int64_t next = 0;
    try {
        while (true) {
            auto f = fetch_once(port, topic, partition, next, 0ms);
            if (f.error != 0) {
                out.error = fmt::format("Fetch at offset {} failed with error {}", next, f.error);
                return out;
            }
            out.high_watermark = f.high_watermark;
            for (auto& [offset, value] : f.records) {
                if (offset < f.high_watermark) {
                    out.records.emplace(offset, std::move(value));
                    next = offset + 1;
                }
            }
            if (next >= f.high_watermark) {
                return out;
            }
            if (f.records.empty()) {
                out.error = fmt::format("no records at offset {} below the high watermark {}",
                                        next, f.high_watermark);
                return out;
            }
        }
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

tailing_reader::tailing_reader(std::vector<std::uint16_t> ports, std::string topic,
                               std::int32_t partition)
    : ports_(std::move(ports)), topic_(std::move(topic)), partition_(partition) {
    thread_ = std::thread([this] { run(); });
}

tailing_reader::~tailing_reader() {
    stop();
}

void tailing_reader::stop() {
    stop_.store(true);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void tailing_reader::run() {
    while (!stop_.load()) {
        std::optional<leader_address> leader;
        for (auto port : ports_) {
            leader = leader_of(port, topic_, partition_);
            if (leader || stop_.load()) {
                break;
            }
        }
        if (leader) {
            follow(*leader);
        }
        std::this_thread::sleep_for(retry_backoff);
    }
}

// Fetches from `leader` until it fails or the reader stops.
void tailing_reader::follow(const leader_address& leader) {
    while (!stop_.load()) {
        fetch_result f;
        try {
            f = fetch_once(leader.port, topic_, partition_, next_.load(), 200ms);
        } catch (const std::exception&) {
            return;
        }
        std::lock_guard lock(mutex_);
        if (f.error != 0) {
            ++errors_[f.error];
            return;
        }
        for (auto& [offset, value] : f.records) {
            if (offset < next_.load()) {
                anomalies_.push_back(fmt::format("offset {} served again after {}", offset,
                                                 next_.load()));
                continue;
            }
            auto [it, fresh] = seen_.emplace(offset, value);
            if (!fresh && it->second != value) {
                anomalies_.push_back(fmt::format("offset {} was {} and is now {}", offset,
                                                 it->second, value));
            }
            next_.store(offset + 1);
        }
    }
}

partition_log tailing_reader::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

std::vector<std::string> tailing_reader::anomalies() const {
    std::lock_guard lock(mutex_);
    return anomalies_;
}

std::map<std::int16_t, std::int64_t> tailing_reader::errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
}

}  // namespace gregor::test
