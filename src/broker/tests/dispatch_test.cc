// Goal: one request frame in, the right reply out: ApiVersions advertises exactly the
// handled APIs (Produce and FindCoordinator from v0, for librdkafka's codec checks), bad
// requests get Kafka's treatment (KIP-511 answer, or a closed connection), and a broker
// driven by a controller's UpdateMetadata + LeaderAndIsr serves Metadata, Produce, Fetch and
// ListOffsets, including a long-polling Fetch woken by a Produce; with a follower, acks=all
// waits for the follower's fetch, consumers see only committed records, and followers are
// fenced or told where their log diverges. Without a group service the group APIs answer
// COORDINATOR_NOT_AVAILABLE in every shape.
// Method: frames encoded with the generated structs go through dispatch() on an io_context
// that the test polls; storage is in memory. No sockets, no sleeps.
#include "broker/dispatch.h"

#include "broker/tests/broker_parts.h"
#include "fetch/session_cache.h"
#include "protocol/messages/all.h"
#include "protocol/records/batch_builder.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

using namespace protocol;
using model::node_id;
using model::partition_id;

constexpr std::int16_t err(model::kafka_error e) {
    return static_cast<std::int16_t>(e);
}

broker_config test_config() {
    broker_config c;
    c.broker_id = node_id(1);
    return c;
}

struct dispatch_fixture : ::testing::Test, test::broker_parts {
    dispatch_fixture() { config = test_config(); }
    services svc{config, ioc, cache, rm, nullptr, nullptr, nullptr, nullptr, "cluster-x", model::broker_epoch(50), [] {
                     return model::timestamp_ms(1000);
                 }};
    std::int32_t correlation = 0;
    std::vector<std::shared_ptr<bytes>> frames;

    void SetUp() override { ASSERT_TRUE(logs.load(model::timestamp_ms(0))); }

    template <class Api>
    net::request make_request(const typename Api::request_type& body, std::int16_t version) {
        return test::request_of<Api>(body, version, ++correlation);
    }

    static net::request raw_request(bytes frame) { return test::raw_request(std::move(frame)); }

    // Starts dispatch; the reply lands in `out` once the loop has run it.
    void start(net::request req, std::optional<net::reply>& out) {
        asio::co_spawn(
            ioc,
            [this, r = std::move(req), &out]() mutable -> asio::awaitable<void> {
                out = co_await dispatch(svc, std::move(r));
            },
            asio::detached);
        ioc.poll();
        ioc.restart();
    }

    net::reply run(net::request req) {
        std::optional<net::reply> out;
        start(std::move(req), out);
        EXPECT_TRUE(out.has_value()) << "the handler did not complete";
        return out ? std::move(*out) : net::reply::close();
    }

    template <class Api>
    typename Api::response_type call(const typename Api::request_type& body, std::int16_t version) {
        net::reply r = run(make_request<Api>(body, version));
        EXPECT_EQ(r.what(), net::reply::kind::send);
        return decode_reply<Api>(r, version);
    }

    template <class Api>
    typename Api::response_type decode_reply(const net::reply& r, std::int16_t version) {
        // Decoded records point into the frame: keep it as long as the fixture.
        const bytes& flat = *frames.emplace_back(std::make_shared<bytes>(flatten(r.body())));
        reader rd(flat);
        auto h = decode_response_header(rd, response_header_version(Api::key, version));
        EXPECT_TRUE(h);
        auto body = Api::response_type::decode(rd, version);
        EXPECT_TRUE(body) << body.err().to_string();
        return body ? std::move(*body) : typename Api::response_type{};
    }

    static bytes flatten(const net::response& r) {
        bytes out;
        for (const auto& seg : r.segments()) {
            // In-memory storage has no descriptors, so every segment is memory.
            if (const auto* b = std::get_if<bytes>(&seg)) {
                out.insert(out.end(), b->begin(), b->end());
            } else {
                bytes_view v = std::get<net::external_span>(seg).view;
                out.insert(out.end(), v.begin(), v.end());
            }
        }
        return out;
    }

    // The controller (7, epoch 1) telling broker 1 that `leader` leads t-0 in `epoch`.
    static leader_and_isr_request leader_and_isr_of(int leader, int epoch,
                                                    const std::vector<node_id>& replicas) {
        leader_and_isr_request la;
        la.controller_id = node_id(7);
        la.controller_epoch = model::controller_epoch(1);
        la.broker_epoch = model::broker_epoch(50);
        leader_and_isr_partition_state lps;
        lps.partition_index = partition_id(0);
        lps.controller_epoch = model::controller_epoch(1);
        lps.leader = node_id(leader);
        lps.leader_epoch = model::leader_epoch(epoch);
        lps.isr = lps.replicas = replicas;
        lps.is_new = true;
        la.topic_states.push_back({"t", {}, {lps}, {}});
        return la;
    }

