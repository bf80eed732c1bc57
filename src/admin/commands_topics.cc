// `gregor topics list|describe|create|delete|alter`.
#include "admin/commands_common.h"
#include "admin/producer_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <charconv>

namespace gregor::admin {
namespace {

using ojson = nlohmann::ordered_json;
using detail::describe_kafka_error;
using detail::print;
using detail::report_error;

// One line per topic result ("created topic t" / "topic t: NAME: message") or a JSON array;
// returns exit_failed iff any result carries an error.
struct result_printer {
    explicit result_printer(output_format f) : format(f) {}

    output_format format;
    ojson json = ojson::array();
    std::string text;
    bool failed = false;

    void add(const std::string& topic, std::int16_t code, const std::optional<std::string>& msg,
             const std::string& success) {
        ojson j = {{"topic", topic}, {"ok", code == 0}};
        if (code != 0) {
            failed = true;
            j["error"] = detail::error_name(code);
            j["message"] = msg.value_or("");
            text += fmt::format("topic {}: {}\n", topic, describe_kafka_error(code, msg));
        } else {
            text += success + "\n";
        }
        json.push_back(j);
    }
    int finish() const {
        print(format == output_format::json ? json.dump() + "\n" : text);
        return failed ? exit_failed : exit_ok;
    }
};

// The message of a result: `late` for REQUEST_TIMED_OUT, Kafka's answer when the controller
// acted but the brokers' metadata did not show the outcome by the request's deadline.
std::optional<std::string> explain_timeout(std::int16_t code,
                                           const std::optional<std::string>& message,
                                           const char* late) {
    return code == model::to_wire(model::kafka_error::request_timed_out)
               ? std::optional<std::string>(late)
               : message;
}

partition_filter filter_of(const topics_describe_options& o) {
    if (o.under_replicated) {
        return partition_filter::under_replicated;
    }
    if (o.under_min_isr) {
        return partition_filter::under_min_isr;
    }
    if (o.unavailable) {
        return partition_filter::unavailable;
    }
    return partition_filter::all;
}

// min.insync.replicas per topic from DescribeConfigs; `note` says what could not be known.
min_isr_map fetch_min_isr(admin_client& c, const protocol::metadata_response& md,
                          std::string& note) {
    std::vector<std::string> names;
    for (const auto& t : md.topics) {
        if (t.error_code == 0 && t.name) {
            names.push_back(*t.name);
        }
    }
    min_isr_map out;
    if (names.empty()) {
        return out;
    }
    const std::vector<std::string> keys{"min.insync.replicas"};
    auto resp = c.describe_topic_configs(names, keys);
    if (!resp) {
        note = fmt::format(
            "note: min.insync.replicas unknown (DescribeConfigs: {}); no partition "
            "is shown as under min ISR",
            resp.err().detail.empty() ? resp.err().to_string() : resp.err().detail);
        return out;
    }
    std::vector<std::string> unknown;
    for (const auto& r : resp->results) {
        for (const auto& cfg : r.configs) {
            std::int32_t v = 0;
            if (r.error_code == 0 && cfg.name == "min.insync.replicas" && cfg.value &&
                std::from_chars(cfg.value->data(), cfg.value->data() + cfg.value->size(), v).ec ==
                    std::errc{}) {
                out[r.resource_name] = v;
            }
        }
        if (!out.contains(r.resource_name)) {
            unknown.push_back(r.resource_name + (r.error_code != 0
                                                     ? " (" + detail::error_name(r.error_code) + ")"
                                                     : std::string()));
        }
    }
    if (!unknown.empty()) {
        note = fmt::format(
            "note: min.insync.replicas unknown for {}; those topics are not "
            "filtered",
            fmt::join(unknown, ", "));
    }
    return out;
}

// Every topic's configs (DescribeConfigs), for the overrides `topics describe` shows. A
// cluster that cannot answer leaves them out; `note` says so when the user asked for them.
topic_configs_map fetch_configs(admin_client& c, const protocol::metadata_response& md,
                                bool asked, std::string& note) {
    std::vector<std::string> names;
    for (const auto& t : md.topics) {
        if (t.error_code == 0 && t.name) {
            names.push_back(*t.name);
        }
    }
    topic_configs_map out;
    if (names.empty()) {
        return out;
    }
    auto resp = c.describe_topic_configs(names, std::nullopt);
    if (!resp) {
        if (asked) {
            note = fmt::format("note: configs unknown (DescribeConfigs: {})",
                               resp.err().detail.empty() ? resp.err().to_string()
                                                         : resp.err().detail);
        }
        return out;
    }
    for (const auto& r : resp->results) {
        if (r.error_code != 0) {
            continue;
        }
        auto& lines = out[r.resource_name];
        for (const auto& cfg : r.configs) {
            std::int8_t source = cfg.config_source;
            if (source < 0) {  // DescribeConfigs v0 has only is_default
                source = cfg.is_default ? 5 : 1;
            }
            lines.push_back({cfg.name, cfg.value, source, cfg.is_sensitive});
        }
    }
    return out;
}

int topic_errors(const protocol::metadata_response& md) {
    int rc = exit_ok;
    for (const auto& t : md.topics) {
        if (t.error_code != 0) {
            std::fprintf(stderr, "gregor: topic %s: %s\n", t.name.value_or("?").c_str(),
                         describe_kafka_error(t.error_code, std::nullopt).c_str());
            rc = exit_failed;
        }
    }
    return rc;
}

}  // namespace

int run_topics_list(const topics_list_options& o) {
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("topics list", c.err());
    }
    auto md = (*c)->metadata(std::nullopt);
    if (!md) {
        return report_error("topics list", md.err());
    }
    print(render_topic_list(*md, o.common.output()));
    return exit_ok;
}

