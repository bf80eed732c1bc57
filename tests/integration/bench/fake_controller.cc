#include "integration/bench/fake_controller.h"

#include "integration/broker/broker_process.h"
#include "protocol/messages/all.h"

#include <fmt/format.h>

namespace gregor::test {
namespace {

using namespace protocol;
using model::node_id;
using model::partition_id;

constexpr std::int16_t update_metadata_version = 7;
constexpr std::int16_t leader_and_isr_version = 6;

leader_and_isr_partition_state led_by_one(int partition) {
    leader_and_isr_partition_state s;
    s.partition_index = partition_id(partition);
    s.controller_epoch = model::controller_epoch(1);
    s.leader = node_id(1);
    s.leader_epoch = model::leader_epoch(1);
    s.isr = s.replicas = {node_id(1)};
    s.is_new = true;
    return s;
}

update_metadata_partition_state as_metadata(const leader_and_isr_partition_state& l) {
    update_metadata_partition_state ps;
    ps.partition_index = l.partition_index;
    ps.controller_epoch = l.controller_epoch;
    ps.leader = l.leader;
    ps.leader_epoch = l.leader_epoch;
    ps.isr = l.isr;
    ps.replicas = l.replicas;
    return ps;
}

std::string send(std::uint16_t port, const update_metadata_request& um,
                 const leader_and_isr_request& la) {
    kafka_socket s(port);
    bytes um_resp = s.call(update_metadata_api::key, update_metadata_version, um);
    reader r1(um_resp);
    auto umr = update_metadata_response::decode(r1, update_metadata_version);
    if (!umr || umr->error_code != 0) {
        return "UpdateMetadata refused";
    }
    bytes la_resp = s.call(leader_and_isr_api::key, leader_and_isr_version, la);
    reader r2(la_resp);
    auto lar = leader_and_isr_response::decode(r2, leader_and_isr_version);
    if (!lar || lar->error_code != 0) {
        return "LeaderAndIsr refused";
    }
    for (const auto& t : lar->topics) {
        for (const auto& p : t.partition_errors) {
            if (p.error_code != 0) {
                return fmt::format("LeaderAndIsr: partition {} error {}", p.partition_index.value(),
                                   p.error_code);
            }
        }
    }
    return "";
}

}  // namespace

std::string lead_partitions(std::uint16_t port, const std::string& topic, int partitions) {
    update_metadata_request um;
    um.controller_id = node_id(1);
    um.controller_epoch = model::controller_epoch(1);
    um.live_brokers.push_back(
        {node_id(1), "", 0, {{port, "127.0.0.1", "PLAINTEXT", 0, {}}}, std::nullopt, {}});
    leader_and_isr_request la;
    la.controller_id = node_id(1);
    la.controller_epoch = model::controller_epoch(1);
    um.topic_states.push_back({topic, {}, {}, {}});
    la.topic_states.push_back({topic, {}, {}, {}});
    for (int p = 0; p < partitions; ++p) {
        la.topic_states.back().partition_states.push_back(led_by_one(p));
        um.topic_states.back().partition_states.push_back(
            as_metadata(la.topic_states.back().partition_states.back()));
    }
    return send(port, um, la);
}

}  // namespace gregor::test