    // Makes broker 1 the leader of t-0 with these replicas (all in sync), as a controller
    // would.
    void lead_partition(std::vector<node_id> replicas = {node_id(1)}) {
        update_metadata_request um;
        um.controller_id = node_id(7);
        um.controller_epoch = model::controller_epoch(1);
        um.live_brokers.push_back(
            {node_id(1), "", 0, {{9092, "h1", "PLAINTEXT", 0, {}}}, std::nullopt, {}});
        update_metadata_partition_state ps;
        ps.partition_index = partition_id(0);
        ps.controller_epoch = model::controller_epoch(1);
        ps.leader = node_id(1);
        ps.leader_epoch = model::leader_epoch(4);
        ps.isr = ps.replicas = replicas;
        um.topic_states.push_back({"t", {}, {ps}, {}});
        ASSERT_EQ(call<update_metadata_api>(um, 7).error_code, 0);

        auto resp = call<leader_and_isr_api>(leader_and_isr_of(1, 4, replicas), 6);
        ASSERT_EQ(resp.error_code, 0);
        ASSERT_EQ(resp.topics.size(), 1u);
        ASSERT_EQ(resp.topics[0].partition_errors.at(0).error_code, 0);
    }

    produce_request produce_of(const bytes& batch, std::int16_t acks = -1) {
        produce_request p;
        p.acks = acks;
        p.timeout_ms = 1000;
        p.topic_data.push_back({"t", {{partition_id(0), records_ref::copy_of(batch), {}}}, {}});
        return p;
    }

    fetch_request fetch_from(std::int64_t offset, std::int32_t max_wait, std::int32_t min_bytes) {
        fetch_request f;
        f.max_wait_ms = max_wait;
        f.min_bytes = min_bytes;
        f.topics.push_back({"t",
                            {},
                            {{partition_id(0),
                              model::no_leader_epoch,
                              model::offset(offset),
                              model::no_leader_epoch,
                              model::no_offset,
                              1 << 20,
                              {}}},
                            {}});
        return f;
    }

    // A follower's fetch (v12) of t-0 from `offset`, not waiting.
    fetch_request replica_fetch(int replica, std::int64_t offset, int last_epoch,
                                int current_epoch = 4) {
        fetch_request f = fetch_from(offset, 0, 1);
        f.replica_id = node_id(replica);
        f.topics[0].partitions[0].current_leader_epoch = model::leader_epoch(current_epoch);
        f.topics[0].partitions[0].last_fetched_epoch = model::leader_epoch(last_epoch);
        return f;
    }
};

TEST_F(dispatch_fixture, api_versions_lists_exactly_the_handled_apis) {
    auto resp = call<api_versions_api>({}, 3);
    EXPECT_EQ(resp.error_code, 0);
    std::map<std::int16_t, std::pair<std::int16_t, std::int16_t>> got;
    for (const auto& a : resp.api_keys) {
        got[a.api_key] = {a.min_version, a.max_version};
    }
    EXPECT_EQ(got.size(), 34u);
    EXPECT_EQ(got.at(describe_producers_api::key), std::make_pair(std::int16_t{0}, std::int16_t{0}));
    EXPECT_EQ(got.at(init_producer_id_api::key), std::make_pair(std::int16_t{0}, std::int16_t{5}));
    EXPECT_EQ(got.at(describe_configs_api::key), std::make_pair(std::int16_t{0}, std::int16_t{4}));
    EXPECT_EQ(got.at(incremental_alter_configs_api::key).second, 1);
    EXPECT_EQ(got.at(alter_configs_api::key).second, 2);
    EXPECT_EQ(got.count(offset_for_leader_epoch_api::key), 1u);
    EXPECT_EQ(got.count(alter_partition_reassignments_api::key), 1u);
    EXPECT_EQ(got.count(list_partition_reassignments_api::key), 1u);
    EXPECT_EQ(got.count(create_topics_api::key), 1u);
    EXPECT_EQ(got.count(controlled_shutdown_api::key), 1u);
    EXPECT_EQ(got.at(produce_api::key).first, produce_api::version_min);
    EXPECT_EQ(got.at(find_coordinator_api::key).first, 0);
    EXPECT_EQ(got.at(fetch_api::key).second, 12);  // v13+ needs topic ids
    EXPECT_EQ(got.at(join_group_api::key), std::make_pair(std::int16_t{0}, std::int16_t{9}));
    EXPECT_EQ(got.at(sync_group_api::key).second, 5);
    EXPECT_EQ(got.at(heartbeat_api::key).second, 4);
    EXPECT_EQ(got.at(leave_group_api::key).second, 5);
    EXPECT_EQ(got.at(offset_commit_api::key), std::make_pair(std::int16_t{0}, std::int16_t{9}));
    EXPECT_EQ(got.at(offset_fetch_api::key), std::make_pair(std::int16_t{0}, std::int16_t{9}));
    EXPECT_EQ(got.at(offset_delete_api::key), std::make_pair(std::int16_t{0}, std::int16_t{0}));
    EXPECT_EQ(got.at(list_groups_api::key).second, 5);
    EXPECT_EQ(got.at(describe_groups_api::key).second, 5);
    EXPECT_EQ(got.at(delete_groups_api::key).second, 2);
}

