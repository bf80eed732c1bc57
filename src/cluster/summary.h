// The text `gregor cluster up` prints once the cluster is ready. Pure function; any thread.
#pragma once

#include "cluster/layout.h"
#include "cluster/state.h"
#include "cluster/zk_view.h"

#include <string>

namespace gregor::cluster {

// Bootstrap servers, ZooKeeper, controller and its epoch, per-broker ports, pids and log
// paths, and the exact kcat and gregor commands to try it (`gregor_command` is how the user
// runs gregor: "gregor" or a path). Ends with the line "ready".
std::string summary_text(const cluster_state& s, const cluster_view& v,
                         const std::string& gregor_command);

}  // namespace gregor::cluster
