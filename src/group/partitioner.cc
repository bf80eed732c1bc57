#include "group/partitioner.h"

#include "base/assert.h"
#include "group/java_string.h"

#include <limits>

namespace gregor::group {

std::int32_t kafka_abs(std::int32_t n) {
    if (n == std::numeric_limits<std::int32_t>::min()) {
        return 0;
    }
    return n < 0 ? -n : n;
}

model::partition_id offsets_partition_for(std::string_view group_id_utf8,
                                          std::int32_t partition_count) {
    GREGOR_ASSERT(partition_count > 0, "offsets topic with {} partitions", partition_count);
    const std::int32_t p = kafka_abs(java_string_hash(group_id_utf8)) % partition_count;
    GREGOR_ASSERT(p >= 0 && p < partition_count, "partition {} of {}", p, partition_count);
    return model::partition_id{p};
}

}  // namespace gregor::group