// Without ZooKeeper there is no group service: every group API says so, in its version's
// shape, and OffsetCommit still tells unknown topics apart.
TEST_F(dispatch_fixture, group_apis_without_a_group_service_say_coordinator_not_available) {
    constexpr std::int16_t not_available = err(model::kafka_error::coordinator_not_available);
    cached_partition led;
    led.leader = node_id(1);
    cache.update_partition("t", partition_id(0), led);

    join_group_request join;
    join.group_id = "g";
    join.member_id = "m";
    auto joined = call<join_group_api>(join, 5);
    EXPECT_EQ(joined.error_code, not_available);
    EXPECT_EQ(joined.member_id, "m");
    EXPECT_EQ(call<sync_group_api>({}, 3).error_code, not_available);
    EXPECT_EQ(call<heartbeat_api>({}, 1).error_code, not_available);
    EXPECT_EQ(call<leave_group_api>({}, 0).error_code, not_available);
    EXPECT_EQ(call<list_groups_api>({}, 4).error_code, not_available);
    auto described = call<describe_groups_api>({{"g", "h"}, false, {}}, 5);
    ASSERT_EQ(described.groups.size(), 2u);
    EXPECT_EQ(described.groups[1].error_code, not_available);
    auto deleted = call<delete_groups_api>({{"g"}, {}}, 2);
    ASSERT_EQ(deleted.results.size(), 1u);
    EXPECT_EQ(deleted.results[0].error_code, not_available);

    using commit_partition =
        offset_commit_request::offset_commit_request_topic::offset_commit_request_partition;
    commit_partition p{partition_id(0), model::offset(1), model::no_leader_epoch,
                       model::timestamp_ms(-1), "", {}};
    offset_commit_request commit;
    commit.group_id = "g";
    commit.topics.push_back({"t", {p}, {}});
    commit.topics.push_back({"nope", {p}, {}});
    auto committed = call<offset_commit_api>(commit, 2);
    ASSERT_EQ(committed.topics.size(), 2u);
    EXPECT_EQ(committed.topics[0].partitions[0].error_code, not_available);
    EXPECT_EQ(committed.topics[1].partitions[0].error_code,
              err(model::kafka_error::unknown_topic_or_partition));

    offset_fetch_request fetch;
    fetch.groups.push_back({"g", std::nullopt, -1, std::nullopt, {}});
    auto fetched = call<offset_fetch_api>(fetch, 8);
    ASSERT_EQ(fetched.groups.size(), 1u);
    EXPECT_EQ(fetched.groups[0].error_code, not_available);
    EXPECT_EQ(call<offset_delete_api>({"g", {}}, 0).error_code, not_available);
}

TEST_F(dispatch_fixture, controller_apis_on_a_broker_without_a_controller_say_not_controller) {
    create_topics_request req;
    req.topics.push_back({"t", 1, 1, {}, {}, {}});
    auto resp = call<create_topics_api>(req, 5);
    ASSERT_EQ(resp.topics.size(), 1u);
    EXPECT_EQ(resp.topics[0].error_code, static_cast<std::int16_t>(model::kafka_error::not_controller));
    auto shutdown = call<controlled_shutdown_api>({node_id(1), model::broker_epoch(50), {}}, 3);
    EXPECT_EQ(shutdown.error_code,
              static_cast<std::int16_t>(model::kafka_error::stale_controller_epoch));
    auto alter = call<alter_partition_api>({}, 2);
    EXPECT_EQ(alter.error_code, static_cast<std::int16_t>(model::kafka_error::not_controller));
}

TEST_F(dispatch_fixture, describe_configs_answers_topics_this_broker_and_refuses_the_rest) {
    lead_partition();
    describe_configs_request req;
    req.resources.push_back({2, "t", std::nullopt, {}});
    req.resources.push_back({2, "missing", std::nullopt, {}});
    req.resources.push_back({4, "1", std::vector<std::string>{}, {}});
    req.resources.push_back({4, "2", std::nullopt, {}});
    req.resources.push_back({3, "group", std::nullopt, {}});
    req.include_synonyms = true;
    for (std::int16_t v : {std::int16_t{0}, std::int16_t{1}, std::int16_t{4}}) {
        auto resp = call<describe_configs_api>(req, v);
        ASSERT_EQ(resp.results.size(), 5u);
        const auto& topic = resp.results[0];
        EXPECT_EQ(topic.error_code, 0);
        EXPECT_GE(topic.configs.size(), 30u);
        for (const auto& c : topic.configs) {
            EXPECT_TRUE(c.value.has_value()) << c.name;
            if (v == 0) {
                EXPECT_TRUE(c.is_default) << c.name;
            } else {
                EXPECT_EQ(c.config_source, 5) << c.name;  // DEFAULT_CONFIG: nothing set
            }
        }
        EXPECT_EQ(resp.results[1].error_code, err(model::kafka_error::unknown_topic_or_partition));
        EXPECT_EQ(resp.results[1].error_message, "The topic 'missing' does not exist.");
        EXPECT_EQ(resp.results[2].error_code, 0);
        EXPECT_EQ(resp.results[3].error_code, err(model::kafka_error::invalid_request));
        EXPECT_EQ(resp.results[4].error_code, err(model::kafka_error::invalid_request));
    }
    incremental_alter_configs_request alter;
    alter.resources.push_back({2, "t", {{"retention.ms", 0, "1", {}}}, {}});
    auto altered = call<incremental_alter_configs_api>(alter, 1);
    ASSERT_EQ(altered.responses.size(), 1u);
    EXPECT_EQ(altered.responses[0].error_code, err(model::kafka_error::not_controller));
}

