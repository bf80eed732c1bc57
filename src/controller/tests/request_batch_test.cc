// Goal: a failover's batch (everything()) sends exactly what listing every partition would:
// the same LeaderAndIsr to each online replica and the same UpdateMetadata to each broker,
// byte for byte, while what a round adds on top (new partitions, a direct LeaderAndIsr to an
// offline replica, deletions) still reaches its broker.
// Method: one context with a partition lacking a state znode, an offline replica and a
// topic being deleted; the two ways of filling a batch are built and compared.
#include "controller/request_batch.h"

#include "protocol/frame.h"
#include "protocol/headers.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/update_metadata.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace gregor::controller {
namespace {

using model::node_id;
using model::partition_id;

controller_context make_context() {
    controller_context ctx;
    ctx.epoch = model::controller_epoch{4};
    for (int id : {1, 2, 3}) {
        coord::broker_info info;
        info.endpoints.push_back({"PLAINTEXT", "h" + std::to_string(id), 9092, "PLAINTEXT"});
        ctx.brokers[node_id{id}] = {node_id{id}, model::broker_epoch{100 + id}, info};
    }
    for (const char* name : {"a", "b"}) {
        topic_record& t = ctx.topics[name];
        t.id.bytes[0] = static_cast<std::uint8_t>(name[0]);
        for (int p = 0; p < 4; ++p) {
            partition_record& r = t.partitions[partition_id{p}];
            r.replicas = {node_id{p % 3 + 1}, node_id{(p + 1) % 3 + 1}, node_id{4}};  // 4 is gone
            r.state = {r.replicas[0], model::leader_epoch{p}, ctx.epoch, false, {r.replicas[0]}};
            r.version = model::zk_version{p};
        }
    }
    ctx.topics["a"].partitions[partition_id{3}].version = model::zk_version{-1};  // no znode yet
    ctx.offline_replicas[node_id{2}].insert({"b", partition_id{0}});
    return ctx;
}

std::vector<outgoing_request> build(const controller_context& ctx, const request_batch& b) {
    std::vector<outgoing_request> out;
    request_builder builder(b, ctx, node_id{1}, "controller-1", "PLAINTEXT");
    while (auto r = builder.next(ctx)) {
        out.push_back(std::move(*r));
    }
    return out;
}

void expect_same(const std::vector<outgoing_request>& got,
                 const std::vector<outgoing_request>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].broker, want[i].broker) << i;
        EXPECT_EQ(got[i].api_key, want[i].api_key) << i;
        EXPECT_TRUE(got[i].message == want[i].message) << "request " << i << " differs";
    }
}

TEST(request_batch, everything_equals_listing_every_partition) {
    controller_context ctx = make_context();
    request_batch listed;
    for (const auto& [name, t] : ctx.topics) {
        for (const auto& [p, r] : t.partitions) {
            if (r.version() >= 0) {
                listed.leader_and_isr_to_replicas(ctx, {name, p}, false);
                listed.update_metadata(ctx.registered_set(), {name, p});
            }
        }
    }
    request_batch all;
    all.everything(ctx.registered_set());
    auto want = build(ctx, listed);
    // 3 LeaderAndIsr (broker 2 misses its offline replica) and 3 UpdateMetadata.
    EXPECT_EQ(want.size(), 6U);
    expect_same(build(ctx, all), want);
}

TEST(request_batch, everything_keeps_what_the_round_adds) {
    controller_context ctx = make_context();
    model::topic_partition fresh{"a", partition_id{3}};
    model::topic_partition offline{"b", partition_id{0}};
    model::topic_partition gone{"b", partition_id{1}};
    auto add_round = [&](request_batch& b) {
        ctx.topics["a"].partitions[partition_id{3}].version = model::zk_version{0};
        b.leader_and_isr_to_replicas(ctx, fresh, true);        // created this round
        b.leader_and_isr(node_id{2}, offline, false);           // asks for a storage error
        b.update_metadata_deleting(ctx.registered_set(), gone);  // deleted: leader -2
    };
    request_batch listed;
    add_round(listed);
    for (const auto& [name, t] : ctx.topics) {
        for (const auto& [p, r] : t.partitions) {
            listed.leader_and_isr_to_replicas(ctx, {name, p}, false);
            listed.update_metadata(ctx.registered_set(), {name, p});
        }
    }
    ctx = make_context();
    request_batch all;
    all.everything(ctx.registered_set());
    add_round(all);
    expect_same(build(ctx, all), build(ctx, listed));
}

TEST(request_batch, everything_on_an_empty_cluster_still_tells_every_broker) {
    controller_context ctx = make_context();
    ctx.topics.clear();
    request_batch all;
    EXPECT_TRUE(all.empty());
    all.everything(ctx.registered_set());
    EXPECT_FALSE(all.empty());
    auto out = build(ctx, all);
    ASSERT_EQ(out.size(), 3U);  // UpdateMetadata with the live brokers; no LeaderAndIsr
    for (const auto& r : out) {
        EXPECT_EQ(r.api_key, protocol::update_metadata_api::key);
    }
}

