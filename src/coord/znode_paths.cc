#include "coord/znode_paths.h"

#include "coord/errc.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace gregor::coord::paths {

std::span<const std::string_view> top_level_paths() {
    static constexpr std::array<std::string_view, 19> all{
        "/consumers",
        "/brokers",
        "/brokers/ids",
        "/brokers/topics",
        "/config",
        "/config/changes",
        "/admin",
        "/admin/delete_topics",
        "/brokers/seqid",
        "/isr_change_notification",
        "/latest_producer_id_block",
        "/log_dir_event_notification",
        // One per config entity type Kafka knows in ZooKeeper mode.
        "/config/topics",
        "/config/clients",
        "/config/users",
        "/config/brokers",
        "/config/ips",
        "/gregor",
        "/gregor/unclean_receipts",
    };
    return all;
}

std::string broker(model::node_id id) {
    return fmt::format("{}/{}", brokers_ids, id());
}
std::string topic(std::string_view t) {
    return fmt::format("{}/{}", brokers_topics, t);
}
std::string topic_partitions(std::string_view t) {
    return fmt::format("{}/{}/partitions", brokers_topics, t);
}
std::string partition(std::string_view t, model::partition_id p) {
    return fmt::format("{}/{}/partitions/{}", brokers_topics, t, p());
}
std::string partition_state(std::string_view t, model::partition_id p) {
    return fmt::format("{}/{}/partitions/{}/state", brokers_topics, t, p());
}
std::string topic_config(std::string_view t) {
    return fmt::format("{}/{}", config_topics, t);
}
std::string config_entity(std::string_view type, std::string_view name) {
    return fmt::format("/config/{}/{}", type, name);
}
std::string delete_topic(std::string_view t) {
    return fmt::format("{}/{}", admin_delete_topics, t);
}
std::string config_change_sequential() {
    return fmt::format("{}/{}", config_changes, config_change_prefix);
}
std::string isr_change_sequential() {
    return fmt::format("{}/{}", isr_change_notification, isr_change_prefix);
}
std::string log_dir_event_sequential() {
    return fmt::format("{}/{}", log_dir_event_notification, log_dir_event_prefix);
}
std::string unclean_receipt_sequential() {
    return fmt::format("{}/{}", unclean_receipts, unclean_receipt_prefix);
}

namespace {

template <class Int>
result<Int> parse_decimal(std::string_view s, std::string_view what) {
    bool leading_zero = s.size() > 1 && s.front() == '0';
    Int v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || leading_zero || s.front() == '-' || ec != std::errc{} ||
        end != s.data() + s.size()) {
        return error(errc::malformed_data, fmt::format("bad {} '{}'", what, s));
    }
    return v;
}

}  // namespace

result<model::node_id> parse_broker_id(std::string_view child) {
    GREGOR_TRY(auto v, parse_decimal<std::int32_t>(child, "broker id"));
    return model::node_id{v};
}

result<model::partition_id> parse_partition_id(std::string_view child) {
    GREGOR_TRY(auto v, parse_decimal<std::int32_t>(child, "partition id"));
    return model::partition_id{v};
}

result<std::int64_t> parse_sequence(std::string_view child, std::string_view prefix) {
    constexpr std::size_t digits = 10;
    if (!child.starts_with(prefix) || child.size() != prefix.size() + digits) {
        return error(errc::malformed_data, fmt::format("bad sequential name '{}'", child));
    }
    std::string_view num = child.substr(prefix.size());
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec != std::errc{} || end != num.data() + num.size() || v < 0) {
        return error(errc::malformed_data, fmt::format("bad sequence in '{}'", child));
    }
    return v;
}

}  // namespace gregor::coord::paths