TEST_F(dispatch_fixture, api_versions_of_an_unknown_version_answers_with_a_v0_body) {
    api_versions_request req;
    // Rewrite the version to one the broker does not know, keeping the v3 body.
    bytes frame = make_request<api_versions_api>(req, 3).take_message();
    frame[2] = 0;
    frame[3] = 42;
    net::reply unknown = run(raw_request(frame));
    ASSERT_EQ(unknown.what(), net::reply::kind::send);
    auto resp = decode_reply<api_versions_api>(unknown, 0);
    EXPECT_EQ(resp.error_code, err(model::kafka_error::unsupported_version));
    EXPECT_FALSE(resp.api_keys.empty());
}

TEST_F(dispatch_fixture, unknown_api_key_closes_the_connection) {
    bytes frame = make_request<api_versions_api>({}, 0).take_message();
    frame[0] = 0x7f;  // api key 32512
    EXPECT_EQ(run(raw_request(frame)).what(), net::reply::kind::close);
}

TEST_F(dispatch_fixture, unsupported_version_of_another_api_closes_the_connection) {
    bytes frame = make_request<metadata_api>({}, 1).take_message();
    frame[2] = 0x7f;
    EXPECT_EQ(run(raw_request(frame)).what(), net::reply::kind::close);
}

TEST_F(dispatch_fixture, truncated_body_closes_the_connection) {
    bytes frame = make_request<metadata_api>({}, 1).take_message();
    frame.resize(frame.size() - 2);
    EXPECT_EQ(run(raw_request(frame)).what(), net::reply::kind::close);
}

TEST_F(dispatch_fixture, find_coordinator_is_not_available_yet) {
    find_coordinator_request req;
    req.key = "group";
    EXPECT_EQ(call<find_coordinator_api>(req, 0).error_code,
              err(model::kafka_error::coordinator_not_available));
}

TEST_F(dispatch_fixture, metadata_describes_brokers_controller_and_led_partitions) {
    lead_partition();
    metadata_request all;
    all.topics = std::nullopt;
    auto resp = call<metadata_api>(all, 9);
    ASSERT_EQ(resp.brokers.size(), 1u);
    EXPECT_EQ(resp.brokers[0].host, "h1");
    EXPECT_EQ(resp.controller_id, node_id(7));
    EXPECT_EQ(resp.cluster_id, "cluster-x");
    ASSERT_EQ(resp.topics.size(), 1u);
    const auto& p = resp.topics[0].partitions.at(0);
    EXPECT_EQ(p.leader_id, node_id(1));
    EXPECT_EQ(p.leader_epoch, model::leader_epoch(4));
}

TEST_F(dispatch_fixture, metadata_of_an_unknown_topic_without_zookeeper_is_unknown) {
    metadata_request req;
    req.topics = std::vector<metadata_request::metadata_request_topic>{{{}, "nope", {}}};
    auto resp = call<metadata_api>(req, 4);
    ASSERT_EQ(resp.topics.size(), 1u);
    EXPECT_EQ(resp.topics[0].error_code, err(model::kafka_error::unknown_topic_or_partition));
}

TEST_F(dispatch_fixture, stale_controller_epoch_is_refused) {
    lead_partition();
    update_metadata_request um;
    um.controller_epoch = model::controller_epoch(0);
    EXPECT_EQ(call<update_metadata_api>(um, 7).error_code,
              err(model::kafka_error::stale_controller_epoch));
}

TEST_F(dispatch_fixture, produced_batches_are_fetched_back_with_assigned_offsets) {
    lead_partition();
    bytes batch = storage::test::make_batch({.records = 3});
    auto p1 = call<produce_api>(produce_of(batch), 7);
    auto p2 = call<produce_api>(produce_of(batch), 7);
    EXPECT_EQ(p1.responses.at(0).partition_responses.at(0).base_offset, model::offset(0));
    EXPECT_EQ(p2.responses.at(0).partition_responses.at(0).base_offset, model::offset(3));

    auto f = call<fetch_api>(fetch_from(3, 0, 1), 11);
    const auto& part = f.responses.at(0).partitions.at(0);
    EXPECT_EQ(part.error_code, 0);
    EXPECT_EQ(part.high_watermark, model::offset(6));
    ASSERT_TRUE(part.records);
    ASSERT_EQ(part.records->size(), batch.size());
    auto header =
        model::validate_batch(part.records->data(), batch.size(), model::count_rule::exact);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->base_offset, model::offset(3));
}

TEST_F(dispatch_fixture, fetch_at_the_end_returns_empty_not_null_records) {
    lead_partition();
    auto f = call<fetch_api>(fetch_from(0, 0, 1), 11);
    const auto& part = f.responses.at(0).partitions.at(0);
    ASSERT_TRUE(part.records);
    EXPECT_EQ(part.records->size(), 0u);
    auto beyond = call<fetch_api>(fetch_from(5, 0, 1), 11);
    EXPECT_EQ(beyond.responses.at(0).partitions.at(0).error_code,
              err(model::kafka_error::offset_out_of_range));
}

