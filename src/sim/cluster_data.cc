// The data path between simulated brokers: follower fetches (one in flight per followed
// partition, timed out and retried, replies that may arrive late or never), the leader's
// side of a fetch through the real partition, and ISR changes sent to the controller one
// AlterPartition at a time, as broker::isr_sender does.
#include "broker/isr_sender.h"
#include "sim/cluster.h"

#include <boost/asio/co_spawn.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gregor::sim {

namespace asio = boost::asio;
using model::kafka_error;
using model::node_id;

namespace {

constexpr std::int64_t fetch_timeout_ms = 150;
constexpr std::int64_t alter_timeout_ms = 300;
constexpr std::int64_t alter_rest_ms = 100;   // isr_sender: 500 ms after a failed send
constexpr std::int64_t refused_rest_ms = 20;  // and 100 ms after a refused partition
constexpr std::int16_t alter_partition_version = 1;

}  // namespace

void cluster::start_fetch(node& n, const tp_t& tp) {
    auto f = n.following.find(tp);
    replication::partition* p = n.running ? n.replicas->partition(tp) : nullptr;
    if (f == n.following.end() || f->second != 0 || p == nullptr || p->is_leader()) {
        return;
    }
    node_id leader = p->state().leader;
    if (leader() < 1 || leader == n.id) {
        return;
    }
    const replication::fetch_position pos = p->next_fetch();
    const std::uint64_t fetch = ++next_id_;
    const std::uint64_t inc = n.incarnation;
    const std::uint64_t leader_inc = at(leader).incarnation;
    f->second = fetch;
    send(n.id, leader,
         [=, this, id = n.id] { serve_fetch(leader, leader_inc, id, inc, fetch, tp, pos); });
    after(fetch_timeout_ms, [this, id = n.id, inc, fetch, tp] {
        node& m = at(id);
        auto it = m.following.find(tp);
        if (m.incarnation != inc || it == m.following.end() || it->second != fetch) {
            return;
        }
        it->second = 0;
        after(pick(10, 50), [this, id, inc, tp] {
            if (at(id).incarnation == inc) {
                start_fetch(at(id), tp);
            }
        });
    });
}

void cluster::serve_fetch(node_id leader, std::uint64_t leader_inc, node_id follower,
                          std::uint64_t follower_inc, std::uint64_t fetch, const tp_t& tp,
                          replication::fetch_position pos) {
    node& l = at(leader);
    if (!l.running || l.incarnation != leader_inc) {
        return;  // the connection died with the process
    }
    replication::partition* p = l.replicas->partition(tp);
    std::shared_ptr<const replication::test::fetch_reply> reply;
    if (p == nullptr) {
        replication::test::fetch_reply r;
        r.error = kafka_error::not_leader_or_follower;
        reply = std::make_shared<const replication::test::fetch_reply>(std::move(r));
    } else {
        auto max_bytes = static_cast<std::size_t>(pick(64, 4096));
        reply =
            std::make_shared<const replication::test::fetch_reply>(replication::test::serve_fetch(
                *p, replication::test::fetch_of(follower, pos), now(), max_bytes));
    }
    send(leader, follower,
         [=, this] { on_fetch_reply(follower, follower_inc, fetch, tp, leader, pos, reply); });
}

void cluster::on_fetch_reply(node_id follower, std::uint64_t incarnation, std::uint64_t fetch,
                             const tp_t& tp, node_id leader, replication::fetch_position pos,
                             std::shared_ptr<const replication::test::fetch_reply> reply) {
    node& n = at(follower);
    auto f = n.following.find(tp);
    if (!n.running || n.incarnation != incarnation || f == n.following.end() ||
        f->second != fetch) {
        return;  // timed out, or the fetcher moved on meanwhile
    }
    f->second = 0;
    replication::partition* p = n.replicas->partition(tp);
    if (p == nullptr) {
        return;
    }
    const replication::fetch_position cur = p->next_fetch();
    if (p->is_leader() || p->state().leader != leader || cur.fetch_offset != pos.fetch_offset ||
        cur.current_leader_epoch != pos.current_leader_epoch) {
        after(1, [this, follower, incarnation, tp] {
            if (at(follower).incarnation == incarnation) {
                start_fetch(at(follower), tp);
            }
        });
        return;
    }
    std::vector<batch> before;
    if (reply->diverging || reply->error == kafka_error::offset_out_of_range) {
        before = replication::test::read_batches(p->log());
    }
    auto progress = p->on_leader_reply(reply->view(), now());
    if (!progress) {
        fail(fmt::format("broker {}: {} on_leader_reply failed: {}", follower(), tp,
                         progress.err().to_string()));
        return;
    }
    if (progress->truncated) {
        ++stats_.truncations;
        trace(fmt::format("broker {} truncated {} to {}", follower(), tp, p->log_end_offset()));
        // Following a zombie may cut what the current leader holds; following the current
        // leader never may.
        auto s = zk_state(tp);
        if (s && p->state().leader_epoch == s->leader_epoch) {
            check_truncation(n, tp, before);
        }
    }
    std::int64_t next = pick(5, 30);  // nothing new: poll again (replica.fetch.wait.max.ms)
    if (progress->error != kafka_error::none) {
        next = pick(20, 50);  // replica.fetch.backoff.ms
    } else if (progress->appended_bytes > 0 || progress->truncated) {
        next = 0;
    }
    after(next, [this, follower, incarnation, tp] {
        if (at(follower).incarnation == incarnation) {
            start_fetch(at(follower), tp);
        }
    });
}

