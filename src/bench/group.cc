// The group workload's dispatch and its members: consumers subscribed in one group, each
// with its own handle and thread.
#include "bench/group.h"

#include "bench/errc.h"
#include "bench/workloads.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>

namespace gregor::bench {
namespace {

std::vector<int> partitions_of(const rd_kafka_topic_partition_list_t* list) {
    std::vector<int> out;
    for (int i = 0; i < list->cnt; ++i) {
        out.push_back(list->elems[i].partition);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Eager protocols (range, roundrobin: librdkafka's default) hand out the whole assignment
// each time; cooperative-sticky (-X partition.assignment.strategy=...) adds and removes.
void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque) {
    auto* m = static_cast<group_member*>(static_cast<client_log*>(opaque));
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    std::vector<int> changed = partitions_of(parts);
    std::vector<int> now = cooperative ? m->partitions() : std::vector<int>{};
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative) {
            rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts);
            rd_kafka_error_destroy(e);  // null when it worked
        } else {
            (void)rd_kafka_assign(rk, parts);
        }
        now.insert(now.end(), changed.begin(), changed.end());
        std::sort(now.begin(), now.end());
        m->set_partitions(std::move(now));
        m->assigned_ns.store(group_now_ns());
        m->rebalances.fetch_add(1);
        m->holding.store(true);
        return;
    }
    m->holding.store(false);
    if (cooperative) {
        rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
        rd_kafka_error_destroy(e);
        std::erase_if(now,
                      [&](int p) { return std::binary_search(changed.begin(), changed.end(), p); });
    } else {
        (void)rd_kafka_assign(rk, nullptr);
    }
    m->set_partitions(std::move(now));
}

}  // namespace

std::int64_t group_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               group_clock::now().time_since_epoch())
        .count();
}

std::string group_id_of(const options& o, const char* what) {
    if (!o.group.empty()) {
        return o.group;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    return fmt::format("gregor-bench-{}-{}-{}", what, ::getpid(), ms);
}

double process_cpu_s() {
    rusage self{};
    ::getrusage(RUSAGE_SELF, &self);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(self.ru_utime) + seconds(self.ru_stime);
}

std::map<int, pid_t> broker_pids(const options& o) {
    std::map<int, pid_t> out;
    if (o.cluster_dir.empty()) {
        return out;
    }
    std::ifstream in(o.cluster_dir + "/cluster.json");
    auto state = nlohmann::json::parse(in, nullptr, false);
    if (state.is_discarded() || !state.contains("brokers") || !state["brokers"].is_array()) {
        return out;
    }
    for (const auto& b : state["brokers"]) {
        if (b.contains("id") && b.contains("pid") && b["id"].is_number_integer() &&
            b["pid"].is_number_integer() && b["pid"].get<pid_t>() > 0) {
            out[b["id"].get<int>()] = b["pid"].get<pid_t>();
        }
    }
    return out;
}

std::vector<int> group_member::partitions() const {
    std::lock_guard lock(mutex_);
    return partitions_;
}

void group_member::set_partitions(std::vector<int> p) {
    std::lock_guard lock(mutex_);
    partitions_ = std::move(p);
}

result<void> open_member(const options& o, const std::string& group, group_member& m) {
    GREGOR_TRY(conf_handle conf, make_conf(o, m,
                                           {{"group.id", group},
                                            {"client.id", fmt::format("gregor-bench-{}", m.index)},
                                            {"enable.auto.commit", "false"},
                                            {"enable.auto.offset.store", "false"},
                                            {"auto.offset.reset", "earliest"}}));
    rd_kafka_conf_set_rebalance_cb(conf.get(), on_rebalance);
    GREGOR_TRY(m.rk, make_client(RD_KAFKA_CONSUMER, std::move(conf)));
    rd_kafka_poll_set_consumer(m.rk.get());
    return ok();
}

result<void> subscribe_member(const options& o, group_member& m) {
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    m.subscribed_ns.store(group_now_ns());
    auto err = rd_kafka_subscribe(m.rk.get(), topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return error(errc::client_error, fmt::format("member {}: subscribe {}: {}", m.index,
                                                     o.topic, rd_kafka_err2str(err)));
    }
    return ok();
}

assignment_check check_assignment(const std::vector<std::unique_ptr<group_member>>& members,
                                  int partitions) {
    assignment_check c;
    c.all_holding = !members.empty();
    std::vector<int> owners(static_cast<std::size_t>(std::max(partitions, 0)), 0);
    for (const auto& m : members) {
        c.all_holding = c.all_holding && m->holding.load();
        for (int p : m->partitions()) {
            if (p >= 0 && p < partitions) {
                ++owners[static_cast<std::size_t>(p)];
            }
        }
    }
    for (int n : owners) {
        c.covered += n > 0 ? 1 : 0;
        c.shared += n > 1 ? 1 : 0;
    }
    return c;
}

result<report> run_group(const options& o) {
    switch (group_mode_of(o)) {
        case group_mode::consume:
            return run_group_consume(o);
        case group_mode::rebalance:
            return run_group_rebalance(o);
        case group_mode::commit:
            return run_group_commit(o);
        case group_mode::takeover:
            return run_group_takeover(o);
    }
    return error(errc::bad_argument, "unknown group mode");
}

}  // namespace gregor::bench
