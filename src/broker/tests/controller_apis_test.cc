// What CreateTopics and DeleteTopics answer once they waited for their timeout, from this
// broker's metadata cache (Kafka's DelayedCreatePartitions and DelayedDeleteTopics).
#include "broker/handlers/controller_apis.h"

#include "model/kafka_error.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

using model::node_id;
using model::partition_id;

std::int16_t err(model::kafka_error e) {
    return model::to_wire(e);
}

cached_partition led_by(int leader) {
    cached_partition p;
    p.leader = node_id(leader);
    p.replicas = p.isr = {node_id(1)};
    return p;
}

// A created topic without a live leader for every partition is answered REQUEST_TIMED_OUT;
// failed topics keep their error. A deleted topic the metadata still shows is too.
TEST(controller_apis, topics_not_led_or_not_gone_by_the_deadline_time_out) {
    metadata_cache cache;
    cache.set_brokers({{node_id(1), {{"PLAINTEXT", "h1", 9092, 0}}, std::nullopt}});
    cache.update_partition("t", partition_id(0), led_by(1));
    cache.update_partition("t", partition_id(1), led_by(-1));  // no leader
    cache.update_partition("u", partition_id(0), led_by(9));   // not a registered broker
    protocol::create_topics_response resp;
    for (const char* name : {"t", "u", "v", "w"}) {
        resp.topics.emplace_back().name = name;
    }
    resp.topics[3].error_code = err(model::kafka_error::topic_already_exists);
    time_out_unled_topics(cache, resp);
    const auto timed_out = err(model::kafka_error::request_timed_out);
    EXPECT_EQ(resp.topics[0].error_code, timed_out);  // partition 1 has no leader
    EXPECT_EQ(resp.topics[1].error_code, timed_out);  // its leader is not alive
    EXPECT_EQ(resp.topics[2].error_code, timed_out);  // not in the metadata at all
    EXPECT_EQ(resp.topics[3].error_code, err(model::kafka_error::topic_already_exists));

    cache.update_partition("t", partition_id(1), led_by(1));
    resp.topics[0].error_code = 0;
    time_out_unled_topics(cache, resp);
    EXPECT_EQ(resp.topics[0].error_code, 0);

    protocol::delete_topics_response deleted;
    for (const char* name : {"t", "gone"}) {
        deleted.responses.emplace_back().name = name;
    }
    time_out_undeleted_topics(cache, deleted);
    EXPECT_EQ(deleted.responses[0].error_code, timed_out);
    EXPECT_EQ(deleted.responses[1].error_code, 0);
}

}  // namespace
}  // namespace gregor::broker