namespace {

asio::awaitable<protocol::alter_partition_response> ask_controller(
    controller::controller* ctl, std::shared_ptr<const protocol::alter_partition_request> req) {
    co_return co_await ctl->alter_partition(*req, alter_partition_version);
}

}  // namespace

// As broker::isr_sender does, through its request builder and answer: one AlterPartition at
// a time to the controller the metadata names, carrying the proposals of an unanswered
// request again and whatever else waits. No answer within the timeout, or a refusal of the
// whole request, keeps it for the next send after a rest.
void cluster::send_isr_changes(node& n) {
    if (!n.running || n.alter != 0 || now_ms_ < n.alter_quiet_until_ms) {
        return;
    }
    std::set<tp_t> waiting;
    n.replicas->for_each([&waiting](replication::partition& p) {
        if (p.is_leader() && p.isr_change_pending()) {
            waiting.insert(p.tp());
        }
    });
    std::optional<protocol::alter_partition_request> retry;
    if (n.unanswered) {
        retry = *std::exchange(n.unanswered, nullptr);
    }
    auto req = std::make_shared<const protocol::alter_partition_request>([&] {
        auto r = broker::build_alter_partition(*n.replicas, retry, waiting);
        r.broker_id = n.id;
        r.broker_epoch = n.epoch;
        return r;
    }());
    if (req->topics.empty()) {
        return;
    }
    if (tracing_) {
        for (const auto& t : req->topics) {
            for (const auto& e : t.partitions) {
                trace(
                    fmt::format("broker {} asks controller {}: {}-{} isr [{}] (leader epoch {}, "
                                "partition epoch {})",
                                n.id(), n.known_controller(), t.topic_name, e.partition_index(),
                                fmt::join(e.new_isr, ","), e.leader_epoch(), e.partition_epoch));
            }
        }
    }
    const std::uint64_t alter = n.alter = ++next_id_;
    const std::uint64_t inc = n.incarnation;
    const node_id to = n.known_controller;
    const node_id id = n.id;
    after(alter_timeout_ms,
          [this, id, inc, alter, req] { on_alter_answer(id, inc, alter, req, nullptr); });
    if (to() < 1) {
        return;  // no controller known: the request times out
    }
    send(id, to, [this, id, inc, alter, req, to] {
        node& c = at(to);
        if (!c.running || !c.ctl) {
            return;  // connection refused: times out
        }
        asio::co_spawn(
            ioc_, ask_controller(c.ctl.get(), req),
            [this, id, inc, alter, req, to](std::exception_ptr ep,
                                            protocol::alter_partition_response answer) {
                if (ep) {
                    return;
                }
                auto a =
                    std::make_shared<const protocol::alter_partition_response>(std::move(answer));
                send(to, id,
                     [this, id, inc, alter, req, a] { on_alter_answer(id, inc, alter, req, a); });
            });
    });
}

void cluster::on_alter_answer(node_id id, std::uint64_t incarnation, std::uint64_t alter,
                              std::shared_ptr<const protocol::alter_partition_request> req,
                              std::shared_ptr<const protocol::alter_partition_response> answer) {
    node& n = at(id);
    if (!n.running || n.incarnation != incarnation || n.alter != alter) {
        return;  // answered already, or the process is gone
    }
    n.alter = 0;
    if (tracing_) {
        std::string what =
            !answer ? std::string("no answer") : fmt::format("error {}", answer->error_code);
        if (answer && answer->error_code == 0) {
            what.clear();
            for (const auto& t : answer->topics) {
                for (const auto& r : t.partitions) {
                    what += fmt::format("{}-{}: error {} isr [{}] partition epoch {}; ",
                                        t.topic_name, r.partition_index(), r.error_code,
                                        fmt::join(r.isr, ","), r.partition_epoch);
                }
            }
        }
        trace(fmt::format("broker {}'s AlterPartition answered: {}", id(), what));
    }
    if (!answer || answer->error_code != 0) {
        n.unanswered = std::move(req);
        n.alter_quiet_until_ms = now_ms_ + alter_rest_ms;
        return;
    }
    auto committed = [this, id](std::size_t, std::size_t, const auto&) {
        ++stats_.isr_commits;
        trace(fmt::format("broker {}: an ISR change committed", id()));
    };
    if (broker::apply_alter_partition_answer(*n.replicas, *req, *answer, committed)) {
        n.alter_quiet_until_ms = now_ms_ + refused_rest_ms;
    }
}

}  // namespace gregor::sim
