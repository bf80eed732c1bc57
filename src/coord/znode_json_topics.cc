// Codecs of the topic, partition state and config znodes.
#include "coord/znode_json.h"
#include "coord/znode_json_util.h"
#include "coord/znode_paths.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace gregor::coord {

using detail::json;
using detail::ordered_json;

namespace {

// Written with fmt, not as an ordered_json object: that looks each key up by a linear scan
// before inserting it, which made a topic of 50,000 partitions take seconds of the controller's
// loop (long enough for its ZooKeeper session to time out).
void encode_replica_map(fmt::memory_buffer& out, const replica_map& m) {
    out.push_back('{');
    bool first_partition = true;
    for (const auto& [p, replicas] : m) {
        fmt::format_to(std::back_inserter(out), R"({}"{}":[)", first_partition ? "" : ",", p());
        first_partition = false;
        for (std::size_t i = 0; i < replicas.size(); ++i) {
            fmt::format_to(std::back_inserter(out), "{}{}", i == 0 ? "" : ",", replicas[i]());
        }
        out.push_back(']');
    }
    out.push_back('}');
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
    fmt::memory_buffer out;
    fmt::format_to(std::back_inserter(out), R"({{"version":{},"partitions":)", t.topic_id ? 3 : 2);
    encode_replica_map(out, t.partitions);
    fmt::format_to(std::back_inserter(out), R"(,"adding_replicas":)");
    encode_replica_map(out, t.adding_replicas);
    fmt::format_to(std::back_inserter(out), R"(,"removing_replicas":)");
    encode_replica_map(out, t.removing_replicas);
    if (t.topic_id) {
        fmt::format_to(std::back_inserter(out), R"(,"topic_id":{})",
                       detail::dump(json(*t.topic_id)));
    }
    out.push_back('}');
    return fmt::to_string(out);
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

// A partition state is the znode a failover reads 100,000 times: it is written with fmt and
// read with a SAX handler instead of building a JSON document (a third of the load time).
std::string encode_partition_state(const partition_state& s) {
    fmt::memory_buffer out;
    fmt::format_to(std::back_inserter(out),
                   R"({{"version":1,"leader":{},"leader_epoch":{},"controller_epoch":{},"isr":[)",
                   s.leader(), s.leader_epoch(), s.controller_epoch());
    for (std::size_t i = 0; i < s.isr.size(); ++i) {
        fmt::format_to(std::back_inserter(out), "{}{}", i == 0 ? "" : ",", s.isr[i]());
    }
    out.push_back(']');
    if (s.recovering) {
        fmt::format_to(std::back_inserter(out), R"(,"leader_recovery_state":1)");
    }
    out.push_back('}');
    return fmt::to_string(out);
}

namespace {

// The SAX events of one partition state object. Members of the top object with a known name
// are checked and kept; anything else (unknown members, whatever their nesting) is skipped.
// A callback returning false stops the parse; `bad_field` then names the culprit.
class partition_state_reader {
public:
    using number_integer_t = json::number_integer_t;
    using number_unsigned_t = json::number_unsigned_t;
    using number_float_t = json::number_float_t;
    using string_t = json::string_t;
    using binary_t = json::binary_t;

    partition_state state;
    std::string_view bad_field;
    int version = 0;
    bool seen_leader = false, seen_leader_epoch = false, seen_controller_epoch = false;
    bool seen_isr = false, seen_version = false;

    bool null() { return other(); }
    bool boolean(bool) { return other(); }
    bool number_float(number_float_t, const string_t&) { return other(); }
    bool string(string_t&) { return other(); }
    bool binary(binary_t&) { return other(); }
    bool number_integer(number_integer_t v) { return integer(v); }
    bool number_unsigned(number_unsigned_t v) {
        constexpr auto max = static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max());
        return integer(static_cast<std::int64_t>(std::min(v, max)));
    }
    bool start_object(std::size_t) { return open(false); }
    bool end_object() { return close(); }
    bool start_array(std::size_t) { return open(true); }
    bool end_array() {
        in_isr_ = false;
        return close();
    }
    bool key(string_t& k) {
        if (depth_ == 1) {
            field_ = k;
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        return false;
    }

private:
    bool at_field() const { return depth_ == 1; }
    bool known() const {
        return field_ == "version" || field_ == "leader" || field_ == "leader_epoch" ||
               field_ == "controller_epoch" || field_ == "isr" ||
               field_ == "leader_recovery_state";
    }
    bool fail() {
        bad_field = known_name();
        return false;
    }
    std::string_view known_name() const {
        for (std::string_view f : {"version", "leader", "leader_epoch", "controller_epoch", "isr",
                                   "leader_recovery_state"}) {
            if (field_ == f) {
                return f;
            }
        }
        return "?";
    }
    // A scalar that is not an integer: fine where nothing is expected, wrong where an
    // integer or the ISR is, and not an object at the top.
    bool other() {
        if (depth_ == 0) {
            return false;
        }
        return in_isr_ || (at_field() && known()) ? fail() : true;
    }
    bool open(bool array) {
        if (depth_ == 0 && array) {
            return false;  // not an object
        }
        if (in_isr_ || (at_field() && known() && !(array && field_ == "isr"))) {
            return fail();
        }
        if (at_field() && array && field_ == "isr") {
            in_isr_ = true;
            seen_isr = true;
            state.isr.clear();
        }
        ++depth_;
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }
    bool integer(std::int64_t v) {
        if (depth_ == 0) {
            return false;
        }
        auto in32 = v >= std::numeric_limits<std::int32_t>::min() &&
                    v <= std::numeric_limits<std::int32_t>::max();
        if (in_isr_) {
            if (!in32) {
                return fail();
            }
            state.isr.emplace_back(static_cast<std::int32_t>(v));
            return true;
        }
        if (!at_field() || !known()) {
            return true;
        }
        if (!in32) {
            return fail();
        }
        auto x = static_cast<std::int32_t>(v);
        if (field_ == "version") {
            version = x;
            seen_version = true;
        } else if (field_ == "leader") {
            state.leader = model::node_id{x};
            seen_leader = true;
        } else if (field_ == "leader_epoch") {
            state.leader_epoch = model::leader_epoch{x};
            seen_leader_epoch = true;
        } else if (field_ == "controller_epoch") {
            state.controller_epoch = model::controller_epoch{x};
            seen_controller_epoch = true;
        } else if (field_ == "leader_recovery_state") {
            if (x != 0 && x != 1) {
                return fail();
            }
            state.recovering = x == 1;
        } else {
            return fail();  // "isr" given as a number
        }
        return true;
    }

    int depth_ = 0;
    bool in_isr_ = false;
    std::string field_;
};

}  // namespace

result<partition_state> decode_partition_state(std::string_view text) {
    constexpr std::string_view what = "partition state";
    if (text.size() > limits::znode_bytes_max) {
        return error(errc::malformed_data, fmt::format("{}: {} bytes", what, text.size()));
    }
    partition_state_reader r;
    if (!json::sax_parse(text.begin(), text.end(), &r)) {
        if (!r.bad_field.empty()) {
            return detail::malformed(what, r.bad_field);
        }
        return error(errc::malformed_data, fmt::format("{}: not a JSON object", what));
    }
    if (!r.seen_version) {
        return detail::malformed(what, "version");
    }
    if (r.version != 1) {
        return error(errc::malformed_data,
                     fmt::format("{}: unsupported version {}", what, r.version));
    }
    for (auto [seen, field] : {std::pair{r.seen_leader, "leader"},
                               std::pair{r.seen_leader_epoch, "leader_epoch"},
                               std::pair{r.seen_controller_epoch, "controller_epoch"},
                               std::pair{r.seen_isr, "isr"}}) {
        if (!seen) {
            return detail::malformed(what, field);
        }
    }
    return std::move(r.state);
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
