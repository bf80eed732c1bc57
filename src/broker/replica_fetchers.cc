#include "broker/replica_fetchers.h"

#include "broker/broker_call.h"
#include "broker/logger.h"
#include "fetch/sweep.h"
#include "net/client.h"
#include "protocol/messages/fetch.h"
#include "replication/partition.h"

#include <algorithm>
#include <set>

namespace gregor::broker {

using namespace std::chrono_literals;
using model::kafka_error;
using clock = std::chrono::steady_clock;

namespace {
// Fetch v12: the last version naming topics (v13+ use topic ids) and the first with
// LastFetchedEpoch / DivergingEpoch.
constexpr std::int16_t fetch_version = 12;
}  // namespace

struct replica_fetchers::fetcher {
    fetcher(asio::io_context& ioc, model::node_id l) : leader(l), timer(ioc) {}
    model::node_id leader;
    struct followed {
        clock::time_point ready = clock::time_point::min();  // fetched again from then on
        clock::time_point since;                             // followed from this leader
        fetch::sent_partition sent;                          // what the leader's session holds

        // Unfollowed, but still in the leader's session: the next round forgets it there.
        bool leaving() const { return ready == clock::time_point::max(); }
        void leave() { ready = clock::time_point::max(); }
    };
    std::map<model::topic_partition, followed> partitions;
    // The partitions the next round visits: those whose position may have moved (answered,
    // followed anew) and those resting. The others are in the leader's session at the
    // position they were last sent with and are not visited (an idle round visits none),
    // except by the sweep (each once per settings.sweep, a slice per round, from
    // `sweep_from` on) and when the request must be full.
    std::set<model::topic_partition> dirty;
    fetch::sweep_clock swept;
    model::topic_partition sweep_from;
    fetch::session_builder session;
    std::unique_ptr<net::client> client;
    std::string host;
    std::int32_t port = 0;
    asio::steady_timer timer;  // rests between rounds; cancelled to wake
    bool stopped = false;
};

replica_fetchers::replica_fetchers(asio::io_context& ioc, replica_manager& replicas,
                                   const metadata_cache& cache, fetcher_settings settings,
                                   std::function<model::timestamp_ms()> now)
    : ioc_(ioc), replicas_(replicas), cache_(cache), settings_(std::move(settings)),
      now_(std::move(now)) {}

replica_fetchers::~replica_fetchers() {
    stop();
}

void replica_fetchers::follow(const model::topic_partition& tp, model::node_id leader) {
    if (stopped_) {
        return;
    }
    if (auto it = fetchers_.find(leader); it != fetchers_.end()) {
        auto& followed = it->second->partitions;
        if (auto slot = followed.find(tp); slot != followed.end()) {
            // Followed from this leader already (or leaving it): its session entry stays.
            slot->second.ready = clock::time_point::min();
            slot->second.since = clock::now();
            it->second->dirty.insert(tp);
            it->second->timer.cancel();
            return;
        }
    }
    unfollow(tp);
    auto& f = fetchers_[leader];
    if (!f) {
        f = std::make_shared<fetcher>(ioc_, leader);
        asio::co_spawn(ioc_, run(this, f), asio::detached);
    }
    f->partitions[tp] = fetcher::followed{clock::time_point::min(), clock::now(), {}};
    f->dirty.insert(tp);
    f->timer.cancel();
}

void replica_fetchers::unfollow(const model::topic_partition& tp) {
    for (auto& [id, f] : fetchers_) {
        auto slot = f->partitions.find(tp);
        if (slot == f->partitions.end()) {
            continue;
        }
        if (slot->second.sent.in_session) {
            slot->second.leave();
            f->dirty.insert(tp);
        } else {
            f->partitions.erase(slot);
            f->dirty.erase(tp);
        }
        f->timer.cancel();
        return;
    }
}

void replica_fetchers::set_endpoint(model::node_id leader, const std::string& host,
                                    std::int32_t port) {
    endpoints_[leader] = endpoint{host, port};
}

void replica_fetchers::stop() {
    stopped_ = true;
    for (auto& [id, f] : fetchers_) {
        f->stopped = true;
        if (f->client) {
            f->client->close();
        }
        f->timer.cancel();
    }
    fetchers_.clear();
}

// (Re)creates the connection when the leader's address is known or changed.
bool replica_fetchers::connect(fetcher& f) {
    std::string host;
    std::int32_t port = 0;
    if (auto e = endpoints_.find(f.leader); e != endpoints_.end()) {
        host = e->second.host;
        port = e->second.port;
    } else if (const cached_broker* b = cache_.broker(f.leader)) {
        if (const cached_endpoint* ep = b->endpoint_for(settings_.listener)) {
            host = ep->host;
            port = ep->port;
        }
    }
    if (port <= 0) {
        return false;
    }
    if (f.client && (host != f.host || port != f.port)) {
        f.client->close();
        f.client.reset();
    }
    if (!f.client) {
        net::client_config cc;
        cc.host = host;
        cc.port = static_cast<std::uint16_t>(port);
        cc.client_id = "replica-fetcher-" + std::to_string(f.leader());
        cc.request_timeout = std::max(settings_.socket_timeout, settings_.wait_max + 1000ms);
        cc.reconnect_backoff = 50ms;
        cc.reconnect_backoff_max = std::max(settings_.backoff, 50ms);
        cc.response_bytes_max = std::max(settings_.response_max_bytes, settings_.max_bytes) +
                                1024 * 1024;  // headers and one oversized first batch
        f.client = std::make_unique<net::client>(ioc_, cc);
        f.host = host;
        f.port = port;
    }
    return true;
}

asio::awaitable<void> replica_fetchers::run(replica_fetchers* self, std::shared_ptr<fetcher> f) {
    while (!f->stopped) {
        if (f->partitions.empty()) {
            // Nothing left to follow from this leader: the fetcher ends.
            auto it = self->fetchers_.find(f->leader);
            if (it != self->fetchers_.end() && it->second == f) {
                self->fetchers_.erase(it);
            }
            if (f->client) {
                f->client->close();
            }
            co_return;
        }
        co_await self->fetch_once(f);
    }
}

using fetch_request = protocol::fetch_request;
using fetch_response = protocol::fetch_response;

// A backoff sleep that follow(), unfollow() and stop() cut short.
asio::awaitable<void> replica_fetchers::rest(const std::shared_ptr<fetcher>& f,
                                             clock::duration d) {
    f->timer.expires_after(d);
    boost::system::error_code ec;
    co_await f->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// The controller sends LeaderAndIsr to the leader and the followers at once, so a follower's
// first fetches may reach the leader before it knows it leads. Answers that say so, in the
// first second of following, are retried after leader_catch_up_retry instead of
// replica.fetch.backoff.ms (which kept a new topic's first records invisible for up to 1 s).
namespace {
constexpr std::chrono::milliseconds leader_catch_up_window{1000};
constexpr std::chrono::milliseconds leader_catch_up_retry{20};

bool session_lost(const fetch_response& r) {
    auto e = static_cast<kafka_error>(r.error_code);
    return e == kafka_error::fetch_session_id_not_found ||
           e == kafka_error::invalid_fetch_session_epoch;
}

bool leader_may_catch_up(kafka_error e, clock::time_point since) {
    return (e == kafka_error::unknown_topic_or_partition ||
            e == kafka_error::not_leader_or_follower || e == kafka_error::unknown_leader_epoch) &&
           clock::now() - since < leader_catch_up_window;
}

}  // namespace

// Hands each partition's answer to its replica, if it still follows this leader in the epoch
// the leader read it for (a LeaderAndIsr may have come meanwhile).
void replica_fetchers::apply_reply(fetcher& f, const fetch_response& reply) {
    auto rest_until = clock::now() + settings_.backoff;
    for (const auto& t : reply.responses) {
        for (const auto& d : t.partitions) {
            model::topic_partition tp{t.topic, d.partition_index};
            auto slot = f.partitions.find(tp);
            if (slot == f.partitions.end()) {
                continue;
            }
            f.dirty.insert(tp);  // its position may move: the next round looks
            if (slot->second.leaving() || !slot->second.sent.in_session) {
                continue;
            }
            const fetch::partition_fetch& was = slot->second.sent.fetch;
            replication::partition* p = replicas_.partition(tp);
            // Applied only to the replica the fetch was for: same leader epoch, same position.
            if (p == nullptr || p->is_leader() ||
                p->state().leader_epoch != was.current_leader_epoch ||
                p->log_end_offset() != was.fetch_offset) {
                continue;
            }
            replication::leader_reply r;
            r.error = static_cast<kafka_error>(d.error_code);
            r.high_watermark = d.high_watermark;
            r.log_start_offset = d.log_start_offset;
            if (d.diverging_epoch.epoch >= 0) {
                r.diverging = storage::epoch_entry{model::leader_epoch(d.diverging_epoch.epoch),
                                                   d.diverging_epoch.end_offset};
            }
            if (d.records) {
                r.records = d.records->data();
            }
            auto progress = p->on_leader_reply(r, now_());
            if (!progress) {
                GREGOR_LOG(broker_log, err,
                           "replica {} stops fetching: its log failed ({}); it is offline here", tp,
                           progress.err().to_string());
                slot->second.leave();
                continue;
            }
            if (progress->committed_truncated > 0) {
                if (settings_.on_committed_truncated) {
                    settings_.on_committed_truncated(tp, progress->committed_truncated);
                }
                replicas_.forward_receipts(tp);
            }
            if (progress->error != kafka_error::none) {
                GREGOR_LOG_RATE_LIMITED(broker_log, info, std::chrono::seconds(5),
                                        "fetching {} from leader {}: {}; retrying", tp,
                                        f.leader(), model::kafka_error_name(progress->error));
                slot->second.ready = leader_may_catch_up(progress->error, slot->second.since)
                                         ? clock::now() + leader_catch_up_retry
                                         : rest_until;
            }
        }
    }
}

// This round's slice of the sweep, `turns` partitions from where the last one ended: dirty
// for this round.
void replica_fetchers::mark_sweep_slice(fetcher& f, std::size_t turns) {
    auto it = f.partitions.lower_bound(f.sweep_from);
    for (std::size_t k = 0; k < turns; ++k, ++it) {
        if (it == f.partitions.end()) {
            it = f.partitions.begin();
        }
        f.dirty.insert(it->first);
    }
    if (turns > 0) {
        f.sweep_from = it == f.partitions.end() ? model::topic_partition{} : it->first;
    }
}

// The fetch of every partition that may be fetched now (`fetched` counts them), in the
// session's terms: partitions no longer followed from this leader leave the fetcher and are
// forgotten, resting ones are forgotten until they rest no more. `next_ready` is when a
// resting one may be fetched again. A full request visits every partition (so does a round
// whose sweep slice would cover them all); the others visit only the dirty ones and the
// slice (the rest are fetched as they were).
protocol::fetch_request replica_fetchers::build_request(fetcher& f, std::size_t& fetched,
                                                        clock::time_point& next_ready) {
    auto now = clock::now();
    fetch_request req;
    req.replica_id = settings_.self;
    req.max_wait_ms = static_cast<std::int32_t>(settings_.wait_max.count());
    req.min_bytes = settings_.min_bytes;
    req.max_bytes = settings_.response_max_bytes;
    f.session.begin(req);
    next_ready = clock::time_point::max();
    const std::size_t turns = f.swept.turns(now, f.partitions.size(), settings_.sweep);
    const bool all = f.session.full() || turns >= f.partitions.size();
    if (!all) {
        mark_sweep_slice(f, turns);
    }
    // Clean partitions are in the session, fetched at the position last sent.
    fetched = all ? 0 : f.partitions.size() - f.dirty.size();
    auto visit = [&](auto it) {
        replication::partition* p = replicas_.partition(it->first);
        if (it->second.leaving() || p == nullptr || p->is_leader() ||
            p->state().leader != f.leader) {
            f.session.skip(req, it->first, it->second.sent);
            return false;  // leaves the fetcher
        }
        if (it->second.ready > now) {
            next_ready = std::min(next_ready, it->second.ready);
            f.session.skip(req, it->first, it->second.sent);
            return true;  // stays dirty
        }
        replication::fetch_position pos = p->next_fetch();
        fetch::partition_fetch position{pos.fetch_offset, pos.log_start_offset,
                                        pos.current_leader_epoch, pos.last_fetched_epoch,
                                        settings_.max_bytes};
        f.session.fetch(req, it->first, position, it->second.sent);
        ++fetched;
        return true;
    };
    if (all) {
        f.swept.at = now;
        f.dirty.clear();
        for (auto it = f.partitions.begin(); it != f.partitions.end();) {
            if (!visit(it)) {
                it = f.partitions.erase(it);
            } else if (it->second.ready > now) {
                f.dirty.insert(f.dirty.end(), (it++)->first);
            } else {
                ++it;
            }
        }
        return req;
    }
    for (auto d = f.dirty.begin(); d != f.dirty.end();) {
        auto it = f.partitions.find(*d);
        if (it == f.partitions.end() || !visit(it)) {
            if (it != f.partitions.end()) {
                f.partitions.erase(it);
            }
            d = f.dirty.erase(d);
        } else if (it->second.ready > now) {
            ++d;
        } else {
            d = f.dirty.erase(d);
        }
    }
    return req;
}

// One round: fetch every partition that may be fetched now, apply the answers.
asio::awaitable<void> replica_fetchers::fetch_once(const std::shared_ptr<fetcher>& f) {
    std::size_t fetched = 0;
    auto next_ready = clock::time_point::max();
    fetch_request req = build_request(*f, fetched, next_ready);
    // A round that reads nothing still goes out when it forgets partitions: the leader's
    // session drops them (and closes, if they were the last).
    if (fetched == 0 && req.forgotten_topics_data.empty()) {
        auto wait = next_ready == clock::time_point::max() ? clock::duration(settings_.backoff)
                                                           : next_ready - clock::now();
        co_await rest(f, wait);
        co_return;
    }
    if (!connect(*f)) {
        f->session.on_failure();  // the round's forgetting was not sent
        GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(5),
                                "no address known for leader {}; fetching later", f->leader());
        co_await rest(f, settings_.backoff);
        co_return;
    }
    const std::string client_id = "replica-" + std::to_string(settings_.self());
    auto message = encode_call<protocol::fetch_api>(client_id, fetch_version, req);
    req = fetch_request{};  // encoded: not held through the fetch's wait
    if (!message) {
        GREGOR_LOG(broker_log, err, "cannot encode a fetch: {}", message.err().to_string());
        f->session.on_failure();
        co_await rest(f, settings_.backoff);
        co_return;
    }
    // `raw` holds the bytes the decoded records point into, until the reply is applied.
    auto raw = co_await f->client->request(std::move(*message));
    if (f->stopped) {
        co_return;
    }
    result<fetch_response> reply = !raw ? result<fetch_response>(raw.err())
                                        : decode_reply<protocol::fetch_api>(*raw, fetch_version);
    if (!reply) {
        f->session.on_failure();
    } else {
        f->session.on_response(*reply);
    }
    if (reply && session_lost(*reply)) {
        // The next round is a full fetch that opens a new session: no need to wait.
        GREGOR_LOG_RATE_LIMITED(broker_log, info, std::chrono::seconds(5),
                                "fetch session with leader {} lost ({}); fetching in full",
                                f->leader(), reply->error_code);
        co_return;
    }
    if (!reply || reply->error_code != 0) {
        GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(5),
                                "fetch from leader {} failed: {}", f->leader(),
                                !reply ? reply.err().to_string()
                                       : "error " + std::to_string(reply->error_code));
        co_await rest(f, settings_.backoff);
        co_return;
    }
    apply_reply(*f, *reply);
}

}  // namespace gregor::broker
