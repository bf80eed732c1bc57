#include "broker/isr_sender.h"

#include "broker/broker_call.h"
#include "broker/logger.h"
#include "controller/controller.h"
#include "net/client.h"
#include "net/errc.h"
#include "protocol/messages/alter_partition.h"

#include <algorithm>
#include <optional>
#include <set>

namespace gregor::broker {

using namespace std::chrono_literals;
using model::kafka_error;
using clock = std::chrono::steady_clock;

namespace {
// v1: topics by name; v2+ name them by topic id.
constexpr std::int16_t alter_partition_version = 1;
}  // namespace

struct isr_sender::state {
    explicit state(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;
    bool stopped = false;
    bool woken = false;
    // After a failed or refused send, nothing is sent before this (wake-ups included), so a
    // controller that keeps saying no is not asked at the rate followers fetch.
    clock::time_point quiet_until = clock::time_point::min();
    // The last request that got no answer, or was refused as a whole: sent again (see
    // send_once), with whatever else is waiting.
    std::optional<protocol::alter_partition_request> unanswered;
};

isr_sender::isr_sender(asio::io_context& ioc, replica_manager& replicas,
                       const metadata_cache& cache, isr_sender_settings settings,
                       std::function<model::timestamp_ms()> now,
                       std::function<controller::controller*()> controller,
                       std::function<model::broker_epoch()> broker_epoch)
    : ioc_(ioc), replicas_(replicas), cache_(cache), settings_(std::move(settings)),
      now_(std::move(now)), controller_(std::move(controller)),
      broker_epoch_(std::move(broker_epoch)), state_(std::make_shared<state>(ioc)) {}

isr_sender::~isr_sender() {
    stop();
}

void isr_sender::start() {
    asio::co_spawn(ioc_, run(this, state_), asio::detached);
}

void isr_sender::wake() {
    state_->woken = true;
    state_->timer.cancel();
}

void isr_sender::stop() {
    state_->stopped = true;
    state_->timer.cancel();
}

asio::awaitable<void> isr_sender::run(isr_sender* self, std::shared_ptr<state> st) {
    const auto period = std::max<clock::duration>(self->settings_.lag_time_max / 2, 10ms);
    auto next_check = clock::now() + period;
    boost::system::error_code ec;
    while (!st->stopped) {
        if (clock::now() < st->quiet_until) {
            st->timer.expires_at(st->quiet_until);
            co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (!st->woken) {
            st->timer.expires_at(next_check);
            co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (st->stopped) {
                co_return;
            }
        }
        st->woken = false;
        if (clock::now() >= next_check) {
            model::timestamp_ms now = self->now_();
            self->replicas_.for_each([&](replication::partition& p) {
                p.maybe_shrink_isr(now);
                if (p.is_leader() && p.isr_change_pending()) {
                    self->replicas_.mark_isr_change(p.tp());
                }
            });
            next_check = clock::now() + period;
        }
        bool sent = co_await self->send_once();
        if (!sent) {
            st->quiet_until = std::max(st->quiet_until, clock::now() + 500ms);
            st->woken = true;  // the unanswered request goes again after the rest
        }
    }
}

namespace {

using request = protocol::alter_partition_request;
using response = protocol::alter_partition_response;

void add_proposal(request& req, const model::topic_partition& tp, model::leader_epoch leader_epoch,
                  std::int32_t partition_epoch, const std::vector<model::node_id>& isr) {
    auto t = std::find_if(req.topics.begin(), req.topics.end(),
                          [&](const auto& e) { return e.topic_name == tp.topic; });
    if (t == req.topics.end()) {
        t = req.topics.emplace(req.topics.end());
        t->topic_name = tp.topic;
    }
    auto& e = t->partitions.emplace_back();
    e.partition_index = tp.partition;
    e.leader_epoch = leader_epoch;
    e.new_isr = isr;
    e.partition_epoch = partition_epoch;
}

}  // namespace

request build_alter_partition(replica_manager& replicas, const std::optional<request>& retry,
                              const std::set<model::topic_partition>& tps) {
    request req;
    std::set<model::topic_partition> carried;
    for (const auto& t : retry ? retry->topics : decltype(retry->topics){}) {
        for (const auto& e : t.partitions) {
            model::topic_partition tp{t.topic_name, e.partition_index};
            replication::partition* p = replicas.leader(tp);
            if (p == nullptr || p->state().leader_epoch != e.leader_epoch ||
                !p->isr_change_pending()) {
                continue;  // superseded by a LeaderAndIsr
            }
            add_proposal(req, tp, e.leader_epoch, e.partition_epoch, e.new_isr);
            carried.insert(tp);
        }
    }
    for (const auto& tp : tps) {
        replication::partition* p = carried.contains(tp) ? nullptr : replicas.leader(tp);
        std::optional<replication::isr_proposal> prop = p ? p->take_isr_proposal() : std::nullopt;
        if (prop) {
            add_proposal(req, tp, prop->leader_epoch, prop->partition_epoch, prop->isr);
        }
    }
    return req;
}

bool apply_alter_partition_answer(replica_manager& replicas, const request& req,
                                  const response& answer, const isr_committed_fn& on_committed) {
    bool refused = false;
    std::set<model::topic_partition> answered;
    for (const auto& t : answer.topics) {
        for (const auto& r : t.partitions) {
            model::topic_partition tp{t.topic_name, r.partition_index};
            replication::partition* p = replicas.leader(tp);
            answered.insert(tp);
            if (p == nullptr) {
                continue;
            }
            // Settled either way: a follower's fetch may now propose the next change.
            replicas.changed(tp);
            auto e = static_cast<kafka_error>(r.error_code);
            if (e != kafka_error::none) {
                p->on_isr_refused(e);
                refused = true;
                continue;
            }
            const std::size_t before = p->state().isr.size();
            if (p->on_isr_committed(
                    {r.leader_id, r.leader_epoch, r.partition_epoch, r.isr, p->state().replicas})) {
                replicas.notify();
            }
            auto leaves = p->take_isr_leaves();
            if (on_committed) {
                on_committed(before, p->state().isr.size(), leaves);
            }
        }
    }
    for (const auto& t : req.topics) {
        for (const auto& r : t.partitions) {
            model::topic_partition tp{t.topic_name, r.partition_index};
            replication::partition* p = replicas.leader(tp);
            if (p != nullptr && !answered.contains(tp)) {
                p->on_isr_refused(kafka_error::unknown_server_error);
                refused = true;
            }
        }
    }
    return refused;
}

// Sends the waiting proposals once. Returns false iff the request failed as a whole.
asio::awaitable<bool> isr_sender::send_once() {
    request req = build_alter_partition(replicas_, std::exchange(state_->unanswered, std::nullopt),
                                        replicas_.take_isr_changes());
    if (req.topics.empty()) {
        co_return true;
    }
    req.broker_id = settings_.self;
    req.broker_epoch = broker_epoch_();
    result<response> answer = error(net::errc::client_closed, "not sent");
    controller::controller* ctl = controller_();
    if (ctl != nullptr && ctl->active()) {
        const std::int16_t version = alter_partition_version;
        response local = co_await ctl->alter_partition(req, version);
        answer = std::move(local);
    } else {
        const std::string client_id = "broker-" + std::to_string(settings_.self());
        answer = co_await call_controller<protocol::alter_partition_api>(
            ioc_, cache_, settings_.listener, settings_.request_timeout, client_id,
            alter_partition_version, req);
    }
    if (state_->stopped) {
        co_return true;
    }
    kafka_error whole = !answer ? kafka_error::request_timed_out
                                : static_cast<kafka_error>(answer->error_code);
    if (whole != kafka_error::none) {
        GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(5),
                                "AlterPartition to controller {} failed: {}", cache_.controller()(),
                                !answer ? answer.err().to_string()
                                        : std::string(model::kafka_error_name(whole)));
        // The controller may have written these changes and only the answer be lost. As
        // Kafka's AlterPartitionManager does, the same proposals go again (a retry of what is
        // written is answered with it); refusing them instead would leave the leader's ISR
        // and ZooKeeper's apart for good once the change is no longer warranted.
        state_->unanswered = std::move(req);
        co_return false;
    }
    if (apply_alter_partition_answer(replicas_, req, *answer, settings_.on_committed)) {
        state_->quiet_until = clock::now() + 100ms;
        // A proposal refused for a reason that calls for sending it again is ready to go
        // (take_isr_proposal gives it once more) after the rest, not at the next check.
        for (const auto& t : req.topics) {
            for (const auto& e : t.partitions) {
                model::topic_partition tp{t.topic_name, e.partition_index};
                replication::partition* p = replicas_.leader(tp);
                if (p != nullptr && p->isr_change_pending()) {
                    replicas_.mark_isr_change(tp);
                }
            }
        }
    }
    replicas_.notify();  // waiting acks=all producers re-check (an ISR may have shrunk)
    co_return true;
}

}  // namespace gregor::broker
