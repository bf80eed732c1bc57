#include "broker/handlers/offset_wire.h"

#include "base/assert.h"

#include <map>
#include <utility>

namespace gregor::broker {
namespace {

using model::kafka_error;

bool known(const metadata_cache& cache, const model::topic_partition& tp) {
    return cache.partition(tp) != nullptr;
}

group::commit_partition to_commit_partition(
    const std::string& topic,
    protocol::offset_commit_request::offset_commit_request_topic::offset_commit_request_partition&
        p,
    std::int16_t version) {
    group::commit_partition out;
    out.tp = {topic, p.partition_index};
    out.offset = p.committed_offset;
    out.leader_epoch = p.committed_leader_epoch;  // -1 (none) before v6
    out.metadata = std::move(p.committed_metadata);
    if (version == 1) {
        out.commit_timestamp = p.commit_timestamp;  // -1 means "now"
    }
    return out;
}

}  // namespace

offset_commit_call to_commit_call(protocol::offset_commit_request req, std::int16_t version,
                                  const metadata_cache& cache) {
    offset_commit_call call;
    call.who.group_id = req.group_id;
    // v0 names no generation or member: it commits as an assign() consumer would.
    call.who.generation_id = version >= 1 ? req.generation_id_or_member_epoch : -1;
    call.who.member_id = version >= 1 ? std::move(req.member_id) : std::string();
    call.who.group_instance_id = std::move(req.group_instance_id);  // null before v7
    call.request.group_id = std::move(req.group_id);
    if (version >= 2 && version <= 4) {
        call.request.retention_ms = req.retention_time_ms;  // -1 means the broker's
    }
    call.response.throttle_time_ms = 0;
    call.response.topics.reserve(req.topics.size());
    for (auto& topic : req.topics) {
        auto& out_topic = call.response.topics.emplace_back();
        out_topic.name = topic.name;
        out_topic.partitions.reserve(topic.partitions.size());
        for (auto& p : topic.partitions) {
            auto& out = out_topic.partitions.emplace_back();
            out.partition_index = p.partition_index;
            if (!known(cache, {topic.name, p.partition_index})) {
                out.error_code = model::to_wire(kafka_error::unknown_topic_or_partition);
                continue;
            }
            call.slots.push_back(
                {call.response.topics.size() - 1, out_topic.partitions.size() - 1});
            call.request.partitions.push_back(to_commit_partition(topic.name, p, version));
        }
    }
    return call;
}

protocol::offset_commit_response commit_answer(offset_commit_call call,
                                               std::span<const group::partition_error> errors) {
    GREGOR_ASSERT(errors.size() == call.slots.size(), "{} answers for {} committed partitions",
                  errors.size(), call.slots.size());
    for (std::size_t i = 0; i < errors.size(); ++i) {
        const response_slot& at = call.slots[i];
        call.response.topics[at.topic].partitions[at.partition].error_code =
            model::to_wire(errors[i].error);
    }
    return std::move(call.response);
}

std::vector<group::partition_error> commit_failure(const group::commit_request& request,
                                                   kafka_error error) {
    std::vector<group::partition_error> out;
    out.reserve(request.partitions.size());
    for (const auto& p : request.partitions) {
        out.push_back({p.tp, error});
    }
    return out;
}

std::vector<offset_fetch_query> to_fetch_queries(protocol::offset_fetch_request req,
                                                 std::int16_t version) {
    auto partitions_of = [](auto& topics) {
        std::vector<model::topic_partition> out;
        for (auto& t : topics) {
            for (model::partition_id p : t.partition_indexes) {
                out.push_back({t.name, p});
            }
        }
        return out;
    };
    std::vector<offset_fetch_query> out;
    if (version < 8) {
        auto& q = out.emplace_back();
        q.group_id = std::move(req.group_id);
        if (req.topics) {
            q.partitions = partitions_of(*req.topics);
        }
        return out;
    }
    out.reserve(req.groups.size());
    for (auto& g : req.groups) {
        auto& q = out.emplace_back();
        q.group_id = std::move(g.group_id);
        if (g.topics) {
            q.partitions = partitions_of(*g.topics);
        }
    }
    return out;
}

namespace {

// Adds `offsets` to `topics`, one entry per topic in the order topics first appear.
template <class Topic>
void put_offsets(std::vector<Topic>& topics, std::vector<group::fetched_offset> offsets) {
    std::map<std::string, std::size_t, std::less<>> index;
    for (auto& f : offsets) {
        auto [at, fresh] = index.try_emplace(f.tp.topic, topics.size());
        if (fresh) {
            topics.emplace_back().name = f.tp.topic;
        }
        auto& p = topics[at->second].partitions.emplace_back();
        p.partition_index = f.tp.partition;
        p.committed_offset = f.offset;
        p.committed_leader_epoch = f.leader_epoch;
        p.metadata = std::move(f.metadata);
        p.error_code = model::to_wire(f.error);
    }
}

// v0-v1 have no group-level error: every requested partition carries it.
std::vector<group::fetched_offset> spread_group_error(const offset_fetch_query& q,
                                                      kafka_error error) {
    std::vector<group::fetched_offset> out;
    if (q.partitions) {
        out.reserve(q.partitions->size());
        for (const auto& tp : *q.partitions) {
            out.push_back({tp, model::no_offset, model::no_leader_epoch, "", error});
        }
    }
    return out;
}

// v0 as Kafka answered it from ZooKeeper: no metadata, and UNKNOWN_TOPIC_OR_PARTITION for
// a partition without an offset or unknown to the metadata cache.
void shape_v0(std::vector<group::fetched_offset>& offsets, const metadata_cache& cache) {
    for (auto& f : offsets) {
        f.metadata.clear();
        bool missing = f.error == kafka_error::none && f.offset < model::offset(0);
        if (missing || !known(cache, f.tp)) {
            f.offset = model::no_offset;
            f.error = kafka_error::unknown_topic_or_partition;
        }
    }
}

}  // namespace

protocol::offset_fetch_response fetch_answer(std::span<const offset_fetch_query> queries,
                                             std::vector<group::offset_fetch_result> results,
                                             std::int16_t version, const metadata_cache& cache) {
    GREGOR_ASSERT(queries.size() == results.size(), "{} results for {} groups", results.size(),
                  queries.size());
    GREGOR_ASSERT(version >= 8 || queries.size() == 1, "v{} asks for one group", version);
    protocol::offset_fetch_response out;
    out.throttle_time_ms = 0;
    if (version >= 8) {
        out.groups.reserve(results.size());
        for (std::size_t i = 0; i < results.size(); ++i) {
            auto& g = out.groups.emplace_back();
            g.group_id = queries[i].group_id;
            g.error_code = model::to_wire(results[i].error);
            if (results[i].error == kafka_error::none) {
                put_offsets(g.topics, std::move(results[i].offsets));
            }
        }
        return out;
    }
    group::offset_fetch_result& r = results.front();
    if (r.error != kafka_error::none) {
        if (version >= 2) {
            out.error_code = model::to_wire(r.error);
            return out;
        }
        r.offsets = spread_group_error(queries.front(), r.error);
    } else if (version == 0) {
        shape_v0(r.offsets, cache);
    }
    put_offsets(out.topics, std::move(r.offsets));
    return out;
}

offset_delete_call to_delete_call(protocol::offset_delete_request req,
                                  const metadata_cache& cache) {
    offset_delete_call call;
    call.group_id = std::move(req.group_id);
    call.response.throttle_time_ms = 0;
    call.response.topics.reserve(req.topics.size());
    for (auto& topic : req.topics) {
        auto& out_topic = call.response.topics.emplace_back();
        out_topic.name = topic.name;
        out_topic.partitions.reserve(topic.partitions.size());
        for (const auto& p : topic.partitions) {
            auto& out = out_topic.partitions.emplace_back();
            out.partition_index = p.partition_index;
            model::topic_partition tp{topic.name, p.partition_index};
            if (!known(cache, tp)) {
                out.error_code = model::to_wire(kafka_error::unknown_topic_or_partition);
                continue;
            }
            call.slots.push_back(
                {call.response.topics.size() - 1, out_topic.partitions.size() - 1});
            call.partitions.push_back(std::move(tp));
        }
    }
    return call;
}

protocol::offset_delete_response delete_answer(offset_delete_call call,
                                               const group::offset_delete_result& result) {
    if (result.error != kafka_error::none) {
        protocol::offset_delete_response out;
        out.error_code = model::to_wire(result.error);
        out.throttle_time_ms = 0;
        return out;
    }
    GREGOR_ASSERT(result.partitions.size() == call.slots.size(),
                  "{} answers for {} partitions to delete", result.partitions.size(),
                  call.slots.size());
    for (std::size_t i = 0; i < call.slots.size(); ++i) {
        const response_slot& at = call.slots[i];
        call.response.topics[at.topic].partitions[at.partition].error_code =
            model::to_wire(result.partitions[i].error);
    }
    return std::move(call.response);
}

}  // namespace gregor::broker