TEST_F(dispatch_fixture, long_poll_fetch_is_answered_when_a_produce_arrives) {
    lead_partition();
    std::optional<net::reply> fetched;
    start(make_request<fetch_api>(fetch_from(0, 60000, 1), 11), fetched);
    EXPECT_FALSE(fetched.has_value());  // waiting for data
    call<produce_api>(produce_of(storage::test::make_batch({.records = 2})), 7);
    ioc.poll();
    ASSERT_TRUE(fetched.has_value());
    auto f = decode_reply<fetch_api>(*fetched, 11);
    EXPECT_GT(f.responses.at(0).partitions.at(0).records->size(), 0u);
}

TEST_F(dispatch_fixture, produce_errors_follow_kafka) {
    lead_partition();
    bytes batch = storage::test::make_batch({.records = 1});
    bytes corrupt = batch;
    corrupt.back() ^= 0xff;
    auto code_of = [](const produce_response& r) {
        return r.responses.at(0).partition_responses.at(0).error_code;
    };
    EXPECT_EQ(code_of(call<produce_api>(produce_of(corrupt), 7)),
              err(model::kafka_error::corrupt_message));
    EXPECT_EQ(code_of(call<produce_api>(produce_of(batch, 2), 7)),
              err(model::kafka_error::invalid_required_acks));
    config.min_insync_replicas = 2;  // the ISR is {1}
    rm.reload_configs();
    EXPECT_EQ(code_of(call<produce_api>(produce_of(batch, -1), 7)),
              err(model::kafka_error::not_enough_replicas));
    EXPECT_EQ(code_of(call<produce_api>(produce_of(batch, 1), 7)), 0);
    config.min_insync_replicas = 1;
    rm.reload_configs();
    config.message_max_bytes = 10;
    EXPECT_EQ(code_of(call<produce_api>(produce_of(batch), 7)),
              err(model::kafka_error::message_too_large));
}

