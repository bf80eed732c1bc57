// The group workload's takeover mode (--takeover --cluster-dir D): commits --commits offsets
// (default 100,000: --partitions 1,000 x 100 rounds, one OffsetCommit of every partition per
// round, through librdkafka) for one new group, finds its coordinator (FindCoordinator on
// gregor's own codecs: librdkafka does not expose it), kills it with `gregor cluster kill`
// (SIGKILL; the cluster keeps it down), then asks the survivors every 10 ms who coordinates
// the group and that broker for every offset (OffsetFetch), retrying COORDINATOR_LOAD_IN_
// PROGRESS, NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE, until every offset is the one
// committed last. The new coordinator's own "loaded in epoch" line in D/broker-<id>/broker.log
// is reported beside it.
#include "bench/broker_connection.h"
#include "bench/errc.h"
#include "bench/group.h"
#include "bench/metadata_probe.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/offset_fetch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>
#include <thread>

namespace gregor::bench {
namespace {

constexpr int takeover_default_partitions = 1000;
constexpr std::int64_t default_offsets = 100'000;
constexpr int rounds_in_flight = 4;
constexpr std::int16_t find_coordinator_version = 2;  // key_type, plain encoding
constexpr std::int16_t offset_fetch_version = 5;      // top-level error code, plain encoding
constexpr auto takeover_poll_interval = std::chrono::milliseconds(10);
constexpr auto call_timeout = std::chrono::milliseconds(1000);
constexpr auto log_wait = std::chrono::seconds(5);
constexpr std::int16_t not_coordinator = 16;

struct takeover_plan {
    std::string group;
    std::string topic;
    int partitions = 0;
    int rounds = 0;
    // The offset round r commits for partition p; every one differs and they only grow.
    std::int64_t offset(int round, int p) const {
        return static_cast<std::int64_t>(round) * partitions + p + 1;
    }
};

rd_kafka_topic_partition_list_t* round_list(const takeover_plan& plan, int round) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(plan.partitions);
    for (int p = 0; p < plan.partitions; ++p) {
        rd_kafka_topic_partition_list_add(list, plan.topic.c_str(), p)->offset =
            plan.offset(round, p);
    }
    return list;
}

std::string commit_error(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* list) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return rd_kafka_err2str(err);
    }
    for (int i = 0; list != nullptr && i < list->cnt; ++i) {
        if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return rd_kafka_err2str(list->elems[i].err);
        }
    }
    return {};
}

