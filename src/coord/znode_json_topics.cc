// Codecs of the topic, partition state and config znodes.
#include "coord/znode_json.h"
#include "coord/znode_json_util.h"
#include "coord/znode_paths.h"

namespace gregor::coord {

using detail::json;
using detail::ordered_json;

namespace {

ordered_json encode_replica_map(const replica_map& m) {
    ordered_json j = ordered_json::object();
    for (const auto& [p, replicas] : m) {
        ordered_json arr = ordered_json::array();
        for (auto r : replicas) {
            arr.push_back(r());
        }
        j[std::to_string(p())] = std::move(arr);
    }
    return j;
}

result<replica_map> decode_replica_map(const json& j, std::string_view what,
                                       std::string_view field) {
    if (!j.is_object()) {
        return detail::malformed(what, field);
    }
    replica_map out;
    for (const auto& [key, replicas] : j.items()) {
        auto p = paths::parse_partition_id(key);
        if (p.has_error()) {
            return detail::malformed(what, field);
        }
        GREGOR_TRY(auto ids, detail::get_id_array<model::node_id>(replicas, what, field));
        out.emplace(*p, std::move(ids));
    }
    return out;
}

}  // namespace

std::string encode_topic(const topic_assignment& t) {
    ordered_json j;
    j["version"] = t.topic_id ? 3 : 2;
    j["partitions"] = encode_replica_map(t.partitions);
    j["adding_replicas"] = encode_replica_map(t.adding_replicas);
    j["removing_replicas"] = encode_replica_map(t.removing_replicas);
    if (t.topic_id) {
        j["topic_id"] = *t.topic_id;
    }
    return detail::dump(j);
}

result<topic_assignment> decode_topic(std::string_view text) {
    constexpr std::string_view what = "/brokers/topics";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY(int version, detail::get_version(j, what, 1, 3));
    topic_assignment t;
    auto parts = j.find("partitions");
    if (parts == j.end()) {
        return detail::malformed(what, "partitions");
    }
    GREGOR_TRY(t.partitions, decode_replica_map(*parts, what, "partitions"));
    if (version >= 2) {
        for (auto [field, target] : {std::pair{"adding_replicas", &t.adding_replicas},
                                     std::pair{"removing_replicas", &t.removing_replicas}}) {
            if (auto f = j.find(field); f != j.end()) {
                GREGOR_TRY(*target, decode_replica_map(*f, what, field));
            }
        }
    }
    if (auto id = j.find("topic_id"); version >= 3 && id != j.end()) {
        if (!id->is_string() || !is_valid_uuid_string(id->get<std::string>())) {
            return detail::malformed(what, "topic_id");
        }
        t.topic_id = id->get<std::string>();
    }
    return t;
}

std::string encode_partition_state(const partition_state& s) {
    ordered_json j;
    j["version"] = 1;
    j["leader"] = s.leader();
    j["leader_epoch"] = s.leader_epoch();
    j["controller_epoch"] = s.controller_epoch();
    j["isr"] = ordered_json::array();
    for (auto r : s.isr) {
        j["isr"].push_back(r());
    }
    if (s.recovering) {
        j["leader_recovery_state"] = 1;
    }
    return detail::dump(j);
}

result<partition_state> decode_partition_state(std::string_view text) {
    constexpr std::string_view what = "partition state";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY_VOID(detail::get_version(j, what, 1, 1));
    partition_state s;
    GREGOR_TRY(auto leader, detail::get_int<std::int32_t>(j, what, "leader"));
    GREGOR_TRY(auto le, detail::get_int<std::int32_t>(j, what, "leader_epoch"));
    GREGOR_TRY(auto ce, detail::get_int<std::int32_t>(j, what, "controller_epoch"));
    s.leader = model::node_id{leader};
    s.leader_epoch = model::leader_epoch{le};
    s.controller_epoch = model::controller_epoch{ce};
    auto isr = j.find("isr");
    if (isr == j.end()) {
        return detail::malformed(what, "isr");
    }
    GREGOR_TRY(s.isr, detail::get_id_array<model::node_id>(*isr, what, "isr"));
    if (j.contains("leader_recovery_state")) {
        GREGOR_TRY(auto lrs, detail::get_int<std::int8_t>(j, what, "leader_recovery_state"));
        if (lrs != 0 && lrs != 1) {
            return detail::malformed(what, "leader_recovery_state");
        }
        s.recovering = lrs == 1;
    }
    return s;
}

std::string encode_entity_config(const config_map& c) {
    ordered_json j;
    j["version"] = 1;
    j["config"] = ordered_json::object();
    for (const auto& [k, v] : c) {
        j["config"][k] = v;
    }
    return detail::dump(j);
}

result<config_map> decode_entity_config(std::string_view text) {
    constexpr std::string_view what = "entity config";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY_VOID(detail::get_version(j, what, 1, 1));
    auto cfg = j.find("config");
    if (cfg == j.end() || !cfg->is_object()) {
        return detail::malformed(what, "config");
    }
    config_map out;
    for (const auto& [k, v] : cfg->items()) {
        if (!v.is_string()) {
            return detail::malformed(what, k);
        }
        out.emplace(k, v.get<std::string>());
    }
    return out;
}

std::string encode_config_change(std::string_view entity_path) {
    ordered_json j;
    j["version"] = 2;
    j["entity_path"] = entity_path;
    return detail::dump(j);
}

result<std::string> decode_config_change(std::string_view text) {
    constexpr std::string_view what = "config change";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY(int version, detail::get_version(j, what, 1, 2));
    if (version == 1) {
        GREGOR_TRY(auto type, detail::get_string(j, what, "entity_type"));
        GREGOR_TRY(auto name, detail::get_string(j, what, "entity_name"));
        return fmt::format("{}/{}", type, name);
    }
    return detail::get_string(j, what, "entity_path");
}

}  // namespace gregor::coord
