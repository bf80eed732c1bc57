// The parts of one broker that the dispatch tests drive without sockets: an io_context,
// logs on the memory file system, the metadata cache and a replica manager that reads its
// replication settings from `config` (set it before the first LeaderAndIsr). Test fixtures
// derive from it and add the services they test.
#pragma once

#include "broker/config.h"
#include "broker/metadata_cache.h"
#include "broker/replica_manager.h"
#include "storage/log_manager.h"
#include "storage/tests/test_batches.h"

#include <boost/asio/io_context.hpp>

namespace gregor::broker::test {

struct broker_parts {
    boost::asio::io_context ioc{1};
    storage::test::memory_env env;
    storage::log_manager logs{
        env.ctx(), {"/data"}, [](const std::string&) { return storage::log_config{}; }};
    broker_config config;
    metadata_cache cache;
    replica_manager rm{model::node_id(1), logs, [this](const std::string&) {
                           return replication::replication_config{config.min_insync_replicas,
                                                                  config.replica_lag_time_max};
                       }};
};

}  // namespace gregor::broker::test
