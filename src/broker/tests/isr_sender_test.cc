// Goal: the leader's AlterPartition sender behaves as Kafka's AlterPartitionManager when the
// controller's answer does not come: the same proposal goes again, even once the change is
// no longer warranted (the controller may have written it; without the resend the leader's
// ISR and ZooKeeper's stayed apart for good, found by the whole-cluster simulation), and its
// answer is taken as the ISR. Method: isr_sender over a replica manager on the in-memory file
// system, and a fake controller on 127.0.0.1 that reads each AlterPartition and either drops
// the connection unanswered or commits what it was asked.
#include "broker/isr_sender.h"

#include "net/frame.h"
#include "protocol/frame.h"
#include "protocol/headers.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <array>

namespace gregor::broker {
namespace {

using model::node_id;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

constexpr std::chrono::milliseconds lag_time_max{100};

// Reads AlterPartition requests; `answer` says, for the n-th (from 1), whether to drop the
// connection without answering (nullopt) or what to answer.
struct fake_controller {
    using answer_fn = std::function<std::optional<protocol::alter_partition_response>(
        const protocol::alter_partition_request&, std::size_t)>;

    fake_controller(asio::io_context& ioc, answer_fn a)
        : acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          answer(std::move(a)) {
        asio::co_spawn(ioc, serve(), asio::detached);
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }

    asio::awaitable<void> serve() {
        for (;;) {
            boost::system::error_code ec;
            tcp::socket s =
                co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_return;
            }
            while (co_await answer_one(s)) {
            }
        }
    }

    // One request on `s`: false once the connection is closed (by either side).
    asio::awaitable<bool> answer_one(tcp::socket& s) {
        boost::system::error_code ec;
        std::array<std::uint8_t, 4> size{};
        co_await asio::async_read(s, asio::buffer(size),
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return false;
        }
        auto length = net::decode_frame_size(size, 1, 1 << 20);
        if (!length) {
            ADD_FAILURE() << "the fake controller got a bad frame size";
            co_return false;
        }
        bytes frame(static_cast<std::size_t>(*length));
        co_await asio::async_read(s, asio::buffer(frame),
                                  asio::redirect_error(asio::use_awaitable, ec));
        protocol::reader r{bytes_view(frame)};
        auto h = protocol::decode_request_header(r);
        auto req = h ? protocol::decode_exact<protocol::alter_partition_request>(r, h->api_version)
                     : error(h.err());
        if (ec || !req) {
            ADD_FAILURE() << "the fake controller got a request it cannot read";
            co_return false;
        }
        received.push_back(*req);
        std::optional<protocol::alter_partition_response> out = answer(*req, received.size());
        if (!out) {
            s.close();  // read, maybe written, never answered
            co_return false;
        }
        auto wire = protocol::encode_response_frame<protocol::alter_partition_api>(
            h->correlation_id, h->api_version, *out);
        bytes flat = wire->flatten();
        co_await asio::async_write(s, asio::buffer(flat),
                                   asio::redirect_error(asio::use_awaitable, ec));
        co_return !ec;
    }

    tcp::acceptor acceptor;
    answer_fn answer;
    std::vector<protocol::alter_partition_request> received;
};

// What a controller that writes every proposal answers: each partition committed as asked,
// with the next partition epoch.
protocol::alter_partition_response commit_all(const protocol::alter_partition_request& req) {
    protocol::alter_partition_response out;
    for (const auto& t : req.topics) {
        auto& rt = out.topics.emplace_back();
        rt.topic_name = t.topic_name;
        for (const auto& p : t.partitions) {
            auto& rp = rt.partitions.emplace_back();
            rp.partition_index = p.partition_index;
            rp.leader_id = req.broker_id;
            rp.leader_epoch = p.leader_epoch;
            rp.isr = p.new_isr;
            rp.partition_epoch = p.partition_epoch + 1;
        }
    }
    return out;
}

struct isr_sender_fixture : ::testing::Test {
    asio::io_context ioc;
    storage::test::memory_env env;
    storage::log_manager logs{
        env.ctx(), {"/data"}, [](const std::string&) { return storage::log_config{}; }};
    replica_manager rm{node_id(1), logs, [](const std::string&) {
                           return replication::replication_config{.min_insync_replicas = 1,
                                                                  .lag_time_max = lag_time_max};
                       }};
    metadata_cache cache;
    model::topic_partition tp{"t", model::partition_id(0)};
    model::timestamp_ms now{1000};

