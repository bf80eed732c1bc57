#include "broker/group_wiring.h"

#include "broker/logger.h"
#include "broker/topic_creation.h"
#include "coord/client.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "group/partitioner.h"

namespace gregor::broker {

using model::kafka_error;

namespace {

model::topic_partition offsets_tp(model::partition_id p) {
    return {std::string(group::offsets_topic_name), p};
}

}  // namespace

// One acks=all append waiting for the high watermark, its timeout, or a leadership change.
struct replica_offsets_log::waiter {
    explicit waiter(asio::io_context& ioc) : timer(ioc) {}

    model::topic_partition tp;
    model::offset end;  // the batch's records end before this offset
    model::leader_epoch epoch;
    model::offset base;
    append_done done;
    asio::steady_timer timer;
    std::uint64_t change_wait = 0;
    bool finished = false;
};

replica_offsets_log::replica_offsets_log(asio::io_context& ioc, replica_manager& replicas,
                                         std::function<model::timestamp_ms()> now)
    : ioc_(ioc), replicas_(replicas), now_(std::move(now)) {}

void replica_offsets_log::append(model::partition_id p, bytes batch, bool wait_for_isr,
                                 std::chrono::milliseconds timeout, append_done done) {
    model::topic_partition tp = offsets_tp(p);
    auto fail = [&](kafka_error e) {
        asio::post(ioc_, [done = std::move(done), e] { done(appended{e, model::no_offset}); });
    };
    if (replicas_.offline(tp)) {
        return fail(kafka_error::kafka_storage_error);
    }
    replication::partition* part = replicas_.leader(tp);
    if (part == nullptr) {
        return fail(kafka_error::not_leader_or_follower);
    }
    if (kafka_error e = part->check_append(wait_for_isr ? -1 : 0); e != kafka_error::none) {
        return fail(e);
    }
    auto written = part->append(mutable_bytes_view(batch), now_(), /*already_validated=*/false);
    if (!written) {
        GREGOR_LOG_RATE_LIMITED(broker_log, err, std::chrono::seconds(1), "append to {} failed: {}",
                                tp, written.err().to_string());
        return fail(kafka_error::kafka_storage_error);
    }
    replicas_.changed(tp);
    replicas_.notify();  // followers' long polls and waiting produces
    model::offset base = written->appended.first_offset;
    if (!wait_for_isr) {
        asio::post(ioc_, [done = std::move(done), base] {
            done(appended{kafka_error::none, base});
        });
        return;
    }
    auto w = std::make_shared<waiter>(ioc_);
    w->tp = tp;
    w->end = written->appended.last_offset + 1;
    w->epoch = part->state().leader_epoch;
    w->base = base;
    w->done = std::move(done);
    w->timer.expires_after(timeout);
    w->timer.async_wait([this, w](const net::error_code& ec) {
        if (!ec && !w->finished) {
            w->finished = true;
            replicas_.cancel_wait(w->change_wait);
            w->done(appended{kafka_error::request_timed_out, model::no_offset});
        }
    });
    asio::post(ioc_, [this, w] { settle(w); });
}

// Answers `w` if its outcome is known, else waits for the next change of the replicas.
void replica_offsets_log::settle(const std::shared_ptr<waiter>& w) {
    if (w->finished) {
        return;
    }
    replication::partition* part = replicas_.partition(w->tp);
    std::optional<kafka_error> status =
        replicas_.offline(w->tp) ? std::optional(kafka_error::kafka_storage_error)
        : part == nullptr        ? std::optional(kafka_error::not_leader_or_follower)
                                 : part->acks_all_status(w->end, w->epoch);
    if (!status) {
        w->change_wait = replicas_.wait_for_change([this, w] { settle(w); });
        return;
    }
    w->finished = true;
    w->timer.cancel();
    w->done(appended{*status, *status == kafka_error::none ? w->base : model::no_offset});
}

result<group::offsets_log::chunk> replica_offsets_log::read(model::partition_id p,
                                                            model::offset from,
                                                            std::size_t max_bytes) {
    replication::partition* part = replicas_.partition(offsets_tp(p));
    if (part == nullptr) {
        return error(std::make_error_code(std::errc::no_such_device), "not hosted here");
    }
    storage::log& log = part->log();
    GREGOR_TRY(storage::read_result r, log.read(from, max_bytes, log.log_end_offset()));
    chunk out;
    out.next = r.next_offset;
    if (r.slice.length > 0) {
        GREGOR_TRY(out.data, r.slice.read_all());
    }
    return out;
}

result<model::offset> replica_offsets_log::log_start_offset(model::partition_id p) {
    replication::partition* part = replicas_.partition(offsets_tp(p));
    if (part == nullptr) {
        return error(std::make_error_code(std::errc::no_such_device), "not hosted here");
    }
    return part->log().log_start_offset();
}

group::service_config group_service_config(const broker_config& c) {
    group::service_config out;
    out.groups.initial_rebalance_delay = c.group_initial_rebalance_delay;
    out.groups.min_session_timeout = c.group_min_session_timeout;
    out.groups.max_session_timeout = c.group_max_session_timeout;
    out.groups.max_size = c.group_max_size;
    out.offsets.metadata_max_chars = static_cast<std::size_t>(c.offset_metadata_max_bytes);
    out.offsets.retention_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(c.offsets_retention).count();
    out.offsets.compression =
        static_cast<model::compression_type>(c.offsets_topic_compression_codec);
    out.offsets_topic_partitions = c.offsets_topic_num_partitions;
    out.commit_timeout = c.offsets_commit_timeout;
    out.retention_check_interval = c.offsets_retention_check_interval;
    out.load_buffer_bytes = static_cast<std::size_t>(c.offsets_load_buffer_size);
    out.load_batch_bytes_max =
        std::max<std::size_t>(static_cast<std::size_t>(c.message_max_bytes) * 2, 1 << 20);
    return out;
}

void create_offsets_topic(services& s) {
    static bool in_flight = false;  // one attempt at a time, as Kafka de-duplicates them
    if (s.zk == nullptr || in_flight) {
        return;
    }
    const std::int16_t rf = s.config.offsets_topic_replication_factor;
    if (s.cache.brokers().size() < static_cast<std::size_t>(rf)) {
        GREGOR_LOG_RATE_LIMITED(
            broker_log, warn, std::chrono::seconds(10),
            "cannot create {}: offsets.topic.replication.factor is {} but {} broker(s) are "
            "alive; consumer groups wait until enough brokers are up",
            group::offsets_topic_name, rf, s.cache.brokers().size());
        return;
    }
    auto a = plan_new_topic(s.cache, s.config.offsets_topic_num_partitions, rf);
    if (!a) {
        GREGOR_LOG(broker_log, warn, "cannot create {}: {}", group::offsets_topic_name,
                   a.err().message);
        return;
    }
    coord::config_map config{
        {"cleanup.policy", "compact"},
        {"compression.type", "producer"},
        {"segment.bytes", std::to_string(s.config.offsets_topic_segment_bytes)}};
    std::string name(group::offsets_topic_name);
    // Config first, then the assignment the controller watches, in one transaction.
    std::vector<coord::op> ops;
    ops.push_back(coord::create_op{
        coord::paths::topic_config(name), coord::encode_entity_config(config), {}});
    ops.push_back(coord::create_op{coord::paths::topic(name), coord::encode_topic(a.value()), {}});
    in_flight = true;
    s.zk->multi(std::move(ops), [name, partitions = a.value().partitions.size(),
                                 rf](coord::multi_response r) {
        in_flight = false;
        if (!r.error) {
            GREGOR_LOG(broker_log, info, "created {} ({} partitions, replication factor {})", name,
                       partitions, rf);
        }
    });
}

}  // namespace gregor::broker
