// Goal: InitProducerId answers as Kafka 3.8 does in every version (v0-v5): idempotent
// producers get fresh ids with epoch 0 from the broker's block in ZooKeeper, in order and
// never twice; half a producer id/epoch pair and an empty transactional id are
// INVALID_REQUEST; a transactional id gets INVALID_TRANSACTION_TIMEOUT or NOT_COORDINATOR;
// without ZooKeeper COORDINATOR_NOT_AVAILABLE, and while ZooKeeper is unreachable
// COORDINATOR_LOAD_IN_PROGRESS until a block is claimed.
// Method: request frames through dispatch() on an io_context the test runs, with a real
// producer_id_service on a fake_client whose ensemble delivers on that loop. The service's
// retry timer is real (50 ms), so waits run the loop with a bound.
#include "broker/dispatch.h"
#include "broker/tests/broker_parts.h"
#include "broker/producer_id_wiring.h"
#include "coord/fake_client.h"
#include "coord/znode_paths.h"
#include "protocol/messages/all.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

#include <set>

namespace gregor::broker {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using model::kafka_error;
using model::node_id;

constexpr std::int16_t err(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

init_producer_id_request idempotent() {
    init_producer_id_request req;
    req.transactional_id = std::nullopt;
    req.transaction_timeout_ms = -1;  // what librdkafka sends
    return req;
}

init_producer_id_request transactional(std::string id, std::int32_t timeout_ms) {
    init_producer_id_request req;
    req.transactional_id = std::move(id);
    req.transaction_timeout_ms = timeout_ms;
    return req;
}

struct init_producer_id_fixture : ::testing::Test, test::broker_parts {
    coord::fake_ensemble ensemble{
        [this](std::function<void()> fn) { asio::post(ioc, std::move(fn)); }};
    coord::fake_client zk{ensemble};
    producer_id_service producer_ids{ioc, zk, node_id(1)};
    services svc{.config = config,
                 .ioc = ioc,
                 .cache = cache,
                 .replicas = rm,
                 .cluster_id = "cluster-x",
                 .now = [] { return model::timestamp_ms(1000); }};
    std::int32_t correlation = 0;

    void SetUp() override { ASSERT_TRUE(logs.load(model::timestamp_ms(0))); }
    void TearDown() override { producer_ids.stop(); }

    void start_service() {
        svc.producer_ids = &producer_ids;
        producer_ids.start();
        ASSERT_TRUE(run_until([&] { return producer_ids.manager().current().has_value(); }));
    }

    // Runs the loop until `done` holds, at most 5 s.
    bool run_until(const std::function<bool()>& done) { return test::run_until(ioc, done); }

    void run_for(std::chrono::milliseconds d) {
        auto deadline = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < deadline) {
            ioc.restart();
            ioc.run_one_for(10ms);
        }
    }

    init_producer_id_response call(const init_producer_id_request& body, std::int16_t version) {
        auto out = test::dispatch_until_answered(
            ioc, svc, test::request_of<init_producer_id_api>(body, version, ++correlation));
        EXPECT_TRUE(out.has_value());
        EXPECT_TRUE(out && out->what() == net::reply::kind::send);
        return out ? decode(*out, version) : init_producer_id_response{};
    }

    static init_producer_id_response decode(const net::reply& r, std::int16_t version) {
        bytes flat;
        for (const auto& seg : r.body().segments()) {
            if (const auto* b = std::get_if<bytes>(&seg)) {
                flat.insert(flat.end(), b->begin(), b->end());
            } else {
                bytes_view v = std::get<net::external_span>(seg).view;
                flat.insert(flat.end(), v.begin(), v.end());
            }
        }
        reader rd(flat);
        EXPECT_TRUE(decode_response_header(
            rd, response_header_version(init_producer_id_api::key, version)));
        auto body = init_producer_id_response::decode(rd, version);
        EXPECT_TRUE(body) << body.err().to_string();
        return body ? std::move(*body) : init_producer_id_response{};
    }

    void expect_error(const init_producer_id_response& r, kafka_error e) {
        EXPECT_EQ(r.error_code, err(e));
        EXPECT_EQ(r.producer_id, model::producer_id{-1});
        EXPECT_EQ(r.producer_epoch, -1);
    }
};

TEST_F(init_producer_id_fixture, idempotent_producers_get_fresh_ids_with_epoch_0_in_every_version) {
    start_service();
    std::set<std::int64_t> seen;
    for (std::int16_t v = init_producer_id_api::version_min; v <= init_producer_id_api::version_max;
         ++v) {
        for (int i = 0; i < 3; ++i) {
            auto r = call(idempotent(), v);
            EXPECT_EQ(r.error_code, 0) << "v" << v;
            EXPECT_EQ(r.producer_epoch, 0);
            EXPECT_TRUE(seen.insert(r.producer_id()).second) << "id " << r.producer_id();
        }
    }
    EXPECT_EQ(*seen.begin(), 0);
    EXPECT_EQ(*seen.rbegin(), 17);
    EXPECT_EQ(ensemble.peek(std::string(coord::paths::latest_producer_id_block))->data,
              R"({"version":1,"broker":1,"block_start":"0","block_end":"999"})");
}

TEST_F(init_producer_id_fixture, a_full_id_epoch_pair_is_ignored_for_idempotent_producers) {
    start_service();
    auto req = idempotent();
    req.producer_id = model::producer_id{4242};
    req.producer_epoch = 7;
    auto r = call(req, 4);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(r.producer_id, model::producer_id{0});
    EXPECT_EQ(r.producer_epoch, 0);
}

TEST_F(init_producer_id_fixture, half_an_id_epoch_pair_is_an_invalid_request) {
    start_service();
    auto id_only = idempotent();
    id_only.producer_id = model::producer_id{5};
    expect_error(call(id_only, 3), kafka_error::invalid_request);
    auto epoch_only = transactional("t", 60000);
    epoch_only.producer_epoch = 2;
    expect_error(call(epoch_only, 5), kafka_error::invalid_request);
    EXPECT_EQ(call(idempotent(), 5).producer_id, model::producer_id{0});  // none wasted
}

TEST_F(init_producer_id_fixture,
       transactional_ids_are_validated_then_sent_to_find_the_coordinator) {
    start_service();
    for (std::int16_t v : {std::int16_t{0}, std::int16_t{2}, std::int16_t{5}}) {
        expect_error(call(transactional("", 60000), v), kafka_error::invalid_request);
        expect_error(call(transactional("t", 0), v), kafka_error::invalid_transaction_timeout);
        expect_error(call(transactional("t", 900001), v), kafka_error::invalid_transaction_timeout);
        expect_error(call(transactional("t", 900000), v), kafka_error::not_coordinator);
    }
}

TEST_F(init_producer_id_fixture,
       without_zookeeper_idempotent_producers_hear_coordinator_not_available) {
    for (std::int16_t v : {std::int16_t{0}, std::int16_t{3}, std::int16_t{5}}) {
        expect_error(call(idempotent(), v), kafka_error::coordinator_not_available);
    }
}

TEST_F(init_producer_id_fixture,
       unreachable_zookeeper_gives_load_in_progress_until_a_block_arrives) {
    zk.disconnect();
    svc.producer_ids = &producer_ids;
    producer_ids.start();
    for (int i = 0; i < 5; ++i) {
        expect_error(call(idempotent(), 4), kafka_error::coordinator_load_in_progress);
        run_for(200ms);  // claims fail and back off meanwhile
    }
    EXPECT_GE(producer_ids.manager().consecutive_failures(), 1);
    zk.reconnect();
    ASSERT_TRUE(run_until([&] { return producer_ids.manager().current().has_value(); }));
    auto r = call(idempotent(), 4);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(r.producer_id, model::producer_id{0});
}

}  // namespace
}  // namespace gregor::broker