// Kafka's LogValidator: a record without a key cannot go into a compacted topic.
TEST_F(dispatch_fixture, keyless_records_into_a_compacted_topic_are_invalid_record) {
    log_configs["t"].compact = true;
    lead_partition();
    const std::string key = "k";
    const std::string value = "v";
    auto batch_with_key = [&](bool keyed, model::compression_type codec) {
        protocol::record_input r;
        if (keyed) {
            r.key = bytes_view(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
        }
        r.value = bytes_view(reinterpret_cast<const std::uint8_t*>(value.data()), value.size());
        auto b = protocol::build_batch(std::span(&r, 1), {.compression = codec});
        EXPECT_TRUE(b);
        return b ? *b : bytes{};
    };
    for (auto codec : {model::compression_type::none, model::compression_type::lz4}) {
        auto refused = call<produce_api>(produce_of(batch_with_key(false, codec)), 9);
        const auto& r = refused.responses.at(0).partition_responses.at(0);
        EXPECT_EQ(r.error_code, 87);
        EXPECT_EQ(r.error_code, err(model::kafka_error::invalid_record));
        EXPECT_EQ(r.base_offset, model::no_offset);
        ASSERT_TRUE(r.error_message);
        EXPECT_NE(r.error_message->find("Compacted topic cannot accept message without key"),
                  std::string::npos);
        auto keyed = call<produce_api>(produce_of(batch_with_key(true, codec)), 9);
        EXPECT_EQ(keyed.responses.at(0).partition_responses.at(0).error_code, 0);
    }
    auto log_end = rm.partition({"t", partition_id(0)})->log().log_end_offset();
    EXPECT_EQ(log_end, model::offset(2)) << "only the keyed records were written";
    // A v7 answer has no message field; the code is the same.
    auto v7 =
        call<produce_api>(produce_of(batch_with_key(false, model::compression_type::none)), 7);
    EXPECT_EQ(v7.responses.at(0).partition_responses.at(0).error_code, 87);
    // The same records into a topic whose policy is delete: accepted.
    log_configs["t"].compact = false;
    logs.reload_configs();
    auto accepted =
        call<produce_api>(produce_of(batch_with_key(false, model::compression_type::none)), 9);
    EXPECT_EQ(accepted.responses.at(0).partition_responses.at(0).error_code, 0);
    EXPECT_EQ(accepted.responses.at(0).partition_responses.at(0).base_offset, model::offset(2));
}

TEST_F(dispatch_fixture, produce_to_a_partition_led_elsewhere_names_the_leader) {
    lead_partition();
    update_metadata_request um;
    um.controller_id = node_id(7);
    um.controller_epoch = model::controller_epoch(1);
    update_metadata_partition_state ps;
    ps.partition_index = partition_id(1);
    ps.leader = node_id(2);
    ps.leader_epoch = model::leader_epoch(9);
    um.topic_states.push_back({"t", {}, {ps}, {}});
    call<update_metadata_api>(um, 7);
    auto req = produce_of(storage::test::make_batch({.records = 1}));
    req.topic_data[0].partition_data[0].index = partition_id(1);
    auto resp = call<produce_api>(req, 10);
    const auto& p = resp.responses.at(0).partition_responses.at(0);
    EXPECT_EQ(p.error_code, err(model::kafka_error::not_leader_or_follower));
    EXPECT_EQ(p.current_leader.leader_id, node_id(2));
    EXPECT_EQ(p.current_leader.leader_epoch, model::leader_epoch(9));
}

TEST_F(dispatch_fixture, acks_zero_produce_sends_no_response) {
    lead_partition();
    auto req = make_request<produce_api>(produce_of(storage::test::make_batch({}), 0), 7);
    EXPECT_EQ(run(std::move(req)).what(), net::reply::kind::none);
}

TEST_F(dispatch_fixture, failed_acks_zero_produce_closes_the_connection) {
    bytes corrupt = storage::test::make_batch({});
    corrupt.back() ^= 0xff;
    lead_partition();
    auto req = make_request<produce_api>(produce_of(corrupt, 0), 7);
    EXPECT_EQ(run(std::move(req)).what(), net::reply::kind::close);
}

TEST_F(dispatch_fixture, list_offsets_reports_earliest_and_latest) {
    lead_partition();
    call<produce_api>(produce_of(storage::test::make_batch({.records = 5})), 7);
    auto ask = [&](std::int64_t ts) {
        list_offsets_request req;
        req.replica_id = model::no_node;
        req.topics.push_back(
            {"t", {{partition_id(0), model::no_leader_epoch, model::timestamp_ms(ts), {}}}, {}});
        return call<list_offsets_api>(req, 4).topics.at(0).partitions.at(0).offset;
    };
    EXPECT_EQ(ask(-2), model::offset(0));
    EXPECT_EQ(ask(-1), model::offset(5));
    // Records carry timestamps 1000..1004: the answer is the exact record, not its batch.
    EXPECT_EQ(ask(1003), model::offset(3));
    EXPECT_EQ(ask(999), model::offset(0));
    EXPECT_EQ(ask(5000), model::no_offset);
}

TEST_F(dispatch_fixture, describe_cluster_lists_brokers_on_the_request_listener) {
    lead_partition();
    auto resp = call<describe_cluster_api>({}, 0);
    EXPECT_EQ(resp.cluster_id, "cluster-x");
    EXPECT_EQ(resp.controller_id, node_id(7));
    ASSERT_EQ(resp.brokers.size(), 1u);
    EXPECT_EQ(resp.brokers[0].host, "h1");
    EXPECT_EQ(resp.brokers[0].port, 9092);
}

TEST_F(dispatch_fixture, fetch_with_an_older_leader_epoch_is_fenced) {
    lead_partition();
    auto req = fetch_from(0, 0, 1);
    req.topics[0].partitions[0].current_leader_epoch = model::leader_epoch(3);
    EXPECT_EQ(call<fetch_api>(req, 11).responses.at(0).partitions.at(0).error_code,
              err(model::kafka_error::fenced_leader_epoch));
    req.topics[0].partitions[0].current_leader_epoch = model::leader_epoch(5);
    EXPECT_EQ(call<fetch_api>(req, 11).responses.at(0).partitions.at(0).error_code,
              err(model::kafka_error::unknown_leader_epoch));
}

// A session remembers where its partitions live between rounds: a replica stopped and
// started again meanwhile is looked up again (ASan sees a stale one used). Without a
// session cache an incremental fetch finds no session.
TEST_F(dispatch_fixture, a_fetch_session_follows_its_replica_through_a_stop_and_a_restart) {
    lead_partition();
    fetch_request next;
    next.session_id = 1;
    next.session_epoch = 1;
    EXPECT_EQ(call<fetch_api>(next, 11).error_code,
              err(model::kafka_error::fetch_session_id_not_found));
    fetch::session_cache sessions{fetch::cache_config{}, 1};
    svc.fetch_sessions = &sessions;
    fetch_request full = fetch_from(0, 0, 0);
    full.session_epoch = 0;
    next.session_id = call<fetch_api>(full, 11).session_id;
    ASSERT_NE(next.session_id, 0);
    auto round = [&] { return call<fetch_api>(next, 11); };
    EXPECT_TRUE(round().responses.empty());  // nothing new
    call<produce_api>(produce_of(storage::test::make_batch({.records = 2})), 7);
    ++next.session_epoch;
    auto data = round();
    ASSERT_EQ(data.responses.size(), 1u);
    EXPECT_EQ(data.responses[0].partitions.at(0).records->size() > 0, true);
    stop_replica_request stop;
    stop.controller_id = node_id(7);
    stop.controller_epoch = model::controller_epoch(1);
    stop.topic_states.push_back({"t", {{partition_id(0), model::leader_epoch(4), false, {}}}, {}});
    ASSERT_EQ(call<stop_replica_api>(stop, 3).error_code, 0);
    ++next.session_epoch;
    EXPECT_EQ(round().responses.at(0).partitions.at(0).error_code,
              err(model::kafka_error::not_leader_or_follower));
    lead_partition();
    ++next.session_epoch;
    auto back = round();
    ASSERT_EQ(back.responses.size(), 1u);
    EXPECT_EQ(back.responses[0].partitions.at(0).error_code, 0);
    EXPECT_EQ(back.responses[0].partitions.at(0).high_watermark, model::offset(2));
}

TEST_F(dispatch_fixture, stop_replica_with_delete_removes_the_partition_log) {
    lead_partition();
    stop_replica_request req;
    req.controller_id = node_id(7);
    req.controller_epoch = model::controller_epoch(1);
    req.topic_states.push_back({"t", {{partition_id(0), model::leader_epoch(4), true, {}}}, {}});
    auto resp = call<stop_replica_api>(req, 3);
    EXPECT_EQ(resp.error_code, 0);
    ASSERT_EQ(resp.partition_errors.size(), 1u);
    EXPECT_EQ(resp.partition_errors[0].error_code, 0);
    EXPECT_EQ(logs.get({"t", partition_id(0)}), nullptr);
    auto produced = call<produce_api>(produce_of(storage::test::make_batch({})), 7);
    EXPECT_EQ(produced.responses.at(0).partition_responses.at(0).error_code,
              err(model::kafka_error::not_leader_or_follower));
}

TEST_F(dispatch_fixture, leader_and_isr_for_an_older_incarnation_is_refused) {
    lead_partition();
    leader_and_isr_request la;
    la.controller_id = node_id(7);
    la.controller_epoch = model::controller_epoch(1);
    la.broker_epoch = model::broker_epoch(49);  // ours is 50
    EXPECT_EQ(call<leader_and_isr_api>(la, 6).error_code,
              err(model::kafka_error::stale_broker_epoch));
}



TEST_F(dispatch_fixture, acks_all_is_answered_once_the_follower_has_the_records) {
    lead_partition({node_id(1), node_id(2)});
    bytes batch = storage::test::make_batch({.records = 3});
    std::optional<net::reply> produced;
    start(make_request<produce_api>(produce_of(batch, -1), 9), produced);
    EXPECT_FALSE(produced.has_value()) << "acks=all answered before the follower fetched";

    // Consumers see nothing beyond the high watermark, still 0.
    auto consumer = call<fetch_api>(fetch_from(0, 0, 1), 12).responses.at(0).partitions.at(0);
    EXPECT_EQ(consumer.high_watermark, model::offset(0));
    EXPECT_EQ(consumer.records->size(), 0u);

    // The follower fetches the records (its offset 0 proves nothing yet)...
    auto first = call<fetch_api>(replica_fetch(2, 0, -1), 12).responses.at(0).partitions.at(0);
    EXPECT_EQ(first.error_code, 0);
    EXPECT_EQ(first.records->size(), batch.size());
    EXPECT_FALSE(produced.has_value());
    // ...and its next fetch, from offset 3, moves the high watermark past them.
    auto second = call<fetch_api>(replica_fetch(2, 3, 4), 12).responses.at(0).partitions.at(0);
    EXPECT_EQ(second.high_watermark, model::offset(3));
    ASSERT_TRUE(produced.has_value());
    auto resp = decode_reply<produce_api>(*produced, 9);
    EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code, 0);
    EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).base_offset, model::offset(0));

    consumer = call<fetch_api>(fetch_from(0, 0, 1), 12).responses.at(0).partitions.at(0);
    EXPECT_EQ(consumer.high_watermark, model::offset(3));
    EXPECT_EQ(consumer.records->size(), batch.size());
}

