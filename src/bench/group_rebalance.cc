// The group workload's rebalance mode (--join-members N): N members, each with a client
// that has already fetched metadata (connected), subscribe at once to one topic in one new
// group; the time runs from the first subscribe to the moment every member holds its
// partitions (its rebalance callback) and the assignments are disjoint and cover the topic.
#include "bench/errc.h"
#include "bench/group.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <latch>
#include <thread>

namespace gregor::bench {
namespace {

constexpr int member_poll_ms = 20;
constexpr auto check_interval = std::chrono::milliseconds(2);

struct member_thread_result {
    std::string failure;
};

// Subscribes when the latch opens, then serves its client until `stop`; leaves the group
// (consumer close) before returning.
void member_loop(const options& o, group_member& m, std::latch& start, std::atomic<bool>& stop,
                 member_thread_result& out) {
    start.arrive_and_wait();
    auto subscribed = subscribe_member(o, m);
    if (!subscribed) {
        out.failure = subscribed.err().detail;
    }
    while (!stop.load(std::memory_order_relaxed)) {
        rd_kafka_message_t* msg = rd_kafka_consumer_poll(m.rk.get(), member_poll_ms);
        if (msg != nullptr) {
            rd_kafka_message_destroy(msg);
        }
    }
    (void)rd_kafka_consumer_close(m.rk.get());
}

double ms_between(std::int64_t from_ns, std::int64_t to_ns) {
    return static_cast<double>(to_ns - from_ns) / 1e6;
}

struct join_stamps {
    std::int64_t first_subscribe = INT64_MAX;
    std::int64_t last_subscribe = 0;
    std::int64_t first_assigned = INT64_MAX;
    std::int64_t last_assigned = 0;
    int assignments_max = 0;
};

join_stamps stamps_of(const std::vector<std::unique_ptr<group_member>>& members) {
    join_stamps s;
    for (const auto& m : members) {
        s.first_subscribe = std::min(s.first_subscribe, m->subscribed_ns.load());
        s.last_subscribe = std::max(s.last_subscribe, m->subscribed_ns.load());
        s.first_assigned = std::min(s.first_assigned, m->assigned_ns.load());
        s.last_assigned = std::max(s.last_assigned, m->assigned_ns.load());
        s.assignments_max = std::max(s.assignments_max, m->rebalances.load());
    }
    return s;
}

// Waits until every member holds a disjoint, covering assignment, or --timeout.
bool wait_for_assignments(const options& o, const std::vector<std::unique_ptr<group_member>>& ms,
                          int partitions) {
    auto deadline = group_clock::now() + timeout_of(o);
    while (group_clock::now() < deadline) {
        if (check_assignment(ms, partitions).complete(partitions)) {
            return true;
        }
        std::this_thread::sleep_for(check_interval);
    }
    return false;
}

void add_figures(const options& o, const join_stamps& s, bool complete, report& r) {
    if (complete) {
        double rebalance = ms_between(s.first_subscribe, s.last_assigned);
        r.results.push_back(
            {"rebalance_ms", rebalance, "ms from the first subscribe to every member assigned"});
        if (o.initial_delay_ms) {
            auto delay = static_cast<double>(*o.initial_delay_ms);
            r.results.push_back(
                {"rebalance_minus_delay_ms", rebalance - delay, "ms, less --initial-delay-ms"});
            // Inferred: how many whole delays fit (KIP-134 may wait more than one).
            double delays = delay > 0 ? std::floor(rebalance / delay) : 0;
            r.results.push_back({"delays_waited", delays, "whole initial delays in rebalance_ms"});
            r.results.push_back({"rebalance_beyond_delays_ms", rebalance - delays * delay,
                                 "ms beyond those delays"});
        }
        r.results.push_back({"first_assignment_ms", ms_between(s.first_subscribe, s.first_assigned),
                             "ms from the first subscribe to the first member assigned"});
    }
    r.results.push_back({"subscribe_spread_ms", ms_between(s.first_subscribe, s.last_subscribe),
                         "ms between the first and the last subscribe"});
    r.results.push_back({"assignments_per_member_max", static_cast<double>(s.assignments_max),
                         "assignments (rebalances) seen by one member"});
}

// The notes, and the failure if a member could not subscribe or the assignment never
// completed.
void finish(const options& o, const std::vector<std::unique_ptr<group_member>>& members,
            const std::vector<member_thread_result>& outcomes, bool complete,
            const assignment_check& c, int partitions, report& r) {
    r.notes.push_back(
        "KIP-134: a new group waits group.initial.rebalance.delay.ms after its first member, and "
        "once more (within the rebalance timeout) if members joined during that delay, so members "
        "joining at once take about twice the delay; the bench cannot read the brokers' delay: "
        "pass it with --initial-delay-ms (delays_waited is inferred from the time)");
    for (const auto& out : outcomes) {
        if (!out.failure.empty() && r.failure.empty()) {
            r.failure = out.failure;
        }
    }
    if (!complete && r.failure.empty()) {
        r.failure = fmt::format(
            "{} of {} partition(s) assigned ({} shared) within {} s{}", c.covered, partitions,
            c.shared, o.timeout_s,
            members[0]->last().empty() ? "" : "; librdkafka said: " + members[0]->last());
    }
}

}  // namespace

result<report> run_group_rebalance(const options& raw) {
    options o = raw;
    const int n = *o.join_members;
    o.partitions = o.partitions.value_or(n);
    client_log log;
    GREGOR_TRY(conf_handle conf, make_conf(o, log, {}));
    GREGOR_TRY(kafka_handle admin, make_client(RD_KAFKA_PRODUCER, std::move(conf)));
    report r;
    r.workload = "group";
    GREGOR_TRY(topic_layout layout, ensure_topic(admin.get(), o, log, r.notes));
    const int partitions = static_cast<int>(layout.leaders.size());
    const std::string group = group_id_of(o, "join");
    std::vector<std::unique_ptr<group_member>> members;
    for (int i = 0; i < n; ++i) {
        members.push_back(std::make_unique<group_member>());
        members.back()->index = i;
        GREGOR_TRY_VOID(open_member(o, group, *members.back()));
        // Connected before the clock starts: TCP and ApiVersions are not the rebalance.
        GREGOR_TRY(metadata_handle md, fetch_metadata(members.back()->rk.get(), o.bootstrap,
                                                      timeout_of(o), *members.back()));
    }
    std::latch start(n + 1);
    std::atomic<bool> stop{false};
    std::vector<member_thread_result> outcomes(static_cast<std::size_t>(n));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            member_loop(o, *members[static_cast<std::size_t>(i)], start, stop,
                        outcomes[static_cast<std::size_t>(i)]);
        });
    }
    start.arrive_and_wait();
    bool complete = wait_for_assignments(o, members, partitions);
    join_stamps s = stamps_of(members);  // before the members leave
    assignment_check c = check_assignment(members, partitions);
    stop.store(true);
    for (auto& t : threads) {
        t.join();
    }
    r.parameters = {{"mode", "rebalance"},      {"bootstrap", o.bootstrap}, {"topic", o.topic},
                    {"partitions", partitions}, {"group", group},           {"members", n}};
    if (o.initial_delay_ms) {
        r.parameters["initial_delay_ms"] = *o.initial_delay_ms;
    }
    add_figures(o, s, complete, r);
    r.results.push_back({"partitions_assigned", static_cast<double>(c.covered), "partitions"});
    r.results.push_back(
        {"partitions_shared", static_cast<double>(c.shared), "partitions held by two members"});
    finish(o, members, outcomes, complete, c, partitions, r);
    return r;
}

}  // namespace gregor::bench
