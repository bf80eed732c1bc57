// Codecs of the admin, notification, feature and producer-id znodes.
#include "coord/znode_json.h"
#include "coord/znode_json_util.h"

namespace gregor::coord {

using detail::json;
using detail::ordered_json;

namespace {

result<model::topic_partition> decode_tp(const json& e, std::string_view what) {
    if (!e.is_object()) {
        return detail::malformed(what, "partitions");
    }
    model::topic_partition tp;
    GREGOR_TRY(tp.topic, detail::get_string(e, what, "topic"));
    GREGOR_TRY(auto p, detail::get_int<std::int32_t>(e, what, "partition"));
    tp.partition = model::partition_id{p};
    return tp;
}

result<json> partitions_array(std::string_view text, std::string_view what) {
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY_VOID(detail::get_version(j, what, 1, 1));
    auto parts = j.find("partitions");
    if (parts == j.end() || !parts->is_array()) {
        return detail::malformed(what, "partitions");
    }
    return *parts;
}

}  // namespace

std::string encode_reassignment(std::span<const partition_reassignment> r) {
    ordered_json j;
    j["version"] = 1;
    j["partitions"] = ordered_json::array();
    for (const auto& p : r) {
        ordered_json e;
        e["topic"] = p.tp.topic;
        e["partition"] = p.tp.partition();
        e["replicas"] = ordered_json::array();
        for (auto id : p.replicas) {
            e["replicas"].push_back(id());
        }
        j["partitions"].push_back(std::move(e));
    }
    return detail::dump(j);
}

result<std::vector<partition_reassignment>> decode_reassignment(std::string_view text) {
    constexpr std::string_view what = "/admin/reassign_partitions";
    GREGOR_TRY(json parts, partitions_array(text, what));
    std::vector<partition_reassignment> out;
    for (const auto& e : parts) {
        partition_reassignment r;
        GREGOR_TRY(r.tp, decode_tp(e, what));
        auto replicas = e.find("replicas");
        if (replicas == e.end()) {
            return detail::malformed(what, "replicas");
        }
        GREGOR_TRY(r.replicas, detail::get_id_array<model::node_id>(*replicas, what, "replicas"));
        out.push_back(std::move(r));
    }
    return out;
}

std::string encode_partition_list(std::span<const model::topic_partition> ps) {
    ordered_json j;
    j["version"] = 1;
    j["partitions"] = ordered_json::array();
    for (const auto& tp : ps) {
        ordered_json e;
        e["topic"] = tp.topic;
        e["partition"] = tp.partition();
        j["partitions"].push_back(std::move(e));
    }
    return detail::dump(j);
}

result<std::vector<model::topic_partition>> decode_partition_list(std::string_view text) {
    constexpr std::string_view what = "partition list";
    GREGOR_TRY(json parts, partitions_array(text, what));
    std::vector<model::topic_partition> out;
    for (const auto& e : parts) {
        GREGOR_TRY(auto tp, decode_tp(e, what));
        out.push_back(std::move(tp));
    }
    return out;
}

std::string encode_log_dir_event(model::node_id broker) {
    ordered_json j;
    j["version"] = 1;
    j["broker"] = broker();
    j["event"] = log_dir_failure_event;
    return detail::dump(j);
}

result<model::node_id> decode_log_dir_event(std::string_view text) {
    constexpr std::string_view what = "log dir event";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY_VOID(detail::get_version(j, what, 1, 1));
    GREGOR_TRY(auto broker, detail::get_int<std::int32_t>(j, what, "broker"));
    GREGOR_TRY(auto event, detail::get_int<std::int32_t>(j, what, "event"));
    if (event != log_dir_failure_event) {
        return detail::malformed(what, "event");
    }
    return model::node_id{broker};
}

std::string encode_unclean_receipt(const unclean_receipt& r) {
    ordered_json j;
    j["version"] = 1;
    j["broker"] = r.broker();
    j["topic"] = r.tp.topic;
    j["partition"] = r.tp.partition();
    j["leader_epoch"] = r.leader_epoch();
    j["kind"] = r.takeover ? "takeover" : "truncation";
    j["log_end_offset"] = r.log_end_offset();
    j["high_watermark"] = r.high_watermark();
    if (!r.takeover) {
        j["truncated_to"] = r.truncated_to();
    }
    return detail::dump(j);
}

result<unclean_receipt> decode_unclean_receipt(std::string_view text) {
    constexpr std::string_view what = "unclean election receipt";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY_VOID(detail::get_version(j, what, 1, 1));
    unclean_receipt r;
    GREGOR_TRY(auto broker, detail::get_int<std::int32_t>(j, what, "broker"));
    GREGOR_TRY(r.tp, decode_tp(j, what));
    GREGOR_TRY(auto epoch, detail::get_int<std::int32_t>(j, what, "leader_epoch"));
    GREGOR_TRY(auto kind, detail::get_string(j, what, "kind"));
    GREGOR_TRY(auto leo, detail::get_int<std::int64_t>(j, what, "log_end_offset"));
    GREGOR_TRY(auto hw, detail::get_int<std::int64_t>(j, what, "high_watermark"));
    if (broker < 0 || r.tp.topic.empty() || r.tp.partition() < 0 || epoch < 0) {
        return detail::malformed(what, "broker, topic, partition or leader_epoch");
    }
    if (kind != "takeover" && kind != "truncation") {
        return detail::malformed(what, "kind");
    }
    r.broker = model::node_id{broker};
    r.leader_epoch = model::leader_epoch{epoch};
    r.takeover = kind == "takeover";
    r.log_end_offset = model::offset{leo};
    r.high_watermark = model::offset{hw};
    if (hw < 0 || hw > leo) {
        return detail::malformed(what, "high_watermark");
    }
    if (!r.takeover) {
        GREGOR_TRY(auto to, detail::get_int<std::int64_t>(j, what, "truncated_to"));
        if (to < 0 || to >= hw) {
            return detail::malformed(what, "truncated_to");
        }
        r.truncated_to = model::offset{to};
    }
    return r;
}

std::string encode_feature(const feature_znode& f) {
    ordered_json j;
    j["version"] = f.version;
    j["status"] = f.enabled ? 1 : 0;
    j["features"] = ordered_json::object();
    for (const auto& [name, level] : f.features) {
        ordered_json e;
        if (f.version == 1 && level.min_version_level) {
            e["min_version_level"] = *level.min_version_level;
        }
        e["max_version_level"] = level.max_version_level;
        j["features"][name] = std::move(e);
    }
    return detail::dump(j);
}

result<feature_znode> decode_feature(std::string_view text) {
    constexpr std::string_view what = "/feature";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    feature_znode f;
    GREGOR_TRY(f.version, detail::get_version(j, what, 1, 2));
    GREGOR_TRY(auto status, detail::get_int<std::int32_t>(j, what, "status"));
    if (status != 0 && status != 1) {
        return detail::malformed(what, "status");
    }
    f.enabled = status == 1;
    auto feats = j.find("features");
    if (feats == j.end() || !feats->is_object()) {
        return detail::malformed(what, "features");
    }
    for (const auto& [name, e] : feats->items()) {
        if (!e.is_object()) {
            return detail::malformed(what, name);
        }
        finalized_feature level;
        GREGOR_TRY(level.max_version_level,
                   detail::get_int<std::int16_t>(e, what, "max_version_level"));
        if (e.contains("min_version_level")) {
            GREGOR_TRY(level.min_version_level,
                       detail::get_int<std::int16_t>(e, what, "min_version_level"));
        }
        f.features.emplace(name, level);
    }
    return f;
}

std::string encode_producer_id_block(const producer_id_block& b) {
    ordered_json j;
    j["version"] = 1;
    j["broker"] = b.broker();
    j["block_start"] = std::to_string(b.block_start());
    j["block_end"] = std::to_string(b.block_end());
    return detail::dump(j);
}

result<producer_id_block> decode_producer_id_block(std::string_view text) {
    constexpr std::string_view what = "/latest_producer_id_block";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY_VOID(detail::get_version(j, what, 1, 1));
    producer_id_block b;
    GREGOR_TRY(auto broker, detail::get_int<std::int32_t>(j, what, "broker"));
    GREGOR_TRY(auto start, detail::get_long_string(j, what, "block_start"));
    GREGOR_TRY(auto end, detail::get_long_string(j, what, "block_end"));
    if (start < 0 || end < start) {
        return detail::malformed(what, "block_end");
    }
    b.broker = model::node_id{broker};
    b.block_start = model::producer_id{start};
    b.block_end = model::producer_id{end};
    return b;
}

}  // namespace gregor::coord
