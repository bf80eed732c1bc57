#include "broker/topic_creation.h"

#include <array>
#include <random>

namespace gregor::broker {

controller::admin_result<coord::topic_assignment> plan_new_topic(const metadata_cache& cache,
                                                                 std::int32_t partitions,
                                                                 std::int16_t rf) {
    std::vector<controller::broker_rack> brokers;
    for (const cached_broker& b : cache.brokers()) {
        brokers.push_back({b.id, b.rack});
    }
    static std::mt19937_64 rng{std::random_device{}()};
    auto assigned =
        controller::assign_replicas(brokers, partitions, rf, rng(), 0, controller::rack_mode::safe);
    if (!assigned) {
        return assigned.err();
    }
    coord::topic_assignment a;
    a.partitions = std::move(assigned).value();
    std::array<std::uint8_t, 16> id{};
    for (auto& b : id) {
        b = static_cast<std::uint8_t>(rng());
    }
    a.topic_id = coord::make_cluster_id(id);
    return a;
}

}  // namespace gregor::broker