// Round 0 synchronously until it succeeds (the coordinator found, __consumer_offsets made).
result<void> first_round(const options& o, rd_kafka_t* rk, const takeover_plan& plan) {
    auto deadline = group_clock::now() + timeout_of(o);
    std::string last;
    while (group_clock::now() < deadline) {
        rd_kafka_topic_partition_list_t* list = round_list(plan, 0);
        last = commit_error(rd_kafka_commit(rk, list, 0), list);
        rd_kafka_topic_partition_list_destroy(list);
        if (last.empty()) {
            return ok();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return error(errc::unreachable,
                 fmt::format("no OffsetCommit succeeded within {} s: {}", o.timeout_s, last));
}

// The other rounds, a few in flight; returns the seconds from the first round's end.
result<double> commit_rounds(const options& o, rd_kafka_t* rk, const takeover_plan& plan) {
    GREGOR_TRY_VOID(first_round(o, rk, plan));
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    std::int64_t start = group_now_ns();
    int sent = 1;
    int done = 1;
    std::string failure;
    while (done < plan.rounds && failure.empty()) {
        while (sent < plan.rounds && sent - done < rounds_in_flight) {
            rd_kafka_topic_partition_list_t* list = round_list(plan, sent++);
            auto err = rd_kafka_commit_queue(rk, list, q, nullptr, nullptr);
            rd_kafka_topic_partition_list_destroy(list);
            failure = commit_error(err, nullptr);
        }
        rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(timeout_of(o).count()));
        if (ev == nullptr) {
            failure = fmt::format("a commit of {} offsets unanswered for {} s", plan.partitions,
                                  o.timeout_s);
        } else if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
            failure =
                commit_error(rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev));
            ++done;
        }
        if (ev != nullptr) {
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    if (!failure.empty()) {
        return error(errc::incomplete, "committing the offsets: " + failure);
    }
    return static_cast<double>(group_now_ns() - start) / 1e9;
}

result<int> ask_coordinator(broker_connection& c, const std::string& group) {
    protocol::find_coordinator_request req;
    req.key = group;
    GREGOR_TRY(auto res,
               c.call<protocol::find_coordinator_api>(req, find_coordinator_version, call_timeout));
    if (res.error_code != 0) {
        return error(errc::topic_unavailable,
                     fmt::format("FindCoordinator: error {}", res.error_code));
    }
    return res.node_id.value();
}

struct fetch_outcome {
    std::int16_t error_code = 0;  // the top-level one
    int matching = 0;             // partitions answering the last committed offset
};

result<fetch_outcome> fetch_offsets(broker_connection& c, const takeover_plan& plan) {
    protocol::offset_fetch_request req;
    req.group_id = plan.group;
    req.topics->push_back({});
    req.topics->back().name = plan.topic;
    for (int p = 0; p < plan.partitions; ++p) {
        req.topics->back().partition_indexes.emplace_back(p);
    }
    GREGOR_TRY(auto res,
               c.call<protocol::offset_fetch_api>(req, offset_fetch_version, call_timeout));
    fetch_outcome out{res.error_code, 0};
    for (const auto& t : res.topics) {
        for (const auto& p : t.partitions) {
            int i = p.partition_index.value();
            if (t.name == plan.topic && p.error_code == 0 && i >= 0 && i < plan.partitions &&
                p.committed_offset.value() == plan.offset(plan.rounds - 1, i)) {
                ++out.matching;
            }
        }
    }
    return out;
}

}  // namespace

// Kafka's partitionFor: Utils.abs(groupId.hashCode) % offsets.topic.num.partitions.
int offsets_partition_of(const std::string& group, int partitions) {
    std::uint32_t h = 0;
    for (char c : group) {
        h = 31 * h + static_cast<unsigned char>(
                         c);  // Java's String.hashCode on the UTF-16 units of an ASCII id
    }
    auto signed_h = static_cast<std::int32_t>(h);
    std::int32_t abs = signed_h == INT32_MIN ? 0 : std::abs(signed_h);
    return partitions > 0 ? abs % partitions : 0;
}

