#include "admin/replication_plan.h"

#include "admin/errc.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace gregor::admin {
namespace {

using ids = std::vector<model::node_id>;
using counts = std::map<model::node_id, int>;

bool contains(const ids& v, model::node_id id) {
    return std::find(v.begin(), v.end(), id) != v.end();
}

ids grow(ids replicas, const ids& brokers, std::size_t factor, counts& load) {
    while (replicas.size() < factor) {
        std::optional<model::node_id> best;
        for (model::node_id b : brokers) {  // sorted: the first minimum has the lower id
            if (!contains(replicas, b) && (!best || load[b] < load[*best])) {
                best = b;
            }
        }
        replicas.push_back(*best);
        ++load[*best];
    }
    return replicas;
}

ids shrink(ids replicas, std::size_t factor, counts& load) {
    while (replicas.size() > factor) {
        std::size_t drop = replicas.size() - 1;
        for (std::size_t i = replicas.size() - 1; i >= 1; --i) {
            if (load[replicas[i]] > load[replicas[drop]]) {
                drop = i;
            }
        }
        --load[replicas[drop]];
        replicas.erase(replicas.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    return replicas;
}

}  // namespace

result<replica_lists> plan_replication_factor(const replica_lists& current,
                                              const std::vector<model::node_id>& brokers,
                                              int factor) {
    ids sorted = brokers;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    if (factor < 1 || static_cast<std::size_t>(factor) > sorted.size()) {
        return error(errc::bad_usage,
                     fmt::format("replication factor {} is not possible with {} broker(s)",
                                 factor, sorted.size()));
    }
    counts load;
    for (const auto& [p, r] : current) {
        for (model::node_id id : r) {
            ++load[id];
        }
    }
    replica_lists out;
    auto n = static_cast<std::size_t>(factor);
    for (const auto& [p, r] : current) {
        if (r.size() < n) {
            out[p] = grow(r, sorted, n, load);
        } else if (r.size() > n) {
            out[p] = shrink(r, n, load);
        }
    }
    return out;
}

}  // namespace gregor::admin
