// The group workload's consume mode: --members consumers subscribe in one new group and
// read the topic from the beginning (auto.offset.reset=earliest) up to the high watermarks
// seen at the start (or --records), each on its own thread with its own client; then one
// assign() consumer (the consume workload) reads the same topic in the same run, so the
// report gives the ratio of the two rates. A topic that does not exist is created with
// --partitions (default 2 x --members) and filled first by the produce workload.
//
// Every record is checked against its partition's next expected offset (shared atomics: a
// partition has one reader at a time), so records read twice after a rebalance are counted
// as duplicates, and a partition read by two members is reported.
#include "bench/consume.h"
#include "bench/errc.h"
#include "bench/group.h"
#include "bench/progress.h"
#include "bench/workloads.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <latch>
#include <memory>
#include <thread>

namespace gregor::bench {
namespace {

constexpr auto watch_interval = std::chrono::milliseconds(20);

// What the members share; `next` and `reader` are per partition.
struct shared_progress {
    std::int64_t target = 0;
    std::vector<std::int64_t> high;
    std::unique_ptr<std::atomic<std::int64_t>[]> next;  // next offset expected
    std::unique_ptr<std::atomic<int>[]> reader;         // first member to read it, -1: none
    std::atomic<std::int64_t> records{0};
    std::atomic<std::int64_t> duplicates{0};
    std::atomic<std::int64_t> second_readers{0};  // records read by a member not the first
    std::atomic<std::int64_t> errors{0};

    explicit shared_progress(const std::vector<partition_goal>& goals)
        : next(new std::atomic<std::int64_t>[goals.size()]),
          reader(new std::atomic<int>[goals.size()]) {
        for (std::size_t p = 0; p < goals.size(); ++p) {
            high.push_back(goals[p].high);
            next[p].store(goals[p].low);
            reader[p].store(-1);
        }
    }
    bool all_read() const {
        for (std::size_t p = 0; p < high.size(); ++p) {
            if (next[p].load(std::memory_order_relaxed) < high[p]) {
                return false;
            }
        }
        return true;
    }
};

// One member's own counts: written by its thread, read after it was joined.
struct member_counts {
    std::int64_t records = 0;
    std::int64_t bytes = 0;
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    int partitions = 0;  // held when the read ended (closing the client revokes them)
    std::string first_error;
};

// Counts one batch: only new offsets, and only up to the shared target.
void count_batch(rd_kafka_message_t** msgs, std::size_t n, int member, shared_progress& sp,
                 member_counts& c) {
    std::array<std::int64_t, batch_records_max> sizes{};
    std::size_t fresh = 0;
    for (std::size_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = msgs[i];
        auto p = static_cast<std::size_t>(m->partition);
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || p >= sp.high.size()) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                sp.errors.fetch_add(1);
                if (c.first_error.empty()) {
                    c.first_error = rd_kafka_message_errstr(m);
                }
            }
        } else if (m->offset < sp.next[p].load()) {
            sp.duplicates.fetch_add(1);
        } else {
            int first = -1;
            if (!sp.reader[p].compare_exchange_strong(first, member) && first != member) {
                sp.second_readers.fetch_add(1);
            }
            sp.next[p].store(m->offset + 1);
            sizes[fresh++] = static_cast<std::int64_t>(m->len);
        }
        rd_kafka_message_destroy(m);
    }
    std::int64_t before = sp.records.fetch_add(static_cast<std::int64_t>(fresh));
    auto counted = static_cast<std::size_t>(
        std::clamp<std::int64_t>(sp.target - before, 0, static_cast<std::int64_t>(fresh)));
    for (std::size_t i = 0; i < counted; ++i) {
        c.bytes += sizes[i];
    }
    c.records += static_cast<std::int64_t>(counted);
}

void read_loop(const options& o, group_member& m, shared_progress& sp, member_counts& c,
               std::latch& start, const std::atomic<bool>& stop) {
    start.arrive_and_wait();
    auto subscribed = subscribe_member(o, m);
    if (!subscribed) {
        c.first_error = subscribed.err().detail;
    }
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(m.rk.get());
    std::array<rd_kafka_message_t*, batch_records_max> msgs{};
    while (!stop.load(std::memory_order_relaxed)) {
        std::size_t n = next_batch(m.rk.get(), queue, msgs.data(), msgs.size(), batch_wait_ms);
        if (n > 0) {
            std::int64_t now = group_now_ns();
            c.first_ns = c.first_ns == 0 ? now : c.first_ns;
            count_batch(msgs.data(), n, m.index, sp, c);
            c.last_ns = group_now_ns();
        }
    }
    rd_kafka_queue_destroy(queue);
    (void)rd_kafka_consumer_close(m.rk.get());
}