TEST_F(dispatch_fixture, acks_all_past_its_timeout_is_request_timed_out) {
    lead_partition({node_id(1), node_id(2)});
    auto req = produce_of(storage::test::make_batch({.records = 1}), -1);
    req.timeout_ms = 0;
    auto resp = call<produce_api>(req, 9);
    EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code,
              err(model::kafka_error::request_timed_out));
}

TEST_F(dispatch_fixture, acks_all_waiting_when_leadership_moves_is_not_leader_never_success) {
    lead_partition({node_id(1), node_id(2)});
    std::optional<net::reply> produced;
    start(make_request<produce_api>(produce_of(storage::test::make_batch({.records = 1}), -1), 9),
          produced);
    ASSERT_FALSE(produced.has_value());
    auto la = leader_and_isr_of(2, 5, {node_id(1), node_id(2)});
    ASSERT_EQ(call<leader_and_isr_api>(la, 6).error_code, 0);
    ASSERT_TRUE(produced.has_value());
    auto resp = decode_reply<produce_api>(*produced, 9);
    EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code,
              err(model::kafka_error::not_leader_or_follower));
}

TEST_F(dispatch_fixture, a_follower_is_fenced_or_told_where_its_log_diverges) {
    lead_partition({node_id(1), node_id(2)});
    ASSERT_EQ(call<produce_api>(produce_of(storage::test::make_batch({.records = 2}), 1), 9)
                  .responses.at(0).partition_responses.at(0).error_code, 0);
    auto part = [&](const fetch_request& f) {
        return call<fetch_api>(f, 12).responses.at(0).partitions.at(0);
    };
    EXPECT_EQ(part(replica_fetch(2, 0, -1, 3)).error_code,
              err(model::kafka_error::fenced_leader_epoch));
    EXPECT_EQ(part(replica_fetch(2, 0, -1, 5)).error_code,
              err(model::kafka_error::unknown_leader_epoch));
    EXPECT_EQ(part(replica_fetch(2, 9, -1)).error_code,
              err(model::kafka_error::offset_out_of_range));
    // The follower has offsets 0..4 of an epoch 3 this leader never had: truncate to 0.
    auto d = part(replica_fetch(2, 5, 3));
    EXPECT_EQ(d.error_code, 0);
    EXPECT_EQ(d.diverging_epoch.epoch, 3);
    EXPECT_EQ(d.diverging_epoch.end_offset, model::offset(0));
    EXPECT_EQ(d.records->size(), 0u);
    // Epoch 4 ends at 2 here: a follower claiming 3 records of it diverged at 2.
    d = part(replica_fetch(2, 3, 4));
    EXPECT_EQ(d.diverging_epoch.epoch, 4);
    EXPECT_EQ(d.diverging_epoch.end_offset, model::offset(2));
}