    void SetUp() override {
        ASSERT_TRUE(logs.load(now));
        partition_assignment a;
        a.tp = tp;
        a.leader = node_id(1);
        a.leader_epoch = model::leader_epoch(1);
        a.replicas = {node_id(1), node_id(2)};
        a.isr = a.replicas;
        a.partition_epoch = 0;
        ASSERT_EQ(rm.apply(a, now), model::kafka_error::none);
    }

    std::unique_ptr<isr_sender> sender_to(const fake_controller& ctl) {
        cache.set_brokers(
            {cached_broker{node_id(9), {{"PLAINTEXT", "127.0.0.1", ctl.port()}}, {}}});
        cache.set_controller(node_id(9), model::controller_epoch(1), now);
        isr_sender_settings s;
        s.self = node_id(1);
        s.listener = "PLAINTEXT";
        s.lag_time_max = lag_time_max;
        s.request_timeout = 5s;
        return std::make_unique<isr_sender>(
            ioc, rm, cache, s, [this] { return now; }, [] { return nullptr; },
            [] { return model::broker_epoch(7); });
    }

    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < end) {
            ioc.run_for(10ms);
        }
        return done();
    }

    replication::partition& leader() { return *rm.leader(tp); }
};

TEST_F(isr_sender_fixture, an_unanswered_shrink_goes_again_though_no_longer_warranted) {
    bool caught_up = false;
    fake_controller ctl(
        ioc,
        [&](const protocol::alter_partition_request& req,
            std::size_t n) -> std::optional<protocol::alter_partition_response> {
            if (n == 1) {
                // Meanwhile the follower catches up: a shrink would no longer be proposed.
                leader().on_follower_fetch({node_id(2), leader().log_end_offset(), {}, {}}, now);
                caught_up = true;
                return std::nullopt;
            }
            return commit_all(req);
        });
    auto sender = sender_to(ctl);
    sender->start();
    now = model::timestamp_ms(now() + 10 * lag_time_max.count());  // replica 2 fell behind
    ASSERT_TRUE(run_until([&] { return ctl.received.size() >= 2; }))
        << "the shrink whose answer was lost was sent " << ctl.received.size() << " time(s)";
    ASSERT_TRUE(caught_up);
    const auto& first = ctl.received[0].topics.at(0).partitions.at(0);
    const auto& again = ctl.received[1].topics.at(0).partitions.at(0);
    EXPECT_EQ(first.new_isr, std::vector<node_id>{node_id(1)});
    EXPECT_EQ(again.new_isr, first.new_isr) << "the same proposal, not a fresh one";
    EXPECT_EQ(again.partition_epoch, first.partition_epoch);
    EXPECT_EQ(ctl.received[1].broker_epoch, model::broker_epoch(7));
    ASSERT_TRUE(run_until([&] { return leader().state().partition_epoch == 1; }));
    EXPECT_EQ(leader().state().isr, std::vector<node_id>{node_id(1)})
        << "the leader takes the ISR the controller wrote";
    sender->stop();
}

// A request refused as a whole (NOT_CONTROLLER: the controller moved) goes again too.
TEST_F(isr_sender_fixture, a_request_refused_as_a_whole_goes_again) {
    fake_controller ctl(ioc,
                        [&](const protocol::alter_partition_request& req,
                            std::size_t n) -> std::optional<protocol::alter_partition_response> {
                            if (n == 1) {
                                protocol::alter_partition_response refused;
                                refused.error_code =
                                    model::to_wire(model::kafka_error::not_controller);
                                return refused;
                            }
                            return commit_all(req);
                        });
    auto sender = sender_to(ctl);
    sender->start();
    now = model::timestamp_ms(now() + 10 * lag_time_max.count());
    ASSERT_TRUE(run_until([&] { return leader().state().partition_epoch == 1; }))
        << ctl.received.size() << " request(s)";
    EXPECT_EQ(ctl.received.size(), 2U);
    EXPECT_EQ(leader().state().isr, std::vector<node_id>{node_id(1)});
    sender->stop();
}

}  // namespace
}  // namespace gregor::broker