// Until every record was read, --duration passed, or --timeout without progress.
void watch(const options& o, shared_progress& sp) {
    progress bar("records", sp.target, o.duration_s);
    auto started = group_clock::now();
    auto last_change = started;
    std::int64_t seen = 0;
    for (;;) {
        std::int64_t now_records = sp.records.load();
        bar.update(std::min(now_records, sp.target));
        auto now = group_clock::now();
        if (now_records >= sp.target || sp.all_read()) {
            break;
        }
        if (o.duration_s && now - started > std::chrono::duration<double>(*o.duration_s)) {
            break;
        }
        if (now_records != seen) {
            seen = now_records;
            last_change = now;
        } else if (now - last_change > timeout_of(o)) {
            break;
        }
        std::this_thread::sleep_for(watch_interval);
    }
    bar.finish();
}

// Writes the topic first (the produce workload) if it does not exist.
result<topic_layout> prepare_topic(const options& o, rd_kafka_t* admin, const client_log& log,
                                   report& r) {
    GREGOR_TRY(metadata_handle md, fetch_metadata(admin, o.bootstrap, timeout_of(o), log));
    if (!find_topic(*md, o.topic)) {
        options p = o;
        p.kind = workload::produce;
        p.duration_s.reset();
        p.records = o.records.value_or(default_records);
        p.partitions = o.partitions.value_or(2 * o.members);
        GREGOR_TRY(report written, run_produce(p));
        if (!written.failure.empty()) {
            return error(errc::incomplete, "writing the topic first: " + written.failure);
        }
        r.notes.push_back(
            fmt::format("wrote {} record(s) of {} bytes to the new topic {} ({} "
                        "partitions, acks={}) first",
                        *p.records, o.record_size, o.topic, *p.partitions, o.acks));
    }
    GREGOR_TRY(topic_layout layout, ensure_topic(admin, o, log, r.notes));
    if (static_cast<int>(layout.leaders.size()) < o.members) {
        return error(errc::bad_argument,
                     fmt::format("topic {} has {} partition(s), fewer than --members {}", o.topic,
                                 layout.leaders.size(), o.members));
    }
    return layout;
}

}  // namespace
namespace {

struct group_run {
    std::vector<std::unique_ptr<group_member>> members;
    std::vector<member_counts> counts;
};

// Opens the members (connected before the clock starts), runs them until watch() is done.
result<void> read_as_group(const options& o, const std::string& group, shared_progress& sp,
                           group_run& run) {
    for (int i = 0; i < o.members; ++i) {
        run.members.push_back(std::make_unique<group_member>());
        run.members.back()->index = i;
        GREGOR_TRY_VOID(open_member(o, group, *run.members.back()));
        GREGOR_TRY(metadata_handle md, fetch_metadata(run.members.back()->rk.get(), o.bootstrap,
                                                      timeout_of(o), *run.members.back()));
    }
    run.counts.resize(run.members.size());
    std::latch start(o.members + 1);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < run.members.size(); ++i) {
        threads.emplace_back(
            [&, i] { read_loop(o, *run.members[i], sp, run.counts[i], start, stop); });
    }
    start.arrive_and_wait();
    watch(o, sp);
    for (std::size_t i = 0; i < run.members.size(); ++i) {
        run.counts[i].partitions = static_cast<int>(run.members[i]->partitions().size());
    }
    stop.store(true);
    for (auto& t : threads) {
        t.join();
    }
    return ok();
}

std::vector<member_read> reads_of(const group_run& run) {
    std::vector<member_read> out;
    for (std::size_t i = 0; i < run.counts.size(); ++i) {
        const member_counts& c = run.counts[i];
        out.push_back({c.records, c.bytes, run.members[i]->subscribed_ns.load(), c.first_ns,
                       c.last_ns, c.partitions});
    }
    return out;
}

const figure* find(const std::vector<figure>& fs, const std::string& key) {
    auto it = std::find_if(fs.begin(), fs.end(), [&](const figure& f) { return f.key == key; });
    return it == fs.end() ? nullptr : &*it;
}

// The same records (the first `records` of the topic) read by one assign() consumer: the
// consume workload.
void add_assign_pass(const options& o, std::int64_t records_read, report& r) {
    options a = o;
    a.kind = workload::consume;
    a.duration_s.reset();
    a.records = records_read;
    const double cpu_before = process_cpu_s();
    auto read = run_consume(a);
    const double cpu_s = process_cpu_s() - cpu_before;
    if (!read || !read->failure.empty()) {
        r.failure = "the assign() pass failed: " + (read ? read->failure : read.err().detail);
        return;
    }
    // Values, not pointers: push_back below may move r.results.
    const double records = find(read->results, "records")->value;
    const double rate = find(read->results, "records_per_s")->value;
    const double mb = find(read->results, "mb_per_s")->value;
    const double group_rate = find(r.results, "records_per_s")->value;
    r.results.push_back({"assign_records", records, "records (one assign() consumer)"});
    r.results.push_back({"assign_records_per_s", rate, "records/s"});
    r.results.push_back({"assign_mb_per_s", mb, "MB/s"});
    r.results.push_back({"assign_client_cpu_us_per_record", cpu_s * 1e6 / std::max(records, 1.0),
                         "us of this process's CPU per record (librdkafka included)"});
    r.ratios.push_back({"group_to_assign_records_per_s", rate > 0 ? group_rate / rate : 0,
                        "of one assign() consumer's records/s"});
}

}  // namespace

