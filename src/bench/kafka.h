// kafka: the small layer over librdkafka's C API that the workloads share.
//
// Builds client configurations from the options (bootstrap servers, -X settings, a log
// callback that keeps librdkafka quiet unless --verbose and remembers its last error for
// our own messages), owns handles, checks that the bootstrap servers answer, and finds or
// creates the benchmark topic and waits until every partition has a leader. Calls block the
// calling thread; a handle may be used from the thread that owns it (librdkafka's own
// threads run the callbacks set here, which only touch the thread-safe client_log).
#pragma once

#include "base/result.h"
#include "bench/options.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gregor::bench {

// What librdkafka said last, kept for error messages; shared by its threads.
class client_log {
public:
    void note(std::string line);
    std::string last() const;

private:
    mutable std::mutex mutex_;
    std::string last_;
};

struct handle_deleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using kafka_handle = std::unique_ptr<rd_kafka_t, handle_deleter>;

struct topic_deleter {
    void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
using topic_handle = std::unique_ptr<rd_kafka_topic_t, topic_deleter>;

struct metadata_deleter {
    void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using metadata_handle = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;

struct conf_deleter {
    void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using conf_handle = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;

// A configuration with bootstrap.servers, the -X settings, then `extra` (later wins).
// `log` must outlive every handle made from it.
result<conf_handle> make_conf(const options& o, client_log& log,
                              const std::vector<std::pair<std::string, std::string>>& extra);
// Sets one property; the error names it.
result<void> conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);
// Creates a producer or consumer; takes ownership of `conf`.
result<kafka_handle> make_client(rd_kafka_type_t type, conf_handle conf);

struct topic_layout {
    std::string name;
    std::vector<int> leaders;  // per partition, -1 without a leader
    int controller_id = -1;
    int broker_count = 0;
};

// Fetches metadata for all topics; errc::unreachable names `bootstrap` when nobody answers.
result<metadata_handle> fetch_metadata(rd_kafka_t* rk, const std::string& bootstrap,
                                       std::chrono::milliseconds timeout, const client_log& log);
struct broker_address {
    std::string host;
    int port = 0;
};
// Every broker the metadata lists, by id.
result<std::map<int, broker_address>> brokers_of(rd_kafka_t* rk, const options& o,
                                                 const client_log& log);

// The topic's layout, or nullopt if the metadata does not list it.
std::optional<topic_layout> find_topic(const rd_kafka_metadata_t& md, const std::string& topic);

// Makes sure `o.topic` exists (creating it with --partitions through CreateTopics if not)
// and that every partition has a leader; waits up to o.timeout_s for that.
result<topic_layout> ensure_topic(rd_kafka_t* rk, const options& o, const client_log& log,
                                  std::vector<std::string>& notes);

std::chrono::milliseconds timeout_of(const options& o);

}  // namespace gregor::bench
