#include "cluster/options.h"

namespace gregor::cluster {

void add_up_options(CLI::App& cmd, up_options& o) {
    cmd.add_option("--brokers,-n", o.brokers, "Number of brokers (ids 1..N)")
        ->check(CLI::Range(1, brokers_max));
    cmd.add_option("--dir,-d", o.dir, "Cluster directory (state, configs, data, logs)");
    cmd.add_option("--zookeeper", o.zookeeper,
                   "Use this ZooKeeper (host:port[/chroot]) instead of starting one");
    cmd.add_option("--zookeepers", o.zookeepers,
                   "ZooKeeper servers to run: 1, or a local ensemble of 3, 5 or 7 (each its own "
                   "process, data and ports on 127.0.0.1)")
        ->check(CLI::IsMember({1, 3, 5, 7}))
        ->excludes("--zookeeper");
    cmd.add_option("--base-port", o.base_port,
                   "First broker port (brokers use P..P+N-1; 0 picks free ports)")
        ->check(CLI::Range(0, 65535 - brokers_max));
    cmd.add_option("--gregor", o.gregor, "The gregor binary brokers run (default: this one)");
    cmd.add_option("--start-timeout", o.start_timeout_s,
                   "Seconds to wait for ZooKeeper, registrations and a controller")
        ->check(CLI::Range(1, 3600));
    cmd.add_option("--session-timeout-ms", o.session_timeout_ms,
                   "zookeeper.session.timeout.ms of every broker (default 6000, so failures show "
                   "quickly; Kafka's default is 18000); kept when the cluster is resumed")
        ->check(CLI::Range(1000, 60000));
}

void finish_up_options(const CLI::App& cmd, up_options& o) {
    o.brokers_given = cmd.count("--brokers") > 0;
    o.zookeepers_given = cmd.count("--zookeepers") > 0;
}

void add_down_options(CLI::App& cmd, down_options& o) {
    cmd.add_option("--dir,-d", o.dir, "Cluster directory");
    cmd.add_option("--timeout", o.timeout_s, "Seconds to wait for the cluster to stop")
        ->check(CLI::Range(1, 3600));
}

void add_control_options(CLI::App& cmd, control_options& o) {
    cmd.add_option("broker-id", o.broker, "The broker to act on")
        ->required()
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--dir,-d", o.dir, "Cluster directory");
    cmd.add_option("--timeout", o.timeout_s, "Seconds to wait for the supervisor's answer")
        ->check(CLI::Range(1, 3600));
    if (o.action != control_action::resume) {
        cmd.add_flag("--force", o.force,
                     "Stop the broker even if the controller says that would leave partitions "
                     "under min.insync.replicas or without a leader");
    }
}

}  // namespace gregor::cluster
