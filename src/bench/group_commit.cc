// The group workload's commit mode (--commits N): one consumer that never joins the group
// (generation -1, like an assign() consumer) commits one offset per OffsetCommit to the
// group's coordinator: first --sync-commits one at a time (rd_kafka_commit, async=0), then N
// pipelined (rd_kafka_commit_queue, at most --commit-window in flight, results read as
// events). Offsets go round-robin over the topic's partitions and only grow. Each commit's
// latency runs from the call to its result.
#include "bench/errc.h"
#include "bench/group.h"
#include "bench/process_usage.h"
#include "bench/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <thread>

namespace gregor::bench {
namespace {

constexpr std::int64_t default_sync_commits_max = 10'000;
constexpr int result_wait_ms = 100;
constexpr auto warm_up_retry = std::chrono::milliseconds(100);

struct commit_phase {
    histogram latency;
    std::int64_t done = 0;
    std::int64_t errors = 0;
    double seconds = 0;
    std::string first_error;

    void fail(const std::string& what) {
        ++errors;
        first_error = first_error.empty() ? what : first_error;
    }
};

// Offsets to commit, one partition each, round-robin; owns the list it hands out.
class offset_source {
public:
    offset_source(std::string topic, int partitions)
        : topic_(std::move(topic)), partitions_(partitions) {}
    ~offset_source() { release(); }
    offset_source(const offset_source&) = delete;
    offset_source& operator=(const offset_source&) = delete;

    const rd_kafka_topic_partition_list_t* next() {
        release();
        list_ = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list_, topic_.c_str(),
                                          static_cast<int>(count_ % partitions_))
            ->offset = count_ / partitions_ + 1;
        ++count_;
        return list_;
    }

private:
    void release() {
        if (list_ != nullptr) {
            rd_kafka_topic_partition_list_destroy(list_);
            list_ = nullptr;
        }
    }
    std::string topic_;
    std::int64_t partitions_;
    std::int64_t count_ = 0;
    rd_kafka_topic_partition_list_t* list_ = nullptr;
};

std::string partition_error(const rd_kafka_topic_partition_list_t* list) {
    for (int i = 0; list != nullptr && i < list->cnt; ++i) {
        if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return rd_kafka_err2str(list->elems[i].err);
        }
    }
    return {};
}

// Until one commit succeeds: finds the coordinator (and lets the brokers create
// __consumer_offsets) before any clock starts.
result<void> warm_up(const options& o, rd_kafka_t* rk, offset_source& offsets) {
    auto deadline = group_clock::now() + timeout_of(o);
    std::string last;
    while (group_clock::now() < deadline) {
        const auto* list = offsets.next();
        auto err = rd_kafka_commit(rk, list, 0);
        last = err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(err) : partition_error(list);
        if (last.empty()) {
            return ok();
        }
        std::this_thread::sleep_for(warm_up_retry);
    }
    return error(errc::unreachable,
                 fmt::format("no OffsetCommit succeeded within {} s: {}", o.timeout_s, last));
}

commit_phase commit_sync(rd_kafka_t* rk, offset_source& offsets, std::int64_t n) {
    commit_phase ph;
    progress bar("sync commits", n, std::nullopt);
    std::int64_t start = group_now_ns();
    for (std::int64_t i = 0; i < n; ++i) {
        const auto* list = offsets.next();
        std::int64_t sent = group_now_ns();
        auto err = rd_kafka_commit(rk, list, 0);
        ph.latency.record(static_cast<std::uint64_t>(group_now_ns() - sent));
        std::string e =
            err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(err) : partition_error(list);
        if (!e.empty()) {
            ph.fail(e);
        }
        ++ph.done;
        bar.update(ph.done);
    }
    bar.finish();
    ph.seconds = static_cast<double>(group_now_ns() - start) / 1e9;
    return ph;
}

// Takes one commit result from `q` if it comes within `wait_ms`; false if none came.
bool take_result(rd_kafka_queue_t* q, int wait_ms, commit_phase& ph) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, wait_ms);
    if (ev == nullptr) {
        return false;
    }
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
        auto sent =
            static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(rd_kafka_event_opaque(ev)));
        ph.latency.record(
            static_cast<std::uint64_t>(std::max<std::int64_t>(group_now_ns() - sent, 0)));
        auto err = rd_kafka_event_error(ev);
        std::string e = err != RD_KAFKA_RESP_ERR_NO_ERROR
                            ? rd_kafka_err2str(err)
                            : partition_error(rd_kafka_event_topic_partition_list(ev));
        if (!e.empty()) {
            ph.fail(e);
        }
        ++ph.done;
    }
    rd_kafka_event_destroy(ev);
    return true;
}

