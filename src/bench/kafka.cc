#include "bench/kafka.h"

#include "bench/errc.h"

#include <fmt/format.h>

#include <cstdio>
#include <thread>

namespace gregor::bench {
namespace {

constexpr std::size_t errstr_bytes = 512;
constexpr auto metadata_poll_interval = std::chrono::milliseconds(100);

void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    auto* log = static_cast<client_log*>(rd_kafka_opaque(rk));
    (void)level;
    if (log != nullptr) {
        log->note(fmt::format("{}: {}", fac, buf));
    }
}

void on_log_verbose(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    std::fprintf(stderr, "librdkafka %d %s: %s\n", level, fac, buf);
    on_log(rk, level, fac, buf);
}

void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    (void)rk;
    auto* log = static_cast<client_log*>(opaque);
    if (log != nullptr) {
        log->note(fmt::format("{} ({})", reason,
                              rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err))));
    }
}

std::string with_last(const std::string& what, const client_log& log) {
    std::string last = log.last();
    return last.empty() ? what : fmt::format("{}; librdkafka said: {}", what, last);
}

bool all_led(const topic_layout& t) {
    for (int leader : t.leaders) {
        if (leader < 0) {
            return false;
        }
    }
    return !t.leaders.empty();
}

result<void> create_topic(rd_kafka_t* rk, const options& o) {
    char errstr[errstr_bytes];
    int partitions = o.partitions.value_or(1);
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(
        o.topic.c_str(), partitions, o.replication_factor.value_or(-1), errstr, sizeof errstr);
    if (nt == nullptr) {
        return error(errc::client_error, fmt::format("create topic {}: {}", o.topic, errstr));
    }
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(timeout_of(o).count()));
    std::string failure;
    if (ev == nullptr) {
        failure = "no answer";
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_event_error_string(ev);
    } else {
        std::size_t n = 0;
        const rd_kafka_topic_result_t** res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (std::size_t i = 0; i < n; ++i) {
            auto err = rd_kafka_topic_result_error(res[i]);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
                err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                const char* detail = rd_kafka_topic_result_error_string(res[i]);
                failure =
                    fmt::format("{} ({})", rd_kafka_err2str(err), detail != nullptr ? detail : "");
            }
        }
    }
    if (ev != nullptr) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    if (!failure.empty()) {
        return error(
            errc::topic_unavailable,
            fmt::format("topic {} does not exist and creating it failed: {}", o.topic, failure));
    }
    return ok();
}

}  // namespace

void client_log::note(std::string line) {
    std::lock_guard lock(mutex_);
    last_ = std::move(line);
}

std::string client_log::last() const {
    std::lock_guard lock(mutex_);
    return last_;
}

std::chrono::milliseconds timeout_of(const options& o) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
}

result<void> conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
    char errstr[errstr_bytes];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        return error(errc::bad_argument,
                     fmt::format("client setting {}={}: {}", key, value, errstr));
    }
    return ok();
}

result<conf_handle> make_conf(const options& o, client_log& log,
                              const std::vector<std::pair<std::string, std::string>>& extra) {
    conf_handle conf(rd_kafka_conf_new());
    GREGOR_TRY_VOID(conf_set(conf.get(), "bootstrap.servers", o.bootstrap));
    for (const auto& kv : o.client_settings) {
        auto eq = kv.find('=');
        GREGOR_TRY_VOID(conf_set(conf.get(), kv.substr(0, eq), kv.substr(eq + 1)));
    }
    for (const auto& [k, v] : extra) {
        GREGOR_TRY_VOID(conf_set(conf.get(), k, v));
    }
    rd_kafka_conf_set_opaque(conf.get(), &log);
    rd_kafka_conf_set_log_cb(conf.get(), o.verbose ? on_log_verbose : on_log);
    rd_kafka_conf_set_error_cb(conf.get(), on_error);
    return conf;
}

result<kafka_handle> make_client(rd_kafka_type_t type, conf_handle conf) {
    char errstr[errstr_bytes];
    rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
    if (rk == nullptr) {
        return error(errc::client_error, fmt::format("cannot create a client: {}", errstr));
    }
    (void)conf.release();  // rd_kafka_new owns it now
    return kafka_handle(rk);
}

result<metadata_handle> fetch_metadata(rd_kafka_t* rk, const std::string& bootstrap,
                                       std::chrono::milliseconds timeout, const client_log& log) {
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk, 1, nullptr, &md, static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return error(errc::unreachable,
                     with_last(fmt::format("no broker answered Metadata at {} within {} ms: {}",
                                           bootstrap, timeout.count(), rd_kafka_err2str(err)),
                               log));
    }
    return metadata_handle(md);
}

result<std::map<int, broker_address>> brokers_of(rd_kafka_t* rk, const options& o,
                                                 const client_log& log) {
    GREGOR_TRY(metadata_handle md, fetch_metadata(rk, o.bootstrap, timeout_of(o), log));
    std::map<int, broker_address> out;
    for (int i = 0; i < md->broker_cnt; ++i) {
        out[md->brokers[i].id] = {md->brokers[i].host, md->brokers[i].port};
    }
    return out;
}

std::optional<topic_layout> find_topic(const rd_kafka_metadata_t& md, const std::string& topic) {
    for (int i = 0; i < md.topic_cnt; ++i) {
        const auto& t = md.topics[i];
        if (topic != t.topic || t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            continue;
        }
        topic_layout l;
        l.name = topic;
        l.broker_count = md.broker_cnt;
        l.leaders.assign(static_cast<std::size_t>(t.partition_cnt), -1);
        for (int p = 0; p < t.partition_cnt; ++p) {
            const auto& part = t.partitions[p];
            if (part.id >= 0 && part.id < t.partition_cnt) {
                l.leaders[static_cast<std::size_t>(part.id)] = part.leader;
            }
        }
        return l;
    }
    return std::nullopt;
}

result<topic_layout> ensure_topic(rd_kafka_t* rk, const options& o, const client_log& log,
                                  std::vector<std::string>& notes) {
    auto deadline = std::chrono::steady_clock::now() + timeout_of(o);
    GREGOR_TRY(metadata_handle md, fetch_metadata(rk, o.bootstrap, timeout_of(o), log));
    auto found = find_topic(*md, o.topic);
    if (!found) {
        GREGOR_TRY_VOID(create_topic(rk, o));
        notes.push_back(fmt::format("created topic {} with {} partition(s)", o.topic,
                                    o.partitions.value_or(1)));
    } else if (o.partitions && static_cast<int>(found->leaders.size()) != *o.partitions) {
        notes.push_back(
            fmt::format("topic {} already exists with {} partition(s); --partitions "
                        "{} ignored",
                        o.topic, found->leaders.size(), *o.partitions));
    }
    for (;;) {
        if (found && all_led(*found)) {
            return *found;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return error(errc::topic_unavailable,
                         fmt::format("topic {} {} within {} s (is a controller running?)", o.topic,
                                     found ? "has partitions without a leader" : "did not appear",
                                     o.timeout_s));
        }
        std::this_thread::sleep_for(metadata_poll_interval);
        GREGOR_TRY(md, fetch_metadata(rk, o.bootstrap, timeout_of(o), log));
        found = find_topic(*md, o.topic);
    }
}

}  // namespace gregor::bench
