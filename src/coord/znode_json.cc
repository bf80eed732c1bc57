// Codecs of the cluster, controller and broker registration znodes.
#include "coord/znode_json.h"

#include "coord/znode_json_util.h"

#include <algorithm>
#include <charconv>

namespace gregor::coord {

using detail::json;
using detail::ordered_json;

namespace {

constexpr std::string_view base64url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t uuid_chars = 22;

}  // namespace

std::string make_cluster_id(std::span<const std::uint8_t, 16> bytes) {
    std::string out;
    out.reserve(uuid_chars);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::uint8_t b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(base64url[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) {
        out.push_back(base64url[(acc << (6 - bits)) & 0x3f]);
    }
    return out;
}

std::optional<std::array<std::uint8_t, 16>> parse_uuid_string(std::string_view id) {
    if (id.size() != uuid_chars) {
        return std::nullopt;
    }
    std::array<std::uint8_t, 16> out{};
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t n = 0;
    for (char c : id) {
        std::size_t v = base64url.find(c);
        if (v == std::string_view::npos) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = static_cast<std::uint8_t>((acc >> bits) & 0xff);
        }
    }
    // 22 characters carry 132 bits: the last 4 must be zero, as make_cluster_id writes them.
    if ((acc & ((1U << bits) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

bool is_valid_uuid_string(std::string_view id) {
    return id.size() == uuid_chars && std::all_of(id.begin(), id.end(), [](char c) {
               return base64url.find(c) != std::string_view::npos;
           });
}

std::string encode_cluster_id(std::string_view id) {
    ordered_json j;
    j["version"] = "1";
    j["id"] = id;
    return detail::dump(j);
}

result<std::string> decode_cluster_id(std::string_view text) {
    constexpr std::string_view what = "/cluster/id";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    // Kafka writes the version as a string; accept a number too.
    auto v = j.find("version");
    if (v == j.end() || !((v->is_string() && *v == "1") || (v->is_number() && *v == 1))) {
        return detail::malformed(what, "version");
    }
    GREGOR_TRY(auto id, detail::get_string(j, what, "id"));
    if (id.empty() || id.size() > 64) {
        return detail::malformed(what, "id");
    }
    return id;
}

std::string encode_controller(const controller_data& c) {
    ordered_json j;
    j["version"] = 1;
    j["brokerid"] = c.broker();
    j["timestamp"] = std::to_string(c.timestamp());
    return detail::dump(j);
}

result<controller_data> decode_controller(std::string_view text) {
    constexpr std::string_view what = "/controller";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY(int version, detail::get_version(j, what, 1, 2));
    controller_data c;
    GREGOR_TRY(auto id, detail::get_int<std::int32_t>(j, what, "brokerid"));
    c.broker = model::node_id{id};
    if (j.contains("timestamp")) {
        GREGOR_TRY(auto ts, detail::get_long_string(j, what, "timestamp"));
        c.timestamp = model::timestamp_ms{ts};
    }
    if (version >= 2) {
        GREGOR_TRY(c.kraft_controller_epoch,
                   detail::get_int<std::int32_t>(j, what, "kraftControllerEpoch"));
    }
    return c;
}

std::string encode_controller_epoch(model::controller_epoch e) {
    return std::to_string(e());
}

result<model::controller_epoch> decode_controller_epoch(std::string_view text) {
    std::int32_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < 0) {
        return error(errc::malformed_data,
                     fmt::format("/controller_epoch: not a decimal epoch ({} bytes)", text.size()));
    }
    return model::controller_epoch{v};
}

namespace {

std::string endpoint_string(const broker_endpoint& e) {
    bool v6 = e.host.find(':') != std::string::npos;
    return v6 ? fmt::format("{}://[{}]:{}", e.listener, e.host, e.port)
              : fmt::format("{}://{}:{}", e.listener, e.host, e.port);
}

// "LISTENER://host:port" (IPv6 hosts in brackets). Untrusted.
result<broker_endpoint> parse_endpoint(std::string_view s) {
    constexpr std::string_view what = "/brokers/ids endpoint";
    auto sep = s.find("://");
    auto colon = s.rfind(':');
    if (sep == std::string_view::npos || sep == 0 || colon == std::string_view::npos ||
        colon < sep + 3) {
        return detail::malformed(what, s);
    }
    broker_endpoint e;
    e.listener = std::string(s.substr(0, sep));
    std::string_view host = s.substr(sep + 3, colon - sep - 3);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    e.host = std::string(host);
    std::string_view port = s.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || e.port < 0 ||
        e.port > 65535) {
        return detail::malformed(what, s);
    }
    return e;
}

result<std::map<std::string, feature_range>> parse_broker_features(const json& f) {
    constexpr std::string_view what = "/brokers/ids features";
    if (!f.is_object()) {
        return detail::malformed(what, "features");
    }
    std::map<std::string, feature_range> out;
    for (const auto& [name, range] : f.items()) {
        if (!range.is_object()) {
            return detail::malformed(what, name);
        }
        feature_range r;
        GREGOR_TRY(r.min_version, detail::get_int<std::int16_t>(range, what, "min_version"));
        GREGOR_TRY(r.max_version, detail::get_int<std::int16_t>(range, what, "max_version"));
        out.emplace(name, r);
    }
    return out;
}

}  // namespace

std::string encode_broker(const broker_info& b) {
    // Old clients read host/port: they name the first PLAINTEXT endpoint, else null/-1.
    auto plain = std::find_if(b.endpoints.begin(), b.endpoints.end(),
                              [](const auto& e) { return e.security_protocol == "PLAINTEXT"; });
    ordered_json j;
    j["version"] = 5;
    j["host"] = plain == b.endpoints.end() ? ordered_json(nullptr) : ordered_json(plain->host);
    j["port"] = plain == b.endpoints.end() ? -1 : plain->port;
    j["jmx_port"] = b.jmx_port;
    j["timestamp"] = std::to_string(b.timestamp());
    j["endpoints"] = ordered_json::array();
    ordered_json protocols = ordered_json::object();
    for (const auto& e : b.endpoints) {
        j["endpoints"].push_back(endpoint_string(e));
        protocols[e.listener] = e.security_protocol;
    }
    if (b.rack) {
        j["rack"] = *b.rack;
    }
    j["listener_security_protocol_map"] = protocols;
    j["features"] = ordered_json::object();
    for (const auto& [name, r] : b.features) {
        j["features"][name] = {{"min_version", r.min_version}, {"max_version", r.max_version}};
    }
    return detail::dump(j);
}

result<broker_info> decode_broker(std::string_view text) {
    constexpr std::string_view what = "/brokers/ids";
    GREGOR_TRY(json j, detail::parse_object(text, what));
    GREGOR_TRY(int version, detail::get_version(j, what, 2, 5));
    broker_info b;
    if (j.contains("jmx_port")) {
        GREGOR_TRY(b.jmx_port, detail::get_int<std::int32_t>(j, what, "jmx_port"));
    }
    if (j.contains("timestamp")) {
        GREGOR_TRY(auto ts, detail::get_long_string(j, what, "timestamp"));
        b.timestamp = model::timestamp_ms{ts};
    }
    auto eps = j.find("endpoints");
    if (eps == j.end() || !eps->is_array()) {
        return detail::malformed(what, "endpoints");
    }
    auto protocols = j.find("listener_security_protocol_map");
    if (protocols != j.end() && !protocols->is_object()) {
        return detail::malformed(what, "listener_security_protocol_map");
    }
    for (const auto& e : *eps) {
        if (!e.is_string()) {
            return detail::malformed(what, "endpoints");
        }
        GREGOR_TRY(auto ep, parse_endpoint(e.get<std::string>()));
        // Without a map (version < 4) the listener name is the security protocol.
        ep.security_protocol = ep.listener;
        if (protocols != j.end()) {
            auto p = protocols->find(ep.listener);
            if (p == protocols->end() || !p->is_string()) {
                return detail::malformed(what, "listener_security_protocol_map");
            }
            ep.security_protocol = p->get<std::string>();
        }
        b.endpoints.push_back(std::move(ep));
    }
    if (auto rack = j.find("rack"); rack != j.end() && !rack->is_null()) {
        GREGOR_TRY(b.rack, detail::get_string(j, what, "rack"));
    }
    if (auto f = j.find("features"); version >= 5 && f != j.end()) {
        GREGOR_TRY(b.features, parse_broker_features(*f));
    }
    return b;
}

}  // namespace gregor::coord