commit_phase commit_pipelined(const options& o, rd_kafka_t* rk, offset_source& offsets,
                              std::int64_t n) {
    commit_phase ph;
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    progress bar("commits", n, std::nullopt);
    std::int64_t start = group_now_ns();
    std::int64_t sent = 0;
    auto last_result = group_clock::now();
    while (ph.done < n) {
        while (sent - ph.done < o.commit_window && sent < n) {
            void* stamp = reinterpret_cast<void*>(static_cast<std::uintptr_t>(group_now_ns()));
            auto err = rd_kafka_commit_queue(rk, offsets.next(), q, nullptr, stamp);
            ++sent;
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                ph.fail(rd_kafka_err2str(err));
                ++ph.done;
            }
        }
        if (take_result(q, result_wait_ms, ph)) {
            last_result = group_clock::now();
            while (take_result(q, 0, ph)) {
            }
        } else if (group_clock::now() - last_result > timeout_of(o)) {
            ph.fail(fmt::format("{} commit(s) unanswered after {} s", sent - ph.done, o.timeout_s));
            break;
        }
        bar.update(ph.done);
    }
    bar.finish();
    ph.seconds = static_cast<double>(group_now_ns() - start) / 1e9;
    rd_kafka_queue_destroy(q);
    return ph;
}

// CPU seconds so far of each broker (by id) and of this process (every thread: the
// librdkafka client included).
struct cpu_snapshot {
    std::map<int, double> brokers;
    double client_s = 0;
};

cpu_snapshot take_cpu(const std::map<int, pid_t>& pids) {
    cpu_snapshot c;
    for (const auto& [id, pid] : pids) {
        if (auto u = read_process_usage(pid)) {
            c.brokers[id] = u->cpu_s;
        }
    }
    c.client_s = process_cpu_s();
    return c;
}

// CPU microseconds per pipelined commit of each broker and of the client.
void add_cpu(const cpu_snapshot& before, const cpu_snapshot& after, std::int64_t commits,
             report& r) {
    auto per = [&](double s) {
        return s * 1e6 / static_cast<double>(std::max<std::int64_t>(commits, 1));
    };
    for (const auto& [id, cpu_s] : after.brokers) {
        auto was = before.brokers.find(id);
        if (was != before.brokers.end()) {
            r.results.push_back({fmt::format("broker_{}_cpu_us_per_commit", id),
                                 per(cpu_s - was->second), "us of that broker's CPU per commit"});
        }
    }
    r.results.push_back({"client_cpu_us_per_commit", per(after.client_s - before.client_s),
                         "us of this process's CPU (librdkafka included) per commit"});
}

void add_phase(const char* prefix, const commit_phase& ph, report& r) {
    std::string p = prefix;
    r.results.push_back({p + "commits", static_cast<double>(ph.done), "OffsetCommits"});
    r.results.push_back({p + "elapsed_s", ph.seconds, "s"});
    r.results.push_back({p + "commits_per_s",
                         static_cast<double>(ph.done) / std::max(ph.seconds, 1e-9),
                         "OffsetCommits/s"});
    r.results.push_back({p + "errors", static_cast<double>(ph.errors), "commits failed"});
}

}  // namespace

result<report> run_group_commit(const options& raw) {
    options o = raw;
    o.partitions = o.partitions.value_or(1);
    const std::string group = group_id_of(o, "commit");
    client_log log;
    GREGOR_TRY(conf_handle conf,
               make_conf(o, log, {{"group.id", group}, {"enable.auto.commit", "false"}}));
    GREGOR_TRY(kafka_handle rk, make_client(RD_KAFKA_CONSUMER, std::move(conf)));
    report r;
    r.workload = "group";
    GREGOR_TRY(topic_layout layout, ensure_topic(rk.get(), o, log, r.notes));
    offset_source offsets(o.topic, static_cast<int>(layout.leaders.size()));
    GREGOR_TRY_VOID(warm_up(o, rk.get(), offsets));
    const std::int64_t n = *o.commits;
    const std::int64_t sync_n = o.sync_commits.value_or(std::min(n, default_sync_commits_max));
    commit_phase sync = commit_sync(rk.get(), offsets, sync_n);
    const std::map<int, pid_t> pids = broker_pids(o);
    cpu_snapshot cpu_before = take_cpu(pids);
    commit_phase pipelined = commit_pipelined(o, rk.get(), offsets, n);
    cpu_snapshot cpu_after = take_cpu(pids);
    r.parameters = {{"mode", "commit"}, {"bootstrap", o.bootstrap},
                    {"topic", o.topic}, {"partitions", layout.leaders.size()},
                    {"group", group},   {"sync_commits", sync_n},
                    {"commits", n},     {"commit_window", o.commit_window}};
    add_phase("", pipelined, r);
    r.latency = summarize("commit_latency_ms", pipelined.latency);
    add_phase("sync_", sync, r);
    latency_summary s = summarize("sync", sync.latency);
    r.results.push_back({"sync_latency_p50_ms", s.p50_ms, "ms"});
    r.results.push_back({"sync_latency_p99_ms", s.p99_ms, "ms"});
    r.results.push_back({"sync_latency_p99_9_ms", s.p999_ms, "ms"});
    r.results.push_back({"sync_latency_max_ms", s.max_ms, "ms"});
    add_cpu(cpu_before, cpu_after, pipelined.done, r);
    r.notes.push_back(
        "one offset per OffsetCommit; the latency section is the pipelined commits', "
        "from rd_kafka_commit_queue() to its result event");
    if (sync.errors + pipelined.errors > 0 || pipelined.done < n) {
        r.failure =
            fmt::format("{} commit(s) failed, {} of {} pipelined answered; first error: {}",
                        sync.errors + pipelined.errors, pipelined.done, n,
                        pipelined.first_error.empty() ? sync.first_error : pipelined.first_error);
    }
    return r;
}

}  // namespace gregor::bench