int run_topics_describe(const topics_describe_options& o) {
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("topics describe", c.err());
    }
    std::optional<std::vector<std::string>> names;
    if (!o.topics.empty()) {
        names = o.topics;
    }
    auto md = (*c)->metadata(names);
    if (!md) {
        return report_error("topics describe", md.err());
    }
    if (o.producers) {
        auto timeout = std::chrono::seconds(o.common.request_timeout_s);
        print(render_producers(fetch_producers(*md, timeout), o.common.output()));
        return topic_errors(*md);
    }
    std::string note;
    min_isr_map min_isr;
    if (o.under_min_isr) {
        min_isr = fetch_min_isr(**c, *md, note);
    }
    std::string config_note;
    auto configs = fetch_configs(**c, *md, o.configs, config_note);
    if (!config_note.empty()) {
        note = note.empty() ? config_note : note + "\n" + config_note;
    }
    print(render_topic_describe(*md, filter_of(o), min_isr, o.common.output(), note, configs,
                                o.configs));
    return topic_errors(*md);
}

int run_topics_create(const topics_create_options& o) {
    protocol::create_topics_request req;
    protocol::create_topics_request::creatable_topic t;
    t.name = o.topic;
    t.num_partitions = o.partitions;
    t.replication_factor = static_cast<std::int16_t>(o.replication_factor);
    for (const auto& kv : o.configs) {
        auto entry = parse_config_entry(kv);
        if (!entry) {
            return report_error("topics create", entry.err());
        }
        protocol::create_topics_request::creatable_topic::createable_topic_config cfg;
        cfg.name = entry->first;
        cfg.value = entry->second;
        t.configs.push_back(std::move(cfg));
    }
    req.topics.push_back(std::move(t));
    req.timeout_ms = detail::broker_wait_ms(o.common);
    req.validate_only = o.validate_only;
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("topics create", c.err());
    }
    auto resp = (*c)->create_topics(std::move(req));
    if (!resp) {
        return report_error("topics create", resp.err());
    }
    result_printer out(o.common.output());
    for (const auto& r : resp->topics) {
        out.add(r.name, r.error_code,
                explain_timeout(r.error_code, r.error_message,
                                "the topic was created, but not every partition had a leader "
                                "within the request's timeout (--request-timeout); it gets them "
                                "later"),
                fmt::format("{} topic {}{}", o.validate_only ? "would create" : "created", r.name,
                            r.num_partitions > 0
                                ? fmt::format(" ({} partitions, replication factor {})",
                                              r.num_partitions, r.replication_factor)
                                : std::string()));
    }
    return out.finish();
}

