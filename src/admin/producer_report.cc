#include "admin/producer_report.h"

#include "admin/commands_common.h"
#include "admin/connection.h"
#include "model/kafka_error.h"
#include "protocol/messages/describe_producers.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>

namespace gregor::admin {
namespace {

using ojson = nlohmann::ordered_json;
using described_partition = protocol::describe_producers_response::
    describe_producers_response_topic::describe_producers_response_partition;

struct leader_batch {
    endpoint where;
    protocol::describe_producers_request request;
    std::vector<std::size_t> slots;  // indexes into the output, in request order
};

producer_line line_of(const described_partition::producer_state& p) {
    return {p.producer_id(), p.producer_epoch,    p.last_sequence,
            p.last_timestamp, p.coordinator_epoch, p.current_txn_start_offset};
}

// Fills the slots of one leader's partitions from its answer (or with why it gave none).
void ask_leader(leader_batch& b, std::vector<partition_producers>& out,
                std::chrono::milliseconds timeout) {
    auto fail_all = [&](const std::string& why) {
        for (std::size_t slot : b.slots) {
            out[slot].message = why;
        }
    };
    auto conn = connection::open(b.where, timeout);
    if (!conn) {
        return fail_all(conn.err().to_string());
    }
    auto resp = (*conn)->call<protocol::describe_producers_api>(b.request);
    if (!resp) {
        return fail_all(resp.err().to_string());
    }
    std::map<std::pair<std::string, std::int32_t>, const described_partition*> answers;
    for (const auto& t : resp->topics) {
        for (const auto& p : t.partitions) {
            answers[{t.name, p.partition_index}] = &p;
        }
    }
    for (std::size_t slot : b.slots) {
        auto it = answers.find({out[slot].topic, out[slot].partition});
        if (it == answers.end()) {
            out[slot].message = "no answer for this partition";
            continue;
        }
        out[slot].error_code = it->second->error_code;
        out[slot].message = it->second->error_message.value_or("");
        for (const auto& p : it->second->active_producers) {
            out[slot].producers.push_back(line_of(p));
        }
    }
}

std::string error_text(const partition_producers& p) {
    return p.error_code != 0 ? detail::describe_kafka_error(p.error_code, p.message) : p.message;
}

}  // namespace

std::vector<partition_producers> fetch_producers(const protocol::metadata_response& md,
                                                 std::chrono::milliseconds timeout) {
    std::map<std::int32_t, endpoint> brokers;
    for (const auto& b : md.brokers) {
        brokers[b.node_id()] = endpoint{b.host, static_cast<std::uint16_t>(b.port)};
    }
    std::vector<partition_producers> out;
    std::map<std::int32_t, leader_batch> by_leader;
    for (const auto& t : md.topics) {
        if (t.error_code != 0 || !t.name) {
            continue;
        }
        for (const auto& p : t.partitions) {
            out.push_back({*t.name, p.partition_index(), 0, "", {}});
            auto known = brokers.find(p.leader_id());
            if (known == brokers.end()) {
                out.back().error_code = model::to_wire(model::kafka_error::leader_not_available);
                continue;
            }
            leader_batch& b = by_leader[p.leader_id()];
            b.where = known->second;
            if (b.request.topics.empty() || b.request.topics.back().name != *t.name) {
                b.request.topics.emplace_back().name = *t.name;
            }
            b.request.topics.back().partition_indexes.push_back(p.partition_index());
            b.slots.push_back(out.size() - 1);
        }
    }
    for (auto& [leader, batch] : by_leader) {
        ask_leader(batch, out, timeout);
    }
    return out;
}

std::string render_producers(const std::vector<partition_producers>& parts, output_format f) {
    ojson all = ojson::array();
    std::string text;
    for (const auto& part : parts) {
        ojson producers = ojson::array();
        std::string where = fmt::format("Topic: {}\tPartition: {}", part.topic, part.partition);
        if (part.error_code != 0 || !part.message.empty()) {
            text += fmt::format("{}\tError: {}\n", where, error_text(part));
        } else if (part.producers.empty()) {
            text += where + "\tno active producers\n";
        }
        for (const auto& p : part.producers) {
            std::string txn = p.txn_start_offset < 0 ? "None" : std::to_string(p.txn_start_offset);
            text += fmt::format(
                "{}\tProducerId: {}\tProducerEpoch: {}\tLastSequence: {}\tLastTimestamp: {}\t"
                "CoordinatorEpoch: {}\tCurrentTransactionStartOffset: {}\n",
                where, p.producer_id, p.epoch, p.last_sequence, p.last_timestamp,
                p.coordinator_epoch, txn);
            producers.push_back({{"producer_id", p.producer_id},
                                 {"producer_epoch", p.epoch},
                                 {"last_sequence", p.last_sequence},
                                 {"last_timestamp", p.last_timestamp},
                                 {"coordinator_epoch", p.coordinator_epoch},
                                 {"current_txn_start_offset", p.txn_start_offset}});
        }
        ojson entry{{"topic", part.topic}, {"partition", part.partition}};
        if (part.error_code != 0 || !part.message.empty()) {
            entry["error"] = error_text(part);
        }
        entry["producers"] = std::move(producers);
        all.push_back(std::move(entry));
    }
    if (f == output_format::json) {
        return ojson{{"producers", all}}.dump() + "\n";
    }
    return text;
}

}  // namespace gregor::admin