// (broker, api key) -> the partitions its requests carry, and the largest request's count.
struct carried {
    std::map<std::pair<int, int>, std::multiset<std::pair<std::string, int>>> partitions;
    std::size_t largest = 0;
    std::size_t brokers_listed_min = 100;  // UpdateMetadata pieces each carry every broker
};

carried decode_all(const std::vector<outgoing_request>& requests) {
    carried out;
    for (const auto& req : requests) {
        protocol::reader r(req.message);
        auto h = protocol::decode_request_header(r);
        EXPECT_TRUE(h.has_value());
        auto& set = out.partitions[{req.broker(), req.api_key}];
        std::size_t n = 0;
        if (req.api_key == protocol::leader_and_isr_api::key) {
            auto body = protocol::decode_exact<protocol::leader_and_isr_request>(r, h->api_version);
            EXPECT_TRUE(body.has_value());
            for (const auto& t : body->topic_states) {
                for (const auto& p : t.partition_states) {
                    set.insert({t.topic_name, p.partition_index()});
                    ++n;
                }
            }
        } else if (req.api_key == protocol::update_metadata_api::key) {
            auto body =
                protocol::decode_exact<protocol::update_metadata_request>(r, h->api_version);
            EXPECT_TRUE(body.has_value());
            out.brokers_listed_min = std::min(out.brokers_listed_min, body->live_brokers.size());
            for (const auto& t : body->topic_states) {
                for (const auto& p : t.partition_states) {
                    set.insert({t.topic_name, p.partition_index()});
                    ++n;
                }
            }
        }
        out.largest = std::max(out.largest, n);
    }
    return out;
}

// A round larger than request_partitions_max goes out in pieces: together they carry exactly
// what the whole requests would, to the same brokers, in LeaderAndIsr-then-UpdateMetadata
// order, none over the limit, and every UpdateMetadata piece with the live brokers. Both ways
// a failover's UpdateMetadata is built: one walk shared by every broker, and each broker's own
// (when it deletes something).
void expect_pieces_add_up(const controller_context& ctx, const request_batch& batch) {
    const auto whole = build(ctx, batch);
    std::vector<outgoing_request> pieces;
    request_builder builder(batch, ctx, node_id{1}, "controller-1", "PLAINTEXT", 2);
    while (auto r = builder.next(ctx)) {
        pieces.push_back(std::move(*r));
    }
    EXPECT_GT(pieces.size(), whole.size());
    auto want = decode_all(whole);
    auto got = decode_all(pieces);
    EXPECT_EQ(got.partitions, want.partitions);
    EXPECT_LE(got.largest, 2U);
    EXPECT_GT(want.largest, 2U);
    EXPECT_EQ(got.brokers_listed_min, 3U);
    // Every LeaderAndIsr piece comes before every UpdateMetadata one.
    auto first_um = std::find_if(pieces.begin(), pieces.end(), [](const outgoing_request& r) {
        return r.api_key == protocol::update_metadata_api::key;
    });
    EXPECT_TRUE(std::none_of(first_um, pieces.end(), [](const outgoing_request& r) {
        return r.api_key == protocol::leader_and_isr_api::key;
    }));
}

TEST(request_batch, a_large_round_is_sent_in_pieces_that_add_up_to_the_whole) {
    controller_context ctx = make_context();
    request_batch all;
    all.everything(ctx.registered_set());
    expect_pieces_add_up(ctx, all);
    all.update_metadata_deleting(ctx.registered_set(), {"b", partition_id{1}});
    expect_pieces_add_up(ctx, all);
    request_batch some;  // listed partitions only, to part of the brokers
    some.leader_and_isr_to_replicas(ctx, {"a", partition_id{0}}, false);
    some.leader_and_isr_to_replicas(ctx, {"a", partition_id{1}}, true);
    some.leader_and_isr_to_replicas(ctx, {"b", partition_id{2}}, false);
    for (int p = 0; p < 3; ++p) {
        some.update_metadata({node_id{1}, node_id{3}}, {"b", partition_id{p}});
    }
    some.update_metadata_brokers({node_id{2}});
    expect_pieces_add_up(ctx, some);
}

// A failover's UpdateMetadata of every partition is walked once, piece by piece, each piece
// going to every broker before the next is built: no broker's whole request is held at once.
TEST(request_batch, the_update_metadata_of_every_partition_goes_piece_by_piece_to_every_broker) {
    controller_context ctx = make_context();
    request_batch all;
    all.everything(ctx.registered_set());
    request_builder builder(all, ctx, node_id{1}, "controller-1", "PLAINTEXT", 3);
    std::vector<int> um_brokers;
    while (auto r = builder.next(ctx)) {
        if (r->api_key == protocol::update_metadata_api::key) {
            um_brokers.push_back(r->broker());
        }
    }
    // 7 partitions with a state znode in pieces of 3: 3 pieces, each to brokers 1, 2, 3.
    EXPECT_EQ(um_brokers, (std::vector<int>{1, 2, 3, 1, 2, 3, 1, 2, 3}));
}

}  // namespace
}  // namespace gregor::controller