int run_topics_delete(const topics_delete_options& o) {
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("topics delete", c.err());
    }
    auto resp =
        (*c)->delete_topics(o.topics, std::chrono::milliseconds(detail::broker_wait_ms(o.common)));
    if (!resp) {
        return report_error("topics delete", resp.err());
    }
    result_printer out(o.common.output());
    for (const auto& r : resp->responses) {
        auto name = r.name.value_or("?");
        out.add(name, r.error_code,
                explain_timeout(r.error_code, r.error_message,
                                "the deletion began, but the topic was not gone within the "
                                "request's timeout (--request-timeout); it goes on"),
                "deleted topic " + name);
    }
    return out.finish();
}

namespace {

int alter_partitions(admin_client& c, const topics_alter_options& o, result_printer& out) {
    protocol::create_partitions_request req;
    protocol::create_partitions_request::create_partitions_topic t;
    t.name = o.topic;
    t.count = o.partitions;
    t.assignments.reset();
    req.topics.push_back(std::move(t));
    req.timeout_ms = detail::broker_wait_ms(o.common);
    auto resp = c.create_partitions(std::move(req));
    if (!resp) {
        return report_error("topics alter", resp.err());
    }
    for (const auto& r : resp->results) {
        out.add(r.name, r.error_code, r.error_message,
                fmt::format("topic {} now has {} partitions", r.name, o.partitions));
    }
    return exit_ok;
}

int alter_configs(admin_client& c, const topics_alter_options& o, result_printer& out) {
    protocol::incremental_alter_configs_request req;
    protocol::incremental_alter_configs_request::alter_configs_resource res;
    res.resource_type = 2;  // TOPIC
    res.resource_name = o.topic;
    for (const auto& kv : o.configs) {
        auto entry = parse_config_entry(kv);
        if (!entry) {
            return report_error("topics alter", entry.err());
        }
        res.configs.push_back({entry->first, 0 /* SET */, entry->second, {}});
    }
    for (const auto& k : o.delete_configs) {
        res.configs.push_back({k, 1 /* DELETE */, std::nullopt, {}});
    }
    req.resources.push_back(std::move(res));
    auto resp = c.alter_configs(std::move(req));
    if (!resp) {
        return report_error("topics alter", resp.err());
    }
    for (const auto& r : resp->responses) {
        out.add(r.resource_name, r.error_code, r.error_message,
                fmt::format("topic {}: configs updated", r.resource_name));
    }
    return exit_ok;
}

}  // namespace

int run_topics_alter(const topics_alter_options& o) {
    bool others = o.partitions != 0 || !o.configs.empty() || !o.delete_configs.empty();
    if (!others && o.replication_factor == 0) {
        return report_error("topics alter",
                            error(errc::bad_usage,
                                  "nothing to change: give --partitions, --replication-factor, "
                                  "--config or --delete-config"));
    }
    if (others && o.replication_factor != 0) {
        return report_error("topics alter",
                            error(errc::bad_usage,
                                  "--replication-factor is a reassignment: give it alone"));
    }
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("topics alter", c.err());
    }
    if (o.replication_factor != 0) {
        return detail::alter_replication_factor(**c, o);
    }
    result_printer out(o.common.output());
    if (o.partitions > 0) {
        if (int rc = alter_partitions(**c, o, out); rc != exit_ok) {
            return rc;
        }
    }
    if (!o.configs.empty() || !o.delete_configs.empty()) {
        if (int rc = alter_configs(**c, o, out); rc != exit_ok) {
            return rc;
        }
    }
    return out.finish();
}

}  // namespace gregor::admin