std::vector<figure> group_read_figures(const std::vector<member_read>& members) {
    auto seconds_between = [](std::int64_t from_ns, std::int64_t to_ns) {
        return static_cast<double>(std::max<std::int64_t>(to_ns - from_ns, 0)) / 1e9;
    };
    std::int64_t first = INT64_MAX;
    std::int64_t last = 0;
    std::int64_t subscribed = INT64_MAX;
    std::int64_t records = 0;
    std::int64_t bytes = 0;
    for (const member_read& m : members) {
        subscribed = std::min(subscribed, m.subscribed_ns);
        if (m.records > 0) {
            first = std::min(first, m.first_ns);
            last = std::max(last, m.last_ns);
        }
        records += m.records;
        bytes += m.bytes;
    }
    first = first == INT64_MAX ? last : first;
    std::vector<figure> out = rate_figures(records, bytes, seconds_between(first, last));
    out.push_back({"join_ms", records > 0 ? seconds_between(subscribed, first) * 1e3 : 0,
                   "ms from the first subscribe to the first record"});
    for (std::size_t i = 0; i < members.size(); ++i) {
        const member_read& m = members[i];
        auto per = rate_figures(m.records, m.bytes, seconds_between(m.first_ns, m.last_ns));
        std::string key = fmt::format("member_{}_", i);
        out.push_back({key + "records", per[0].value, "records"});
        out.push_back({key + "records_per_s", per[2].value, "records/s (its first to last)"});
        out.push_back({key + "mb_per_s", per[3].value, "MB/s"});
        out.push_back(
            {key + "partitions", static_cast<double>(m.partitions), "partitions held at the end"});
    }
    return out;
}

result<report> run_group_consume(const options& o) {
    client_log log;
    GREGOR_TRY(conf_handle conf, make_conf(o, log, {}));
    GREGOR_TRY(kafka_handle admin, make_client(RD_KAFKA_PRODUCER, std::move(conf)));
    report r;
    r.workload = "group";
    GREGOR_TRY(topic_layout layout, prepare_topic(o, admin.get(), log, r));
    GREGOR_TRY(auto goals, watermarks(admin.get(), o, layout));
    shared_progress sp(goals);
    sp.target = std::min(records_to_read(goals), o.records.value_or(INT64_MAX));
    if (sp.target == 0) {
        return error(errc::incomplete, fmt::format("topic {} is empty", o.topic));
    }
    const std::string group = group_id_of(o, "read");
    group_run run;
    const double cpu_before = process_cpu_s();
    GREGOR_TRY_VOID(read_as_group(o, group, sp, run));
    const double cpu_s = process_cpu_s() - cpu_before;
    r.parameters = {{"mode", "consume"},
                    {"bootstrap", o.bootstrap},
                    {"topic", o.topic},
                    {"partitions", goals.size()},
                    {"group", group},
                    {"members", o.members},
                    {"records_at_start", records_to_read(goals)}};
    r.results = group_read_figures(reads_of(run));
    r.results.push_back(
        {"duplicates", static_cast<double>(sp.duplicates.load()), "records read again"});
    r.results.push_back({"records_read_by_a_second_member",
                         static_cast<double>(sp.second_readers.load()), "records"});
    r.results.push_back({"errors", static_cast<double>(sp.errors.load()), "consumer errors"});
    r.results.push_back({"client_cpu_us_per_record",
                         cpu_s * 1e6 / std::max(r.results[0].value, 1.0),
                         "us of this process's CPU per record, joining included"});
    auto read = static_cast<std::int64_t>(r.results[0].value);  // "records"
    if (read < sp.target && !o.duration_s) {
        std::string first_error;
        for (const auto& c : run.counts) {
            first_error = first_error.empty() ? c.first_error : first_error;
        }
        r.failure = fmt::format("the group read {} of {} record(s){}", read, sp.target,
                                first_error.empty() ? "" : "; first error: " + first_error);
        return r;
    }
    if (read == 0) {
        r.failure = fmt::format("the group read nothing within --duration {} s", *o.duration_s);
        return r;
    }
    run.members.clear();  // their clients (and librdkafka threads) gone before the next pass
    add_assign_pass(o, read, r);
    return r;
}

}  // namespace gregor::bench
