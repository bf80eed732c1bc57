// meta.properties: the identity a broker leaves in each of its log directories, as Kafka does
// (version=0, broker.id, cluster.id). It lets a broker whose id was generated from ZooKeeper
// keep that id across restarts, and stops a broker from joining the wrong cluster or taking
// another broker's data under a different id. The file is untrusted input: a malformed file
// is an error naming it, never a crash. Plain functions; any thread.
#pragma once

#include "base/result.h"
#include "model/fundamental.h"

#include <optional>
#include <string>
#include <vector>

namespace gregor::broker {

struct meta_properties {
    model::node_id broker_id;
    std::string cluster_id;  // empty until the broker has joined a cluster
    bool operator==(const meta_properties&) const = default;
};

// Reads <dir>/meta.properties; nullopt when the file does not exist.
result<std::optional<meta_properties>> read_meta_properties(const std::string& dir);
// Writes <dir>/meta.properties atomically (temporary file, fsync, rename), creating `dir`.
result<void> write_meta_properties(const std::string& dir, const meta_properties& m);

// The broker id stored in the log dirs (nullopt if none stores one). Errors when two dirs
// disagree or when `configured` (>= 0) differs from the stored id.
result<std::optional<model::node_id>> stored_broker_id(const std::vector<std::string>& dirs,
                                                       model::node_id configured);
// Records {id, cluster} in every dir. Errors when a dir already belongs to another cluster.
result<void> record_identity(const std::vector<std::string>& dirs, model::node_id id,
                             const std::string& cluster);

}  // namespace gregor::broker