std::optional<std::int64_t> parse_log_time(std::string_view line) {
    if (line.size() < 23) {
        return std::nullopt;
    }
    std::tm tm{};
    int ms = 0;
    std::string stamp(line.substr(0, 23));  // 2026-12-06T05:42:10.123, local time
    if (std::sscanf(stamp.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
        return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    return static_cast<std::int64_t>(std::mktime(&tm)) * 1000 + ms;
}

std::optional<load_line> parse_load_line(std::string_view line, int partition) {
    const std::string marker = fmt::format("__consumer_offsets-{}: loaded in epoch ", partition);
    auto at = line.find(marker);
    auto when = parse_log_time(line);
    if (at == std::string_view::npos || !when) {
        return std::nullopt;
    }
    std::string rest(line.substr(at + marker.size()));
    long long epoch = 0;
    long long groups = 0;
    long long offsets = 0;
    long long batches = 0;
    if (std::sscanf(rest.c_str(), "%lld: %lld groups, %lld offsets, %lld batches", &epoch, &groups,
                    &offsets, &batches) != 4) {
        return std::nullopt;
    }
    return load_line{*when, epoch, offsets, batches};
}

std::optional<std::int64_t> parse_loading_line(std::string_view line, int partition) {
    const std::string marker = fmt::format("] loading partition={} epoch=", partition);
    return line.find(marker) == std::string_view::npos ? std::nullopt : parse_log_time(line);
}

namespace {

struct takeover_times {
    std::optional<double> named_ms;     // a survivor names a live coordinator
    std::optional<double> answered_ms;  // it answers OffsetFetch as coordinator (loading or not)
    std::optional<double> fetched_ms;   // every offset fetched
    int coordinator = -1;
    std::int16_t last_error = 0;
    std::map<std::int16_t, int> answers;  // OffsetFetch answers of the new coordinator, by error
    double slowest_fetch_ms = 0;          // its slowest OffsetFetch round trip
};

double ms_since(group_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(group_clock::now() - t).count();
}

// One round of questions: who coordinates, then that broker for the offsets.
void probe_once(std::map<int, std::unique_ptr<broker_connection>>& survivors, int victim,
                const takeover_plan& plan, group_clock::time_point killed, takeover_times& t) {
    for (auto& [id, c] : survivors) {
        auto named = ask_coordinator(*c, plan.group);
        if (named && *named != victim && survivors.count(*named) > 0) {
            t.coordinator = *named;
            t.named_ms = t.named_ms.value_or(ms_since(killed));
            break;
        }
    }
    if (t.coordinator < 0) {
        return;
    }
    auto asked = group_clock::now();
    auto fetched = fetch_offsets(*survivors[t.coordinator], plan);
    t.slowest_fetch_ms = std::max(t.slowest_fetch_ms, ms_since(asked));
    if (!fetched) {
        return;
    }
    t.last_error = fetched->error_code;
    ++t.answers[fetched->error_code];
    if (fetched->error_code != not_coordinator) {
        t.answered_ms = t.answered_ms.value_or(ms_since(killed));
    }
    if (fetched->error_code == 0 && fetched->matching == plan.partitions) {
        t.fetched_ms = ms_since(killed);
    }
}

takeover_times watch_takeover(const options& o, const std::map<int, broker_address>& brokers,
                              int victim, const takeover_plan& plan,
                              group_clock::time_point killed) {
    std::map<int, std::unique_ptr<broker_connection>> survivors;
    for (const auto& [id, a] : brokers) {
        if (id != victim) {
            survivors[id] = std::make_unique<broker_connection>(a.host, a.port);
        }
    }
    takeover_times t;
    while (!t.fetched_ms && group_clock::now() - killed < timeout_of(o)) {
        probe_once(survivors, victim, plan, killed, t);
        if (!t.fetched_ms) {
            std::this_thread::sleep_for(takeover_poll_interval);
        }
    }
    return t;
}

// The new coordinator's "loaded in epoch" line for the group's partition after the kill,
// with the time of the "loading" line before it.
std::optional<load_line> find_load_line(const options& o, int coordinator, int partition,
                                        std::int64_t killed_unix_ms) {
    auto path =
        std::filesystem::path(o.cluster_dir) / fmt::format("broker-{}", coordinator) / "broker.log";
    auto deadline = group_clock::now() + log_wait;
    do {
        std::ifstream log(path);
        std::string line;
        std::optional<std::int64_t> loading;
        while (std::getline(log, line)) {
            // The log has millisecond stamps: one ms of slack on the kill's.
            if (auto at = parse_loading_line(line, partition); at && *at + 1 >= killed_unix_ms) {
                loading = at;
            }
            auto l = parse_load_line(line, partition);
            if (l && l->unix_ms + 1 >= killed_unix_ms) {
                l->loading_unix_ms = loading.value_or(0);
                return l;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (group_clock::now() < deadline);
    return std::nullopt;
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace
namespace {

struct coordinator_before {
    int id = -1;
    double fetch_ms = 0;  // one OffsetFetch of every offset, before the kill
};

// Who coordinates the group, once it answers every committed offset.
result<coordinator_before> find_coordinator(const options& o,
                                            const std::map<int, broker_address>& brokers,
                                            const takeover_plan& plan) {
    auto deadline = group_clock::now() + timeout_of(o);
    std::string last = "no answer";
    while (group_clock::now() < deadline) {
        for (const auto& [id, a] : brokers) {
            broker_connection c(a.host, a.port);
            auto named = ask_coordinator(c, plan.group);
            if (!named || brokers.count(*named) == 0) {
                last = named ? fmt::format("unknown broker {}", *named) : named.err().detail;
                continue;
            }
            broker_connection coordinator(brokers.at(*named).host, brokers.at(*named).port);
            auto started = group_clock::now();
            auto fetched = fetch_offsets(coordinator, plan);
            if (fetched && fetched->error_code == 0 && fetched->matching == plan.partitions) {
                return coordinator_before{*named, ms_since(started)};
            }
            last = fetched ? fmt::format("{} of {} offsets (error {})", fetched->matching,
                                         plan.partitions, fetched->error_code)
                           : fetched.err().detail;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return error(errc::incomplete,
                 fmt::format("the coordinator did not answer every offset: {}", last));
}

result<int> offsets_partitions(const std::map<int, broker_address>& brokers) {
    for (const auto& [id, a] : brokers) {
        metadata_probe probe(a.host, a.port);
        auto v = probe.ask("__consumer_offsets", call_timeout);
        if (v && !v->leaders.empty()) {
            return static_cast<int>(v->leaders.size());
        }
    }
    return error(errc::topic_unavailable, "no broker lists __consumer_offsets");
}

void add_takeover_results(const takeover_times& t, const std::optional<load_line>& loaded,
                          double killed_unix_ms, report& r) {
    if (t.named_ms) {
        r.phases.push_back({"a survivor names the new coordinator", *t.named_ms});
    }
    if (t.answered_ms) {
        r.phases.push_back({"the new coordinator answers OffsetFetch", *t.answered_ms});
    }
    if (loaded && loaded->loading_unix_ms > 0) {
        r.phases.push_back({"coordinator: loading the offsets partition",
                            static_cast<double>(loaded->loading_unix_ms) - killed_unix_ms});
    }
    if (loaded) {
        r.phases.push_back({fmt::format("coordinator: loaded in epoch {} ({} offsets, {} batches)",
                                        loaded->epoch, loaded->offsets, loaded->batches),
                            static_cast<double>(loaded->unix_ms) - killed_unix_ms});
    }
    if (t.fetched_ms) {
        r.phases.push_back({"every offset fetched from the new coordinator", *t.fetched_ms});
        r.results.push_back({"takeover_ms", *t.fetched_ms, "ms from the kill to every offset"});
    }
    for (const auto& [code, n] : t.answers) {
        r.results.push_back({fmt::format("offset_fetch_error_{}_answers", code),
                             static_cast<double>(n), "OffsetFetch answers with that error code"});
    }
    r.results.push_back({"offset_fetch_slowest_ms", t.slowest_fetch_ms,
                         "ms, the slowest OffsetFetch to the new coordinator"});
    std::stable_sort(r.phases.begin(), r.phases.end(),
                     [](const phase& a, const phase& b) { return a.at_ms < b.at_ms; });
    if (loaded) {
        r.results.push_back({"loaded_offsets", static_cast<double>(loaded->offsets),
                             "offsets the new coordinator loaded (the last of each partition)"});
        r.results.push_back(
            {"loaded_batches", static_cast<double>(loaded->batches), "batches it read"});
        if (loaded->loading_unix_ms > 0) {
            r.results.push_back({"load_ms",
                                 static_cast<double>(loaded->unix_ms - loaded->loading_unix_ms),
                                 "ms from its \"loading\" line to its \"loaded\" line"});
        }
        r.results.push_back({"loaded_line_ms",
                             static_cast<double>(loaded->unix_ms) - killed_unix_ms,
                             "ms from the kill to its \"loaded\" line (log clock, 1 ms steps)"});
    }
}

}  // namespace

result<report> run_group_takeover(const options& raw) {
    options o = raw;
    o.partitions = o.partitions.value_or(takeover_default_partitions);
    takeover_plan plan{group_id_of(o, "takeover"), o.topic, 0, 0};
    client_log log;
    GREGOR_TRY(conf_handle conf,
               make_conf(o, log, {{"group.id", plan.group}, {"enable.auto.commit", "false"}}));
    GREGOR_TRY(kafka_handle rk, make_client(RD_KAFKA_CONSUMER, std::move(conf)));
    report r;
    r.workload = "group";
    GREGOR_TRY(auto brokers, brokers_of(rk.get(), o, log));
    if (brokers.size() < 2) {
        return error(errc::topic_unavailable, "--takeover needs at least two brokers");
    }
    GREGOR_TRY(topic_layout layout, ensure_topic(rk.get(), o, log, r.notes));
    plan.partitions = static_cast<int>(layout.leaders.size());
    const std::int64_t total = o.commits.value_or(default_offsets);
    plan.rounds = static_cast<int>((total + plan.partitions - 1) / plan.partitions);
    GREGOR_TRY(double commit_s, commit_rounds(o, rk.get(), plan));
    GREGOR_TRY(coordinator_before before, find_coordinator(o, brokers, plan));
    GREGOR_TRY(int offsets_count, offsets_partitions(brokers));
    const int offsets_partition = offsets_partition_of(plan.group, offsets_count);
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string cmd =
        fmt::format("'{}' cluster kill {} --dir '{}' >&2", self, before.id, o.cluster_dir);
    auto killed = group_clock::now();
    const std::int64_t killed_unix_ms = unix_ms_now();
    if (int status = std::system(cmd.c_str()); status != 0) {
        return error(errc::client_error, fmt::format("'{}' exited with {}", cmd, status));
    }
    takeover_times t = watch_takeover(o, brokers, before.id, plan, killed);
    std::optional<load_line> loaded;
    if (t.coordinator >= 0) {
        loaded = find_load_line(o, t.coordinator, offsets_partition, killed_unix_ms);
    }
    const std::int64_t offsets = static_cast<std::int64_t>(plan.rounds) * plan.partitions;
    r.parameters = {{"mode", "takeover"},
                    {"bootstrap", o.bootstrap},
                    {"topic", o.topic},
                    {"partitions", plan.partitions},
                    {"group", plan.group},
                    {"offsets_partition", fmt::format("__consumer_offsets-{}", offsets_partition)},
                    {"coordinator_before", before.id},
                    {"coordinator_after", t.coordinator},
                    {"kill_cmd", cmd}};
    r.results.push_back({"offsets_committed", static_cast<double>(offsets),
                         "offsets (partitions x rounds, one OffsetCommit per round)"});
    r.results.push_back({"commit_s", commit_s, "s for rounds 2.. (round 1 found the coordinator)"});
    r.results.push_back({"offset_fetch_before_ms", before.fetch_ms,
                         "ms for one OffsetFetch of every partition before the kill"});
    add_takeover_results(t, loaded, static_cast<double>(killed_unix_ms), r);
    r.notes.push_back(
        "times count from the kill; before the new coordinator loads, ZooKeeper "
        "must expire the dead broker's session and the controller must elect a "
        "new leader for the offsets partition");
    if (!loaded) {
        r.notes.push_back(
            fmt::format("no \"loaded in epoch\" line for __consumer_offsets-{} "
                        "after the kill in broker-{}/broker.log",
                        offsets_partition, t.coordinator));
    }
    if (!t.fetched_ms) {
        r.failure = fmt::format(
            "the offsets were not all fetched within {} s of the kill (last "
            "OffsetFetch error {})",
            o.timeout_s, t.last_error);
    }
    return r;
}

}  // namespace gregor::bench
