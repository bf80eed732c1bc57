// Group coordinator benchmarks: the `__consumer_offsets` work on a coordinator's hot paths.
//
//   baseline/copy_log                memcpy of the compacted log's bytes (the memory floor)
//   load/compacted                   1,000 groups x 100 partitions = 100,000 offsets, one
//                                    record each, in batches of 10 (one consumer's commit),
//                                    plus one group record per group; target < 1 s
//   load/uncompacted                 the same offsets committed 5 times (500,000 records)
//   commit/partitions_per_request:N  prepare (validate + encode + build the batch) and
//                                    complete (apply) OffsetCommit requests of N partitions;
//                                    items/s = partition commits/s; target >= 50,000/s
// Run from the release build: build/release/bench/group/group_bench
#include "group/loader.h"
#include "group/offsets.h"
#include "group/record_batches.h"
#include "model/record_batch.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace gregor;
using namespace gregor::group;

constexpr int group_total = 1000;
constexpr int partitions_per_group = 100;
constexpr int partitions_per_batch = 10;
constexpr std::size_t batch_max = 100 << 20;
constexpr std::size_t decompressed_max = 128 << 20;
constexpr model::timestamp_ms now{1'700'000'000'000};

std::string group_name(int g) {
    return "consumer-group-" + std::to_string(g);
}

group_metadata_value group_record(int g) {
    group_metadata_value v;
    v.protocol_type = "consumer";
    v.generation = 3;
    v.protocol = "range";
    v.leader = group_name(g) + "-member-0";
    v.current_state_timestamp = now;
    for (int m = 0; m < partitions_per_group / partitions_per_batch; ++m) {
        member_metadata_value member;
        member.member_id = group_name(g) + "-member-" + std::to_string(m);
        member.client_id = "consumer-" + std::to_string(m);
        member.client_host = "/10.0.0." + std::to_string(m);
        member.rebalance_timeout_ms = 300000;
        member.session_timeout_ms = 45000;
        member.subscription.assign(40, 0x01);
        member.assignment.assign(60, 0x02);
        v.members.push_back(std::move(member));
    }
    return v;
}

void append(bytes& log, bytes batch, std::int64_t& next) {
    auto header = model::parse_batch_header(batch, batch_max);
    model::set_base_offset(batch, model::offset{next});
    next += header->last_offset_delta + 1;
    log.insert(log.end(), batch.begin(), batch.end());
}

// One round: every group commits its 100 partitions in batches of 10.
void append_commit_round(bytes& log, std::int64_t& next, int round) {
    for (int g = 0; g < group_total; ++g) {
        for (int first = 0; first < partitions_per_group; first += partitions_per_batch) {
            std::vector<offset_record> records;
            for (int p = first; p < first + partitions_per_batch; ++p) {
                offset_commit_value v;
                v.offset = model::offset{1000 * round + p};
                v.leader_epoch = model::leader_epoch{5};
                v.commit_timestamp = now;
                records.push_back({{"topic-" + std::to_string(p % 4), model::partition_id{p}}, v});
            }
            append(log, *build_offset_commit_batch(group_name(g), records, now, {}), next);
        }
    }
}

bytes build_log(int rounds) {
    bytes log;
    std::int64_t next = 0;
    for (int g = 0; g < group_total; ++g) {
        append(log, *build_group_metadata_batch(group_name(g), group_record(g), now, {}), next);
    }
    for (int round = 0; round < rounds; ++round) {
        append_commit_round(log, next, round);
    }
    return log;
}

const bytes& compacted_log() {
    static const bytes log = build_log(1);
    return log;
}

const bytes& uncompacted_log() {
    static const bytes log = build_log(5);
    return log;
}

void bm_copy_log(benchmark::State& state) {
    const bytes& log = compacted_log();
    bytes copy(log.size());
    for (auto _ : state) {
        std::memcpy(copy.data(), log.data(), log.size());
        benchmark::DoNotOptimize(copy.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(log.size()));
}

void run_load(benchmark::State& state, const bytes& log, std::int64_t records) {
    for (auto _ : state) {
        load_result r = load_offsets_partition(log, offsets_config{}, batch_max, decompressed_max);
        if (r.error || r.offsets.committed_count() != group_total * partitions_per_group) {
            state.SkipWithError("load failed");
            break;
        }
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations() * records);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(log.size()));
    state.counters["log_MiB"] = static_cast<double>(log.size()) / (1 << 20);
}

void bm_load_compacted(benchmark::State& state) {
    run_load(state, compacted_log(), group_total * partitions_per_group);
}

void bm_load_uncompacted(benchmark::State& state) {
    run_load(state, uncompacted_log(), 5 * group_total * partitions_per_group);
}

void bm_commit(benchmark::State& state) {
    const auto per_request = static_cast<int>(state.range(0));
    offset_store store;
    std::vector<commit_request> requests;
    for (int g = 0; g < 100; ++g) {
        commit_request r{group_name(g), {}, std::nullopt, model::kafka_error::none};
        for (int p = 0; p < per_request; ++p) {
            commit_partition c;
            c.tp = {"topic-" + std::to_string(p % 4), model::partition_id{p}};
            c.offset = model::offset{p};
            c.metadata = "";
            r.partitions.push_back(c);
        }
        requests.push_back(std::move(r));
    }
    std::int64_t batch_offset = 0;
    std::size_t i = 0;
    for (auto _ : state) {
        commit_request& r = requests[i++ % requests.size()];
        for (commit_partition& c : r.partitions) {
            c.offset += 1;
        }
        commit_plan plan = store.prepare_commit(r, now);
        benchmark::DoNotOptimize(plan.batch.data());
        auto done = store.complete_commit(*plan.pending, model::offset{batch_offset});
        batch_offset += per_request;
        benchmark::DoNotOptimize(done);
    }
    state.SetItemsProcessed(state.iterations() * per_request);
}

}  // namespace

BENCHMARK(bm_copy_log)->Name("baseline/copy_log");
BENCHMARK(bm_load_compacted)->Name("load/compacted")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_load_uncompacted)->Name("load/uncompacted")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_commit)->Name("commit/partitions_per_request")->Arg(1)->Arg(10)->Arg(100);

BENCHMARK_MAIN();