TEST_F(dispatch_fixture, offset_for_leader_epoch_answers_where_each_epoch_ends) {
    lead_partition();
    ASSERT_EQ(call<produce_api>(produce_of(storage::test::make_batch({.records = 2}), 1), 9)
                  .responses.at(0).partition_responses.at(0).error_code, 0);
    auto ask = [&](int epoch, int current) {
        offset_for_leader_epoch_request req;
        req.replica_id = node_id(-1);
        req.topics.push_back({"t", {{partition_id(0), model::leader_epoch(current),
                                     model::leader_epoch(epoch), {}}}, {}});
        return call<offset_for_leader_epoch_api>(req, 4).topics.at(0).partitions.at(0);
    };
    auto latest = ask(4, 4);
    EXPECT_EQ(latest.error_code, 0);
    EXPECT_EQ(latest.leader_epoch, model::leader_epoch(4));
    EXPECT_EQ(latest.end_offset, model::offset(2));
    auto newer = ask(6, -1);
    EXPECT_EQ(newer.leader_epoch, model::no_leader_epoch);
    EXPECT_EQ(newer.end_offset, model::no_offset);
    EXPECT_EQ(ask(4, 3).error_code, err(model::kafka_error::fenced_leader_epoch));
}

// An idempotent producer's batch (acks=1, as the leader alone decides): a retry is answered
// with the offsets it first got and written once; a sequence gap is
// OUT_OF_ORDER_SEQUENCE_NUMBER and a stale epoch INVALID_PRODUCER_EPOCH, neither written;
// DescribeProducers shows the producer's epoch and last sequence.
TEST_F(dispatch_fixture, idempotent_produce_is_deduplicated_and_described) {
    lead_partition();
    auto batch = [](int records, std::int16_t epoch, std::int32_t sequence) {
        return storage::test::make_batch(
            {.records = records, .producer_id = 42, .producer_epoch = epoch, .base_sequence = sequence});
    };
    auto produce = [&](const bytes& b) {
        auto r = call<produce_api>(produce_of(b, 1), 7).responses.at(0).partition_responses.at(0);
        return std::make_pair(r.error_code, r.base_offset);
    };
    using answer = std::pair<std::int16_t, model::offset>;
    EXPECT_EQ(produce(batch(3, 0, 0)), answer(0, model::offset(0)));
    EXPECT_EQ(produce(batch(2, 0, 3)), answer(0, model::offset(3)));
    EXPECT_EQ(produce(batch(3, 0, 0)), answer(0, model::offset(0))) << "retry of the first";
    EXPECT_EQ(produce(batch(1, 0, 9)).first, err(model::kafka_error::out_of_order_sequence_number));
    EXPECT_EQ(produce(batch(1, 1, 0)), answer(0, model::offset(5))) << "new epoch from 0";
    EXPECT_EQ(produce(batch(1, 0, 5)).first, err(model::kafka_error::invalid_producer_epoch));
    auto f = call<fetch_api>(fetch_from(0, 0, 1), 11);
    EXPECT_EQ(f.responses.at(0).partitions.at(0).high_watermark, model::offset(6));

    describe_producers_request req;
    req.topics.push_back({"t", {0, 7}, {}});
    auto d = call<describe_producers_api>(req, 0);
    ASSERT_EQ(d.topics.size(), 1u);
    ASSERT_EQ(d.topics[0].partitions.size(), 2u);
    const auto& p0 = d.topics[0].partitions[0];
    EXPECT_EQ(p0.error_code, 0);
    ASSERT_EQ(p0.active_producers.size(), 1u);
    EXPECT_EQ(p0.active_producers[0].producer_id, model::producer_id(42));
    EXPECT_EQ(p0.active_producers[0].producer_epoch, 1);
    EXPECT_EQ(p0.active_producers[0].last_sequence, 0);
    EXPECT_EQ(p0.active_producers[0].current_txn_start_offset, -1);
    EXPECT_EQ(d.topics[0].partitions[1].error_code,
              err(model::kafka_error::unknown_topic_or_partition));
}

}  // namespace
}  // namespace gregor::broker
