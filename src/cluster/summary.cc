#include "cluster/summary.h"

#include <fmt/format.h>

namespace gregor::cluster {
namespace {

std::string quote_dir(const std::string& dir) {
    return dir.find_first_of(" '\"$") == std::string::npos ? dir : fmt::format("'{}'", dir);
}

std::string broker_lines(const cluster_state& s) {
    cluster_layout l{s.dir};
    std::string out;
    for (const auto& b : s.brokers) {
        out += fmt::format("  broker {}: 127.0.0.1:{}  pid {}  log {}  data {}\n", b.id, b.port,
                           b.pid, l.broker_log(b.id).string(), l.broker_data(b.id).string());
        if (b.http_port != 0) {
            out += fmt::format(
                "            dashboard http://127.0.0.1:{0}/  metrics "
                "http://127.0.0.1:{0}/metrics\n",
                b.http_port);
        }
    }
    return out;
}

std::string try_lines(const cluster_state& s, const std::string& g) {
    auto first = fmt::format("127.0.0.1:{}", s.brokers.front().port);
    auto dir = quote_dir(s.dir);
    auto rf = std::min<std::size_t>(3, s.brokers.size());
    std::string out = "try it:\n";
    out += fmt::format(
        "  {} topics create demo --partitions 3 --replication-factor {} "
        "--dir {}\n",
        g, rf, dir);
    out += fmt::format("  echo hello | kcat -b {} -P -t demo          # produce\n", first);
    out += fmt::format("  kcat -b {} -C -t demo -o beginning -e       # consume\n", first);
    out += fmt::format("  kcat -b {} -G demo-group demo               # consume in a group\n",
                       first);
    out += fmt::format("  kcat -b {} -L                               # metadata\n", first);
    out += fmt::format("  {} topics describe demo --dir {}\n", g, dir);
    out += fmt::format("  {} cluster health --dir {}\n", g, dir);
    out += fmt::format("  {} cluster kill <broker-id> --dir {}   (then restart <broker-id>)\n", g,
                       dir);
    out += fmt::format("stop: Ctrl-C here, or `{} cluster down --dir {}`\n", g, dir);
    return out;
}

}  // namespace

std::string summary_text(const cluster_state& s, const cluster_view& v,
                         const std::string& gregor_command) {
    cluster_layout l{s.dir};
    std::string out = fmt::format("gregor cluster: {} broker(s) in {}\n", s.brokers.size(), s.dir);
    out += fmt::format("  bootstrap servers: {}\n", s.bootstrap_servers());
    if (!s.zookeeper_managed) {
        out += fmt::format("  zookeeper:         {} (external)\n", s.zookeeper_connect);
    } else if (s.zookeepers.size() == 1) {
        out += fmt::format("  zookeeper:         {} (pid {}, log {})\n", s.zookeeper_connect,
                           s.zookeepers[0].pid, l.zookeeper_log(s.zookeepers[0].id).string());
    } else {
        out += fmt::format("  zookeeper:         {} (an ensemble of {})\n", s.zookeeper_connect,
                           s.zookeepers.size());
        for (const auto& z : s.zookeepers) {
            out += fmt::format("    server {}: 127.0.0.1:{}  pid {}  log {}\n", z.id, z.port, z.pid,
                               l.zookeeper_log(z.id).string());
        }
    }
    out += fmt::format(
        "  controller:        {}\n",
        v.controller ? fmt::format("broker {} (controller epoch {})", *v.controller,
                                   v.controller_epoch ? std::to_string(*v.controller_epoch) : "?")
                     : std::string("none elected yet"));
    if (v.cluster_id) {
        out += fmt::format("  cluster id:        {}\n", *v.cluster_id);
    }
    out += broker_lines(s);
    out += fmt::format(
        "  zookeeper.session.timeout.ms={}: a paused broker (or a killed controller) leaves\n"
        "  /brokers/ids within about {} s (Kafka's default is 18 s; `up --session-timeout-ms`);\n"
        "  another killed broker is replaced at once, its process seen gone\n",
        s.session_timeout_ms, s.session_timeout_ms / 1000);
    if (s.brokers.size() < 3) {
        out += fmt::format(
            "  offsets.topic.replication.factor={}: consumer groups keep their offsets on {} "
            "broker(s)\n  (Kafka's default, 3, needs three brokers to create __consumer_offsets)\n",
            s.brokers.size(), s.brokers.size());
    }
    out += try_lines(s, gregor_command);
    out += "ready\n";
    return out;
}

}  // namespace gregor::cluster
