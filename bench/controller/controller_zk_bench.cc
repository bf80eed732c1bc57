// Controller failover and controlled shutdown at Kafka 1.1's published scale, against a real
// ZooKeeper: the same three simulated brokers as controller_bench (the real controller and
// broker registration, a broker model answering every request with the real encoding; see
// src/controller/tests/sim_broker.h), but each broker's session is a coord::zk_client on a
// ZooKeeper server started for the run (Debian's package, its own temp dir, full JIT). Every
// broker, ZooKeeper client and the broker models share one io_context, so the figures are
// the controller's and ZooKeeper's work, without broker-side I/O.
//
//   failover/partitions:100000/warm_zookeeper:0|1
//                     close the controller's session and stop its controller -> another
//                     broker elected, every partition state loaded, leaders elected for what
//                     the dead broker led, every live broker's metadata updated. Counters
//                     split it with the controller's timeline marks (ms): kill->elected,
//                     elected->loaded, loaded->written, written->sent, sent->answered, and
//                     elected->answered (issue 5's figure, target < 2 s). warm_zookeeper:1
//                     first sends ZooKeeper the same kinds of requests on scratch znodes
//                     (untimed; see zk_cluster::warm_zookeeper): a server started for the
//                     run otherwise compiles its multiRead and setData paths (JIT) during
//                     the timed failover, which a server that has run a cluster has done.
//   shutdown/10000    controlled shutdown of a broker leading 10,000 of 30,000 partitions ->
//                     reply and every request answered.
// Populating ZooKeeper is untimed: the first controller creates every partition from the
// topic znodes (as for topics an admin tool writes); `populate_s` reports how long it took,
// `zk_rss_mb` the server's resident memory afterwards.
// Run: build/release/bench/controller/controller_zk_bench  (GREGOR_LOG_LEVEL=info for logs)
#include "base/log.h"
#include "bench/controller_timeline.h"
#include "controller/logger.h"
#include "controller/tests/sim_broker.h"
#include "coord/zk_client.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "support/zookeeper_server.h"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::controller::sim {
namespace {

namespace asio = boost::asio;
using model::node_id;
using model::partition_id;
using steady = std::chrono::steady_clock;
using std::chrono::seconds;

double seconds_since(steady::time_point start) {
    return std::chrono::duration<double>(steady::now() - start).count();
}

std::int64_t unix_ms_now() {
    auto d = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Keeps the controller's timeline lines (logged once every request of a round is answered).
class timeline_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    // The last line of `kind` seen, if any.
    std::optional<bench::controller_timeline> last(const std::string& kind) {
        std::lock_guard lock(mutex_);
        for (auto it = seen_.rbegin(); it != seen_.rend(); ++it) {
            if (it->kind == kind) {
                return *it;
            }
        }
        return std::nullopt;
    }
    void clear() {
        std::lock_guard lock(mutex_);
        seen_.clear();
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::istringstream text{std::string(msg.payload.data(), msg.payload.size())};
        for (auto& t : bench::read_timelines(text, 0)) {
            seen_.push_back(std::move(t));
        }
    }
    void flush_() override {}

private:
    std::vector<bench::controller_timeline> seen_;
};

// The controller logs its timeline at info: that logger stays at info (and also writes to
// stderr), every other one at GREGOR_LOG_LEVEL (default error).
std::shared_ptr<timeline_sink> capture_timelines() {
    const char* level = std::getenv("GREGOR_LOG_LEVEL");
    log_set_level(level != nullptr ? level : "error");
    static auto sink = std::make_shared<timeline_sink>();
    auto& sinks = controller_log.get().sinks();
    if (std::find(sinks.begin(), sinks.end(), sink) == sinks.end()) {
        sinks.push_back(sink);
    }
    controller_log.get().set_level(spdlog::level::info);
    sink->clear();
    return sink;
}

std::int64_t mark(const bench::controller_timeline& t, const std::string& name) {
    for (const auto& [n, ms] : t.marks) {
        if (n == name) {
            return ms;
        }
    }
    throw std::runtime_error("timeline without mark " + name);
}

// The server's resident set in MiB (0 if unreadable).
double rss_mib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            double kib = 0;
            status >> kib;
            return kib / 1024;
        }
        status.ignore(1 << 12, '\n');
    }
    return 0;
}

// ZooKeeper's heap: 1 GiB served 100,000 partitions; about 8 KiB a partition beyond that.
// Full JIT and the serial collector; GREGOR_BENCH_ZK_GC=default runs the JVM's default (G1)
// instead. At a million partitions G1 was no faster (one run each: state load 10.5 s against
// 5 to 6 s, writes 9.7 s against 10.6 s). GREGOR_BENCH_ZK_GC_LOG names a file for
// ZooKeeper's GC log.
test::zookeeper_options bench_zookeeper(int partitions) {
    test::zookeeper_options o;
    o.max_heap = fmt::format("{}m", std::max(1024, partitions / 128));
    o.full_jit = true;
    const char* gc = std::getenv("GREGOR_BENCH_ZK_GC");
    o.default_gc = gc != nullptr && std::string_view(gc) == "default";
    if (const char* log = std::getenv("GREGOR_BENCH_ZK_GC_LOG")) {
        o.gc_log = log;
    }
    return o;
}

// Three simulated brokers on real ZooKeeper sessions, one loop.
class zk_cluster {
public:
    zk_cluster(int brokers, int partitions) : server_(bench_zookeeper(partitions)) {
        for (int i = 1; i <= brokers; ++i) {
            auto n = std::make_unique<sim_node>();
            n->id = node_id(i);
            n->model.id = n->id;
            n->zk = connect();
            controller_config cfg = sim_controller_config(n->id, 2 * static_cast<unsigned>(i) + 1);
            if (const char* w = std::getenv("GREGOR_BENCH_ZK_WINDOW")) {
                cfg.zk_window = std::max<std::size_t>(1, std::strtoul(w, nullptr, 10));
            }
            if (const char* m = std::getenv("GREGOR_BENCH_ZK_MULTI_OPS")) {
                cfg.zk_multi_ops = std::max<std::size_t>(1, std::strtoul(m, nullptr, 10));
            }
            cfg.now = [] { return model::timestamp_ms(unix_ms_now()); };
            start_node(*n, ioc_, net_, cfg, {});
            nodes_.push_back(std::move(n));
        }
        admin_ = connect();
    }
    ~zk_cluster() {
        net_.in_flight.clear();
        for (auto& n : nodes_) {
            kill_node(*n, [this] { settle(); });
        }
        admin_.reset();
        settle();
    }
    zk_cluster(const zk_cluster&) = delete;
    zk_cluster& operator=(const zk_cluster&) = delete;

    asio::io_context& ioc() { return ioc_; }
    sim_node& node(node_id id) { return *nodes_.at(static_cast<std::size_t>(id() - 1)); }
    pid_t zookeeper_pid() const { return server_.pid(); }

    // Runs the loop, delivering the controllers' requests to the broker models as they are
    // sent, until `done()` holds (checked every `check_every`) or `limit` has passed.
    bool run_until(const std::function<bool()>& done, steady::duration limit,
                   steady::duration check_every = {}) {
        auto deadline = steady::now() + limit;
        auto next_check = steady::now();
        for (;;) {
            if (steady::now() >= next_check) {
                if (done()) {
                    return true;
                }
                next_check = steady::now() + check_every;
            }
            if (steady::now() >= deadline) {
                return false;
            }
            ioc_.restart();
            ioc_.run_one_for(std::chrono::milliseconds(10));
            settle();
            deliver();
        }
    }

    std::vector<node_id> active_controllers() const {
        std::vector<node_id> out;
        for (const auto& n : nodes_) {
            if (n->alive && n->ctl && n->ctl->active()) {
                out.push_back(n->id);
            }
        }
        return out;
    }

    void kill(node_id id) { kill_node(node(id), [this] { settle(); }); }

    // Writes /brokers/topics/<name> for each topic, as an admin tool does; the controller
    // creates the partitions.
    void create_topics(const std::vector<std::pair<std::string, coord::replica_map>>& topics) {
        std::size_t pending = topics.size();
        std::size_t failed = 0;
        for (const auto& [name, replicas] : topics) {
            coord::topic_assignment t;
            t.partitions = replicas;
            admin_->create(coord::paths::topic(name), coord::encode_topic(t),
                           coord::create_mode::persistent,
                           [&pending, &failed](const result<std::string>& r) {
                               --pending;
                               if (!r) {
                                   ++failed;
                               }
                           });
        }
        if (!run_until([&] { return pending == 0; }, seconds(60)) || failed != 0) {
            throw std::runtime_error("cannot write the topic znodes");
        }
    }

    // Sends ZooKeeper the kinds of requests a failover sends, on scratch znodes and without
    // changing any state the controllers read: `rounds` times, a multiRead of every state
    // znode in `state_paths` and `writes` conditional setData in multis of 500. A ZooKeeper
    // that has served a cluster for a while has compiled these paths (its JIT); one started
    // for the run has only run the population's creates.
    void warm_zookeeper(const std::vector<std::string>& state_paths, int writes, int rounds) {
        const std::string root = "/bench_warmup";
        std::vector<std::vector<coord::op>> creates(1);
        creates[0].push_back(coord::create_op{root, ""});
        std::vector<std::vector<coord::op>> sets;
        for (int i = 0; i < writes; ++i) {
            if (i % 500 == 0) {
                creates.emplace_back();
                sets.emplace_back();
                sets.back().push_back(coord::check_op{root, model::zk_version{0}});
            }
            std::string path = root + "/" + std::to_string(i);
            creates.back().push_back(coord::create_op{path, "{}"});
            sets.back().push_back(coord::set_op{path, "{\"warm\":1}", coord::any_version});
        }
        run_multis(creates);
        for (int r = 0; r < rounds; ++r) {
            std::optional<bool> read;
            admin_->read_many(state_paths, [&read](auto res) { read = res.has_value(); });
            if (!run_until([&] { return read.has_value(); }, seconds(120)) || !*read) {
                throw std::runtime_error("warm-up: the batched read failed");
            }
            run_multis(sets);
        }
    }

    // Every partition is led by a live broker in the controller's view and in every live
    // broker's metadata, and no request is waiting.
    bool all_led(int partitions, node_id dead) const {
        auto active = active_controllers();
        if (active.size() != 1 || !net_.in_flight.empty()) {
            return false;
        }
        const controller_context& ctx = nodes_[static_cast<std::size_t>(active[0]() - 1)]->ctl->context();
        if (ctx.partition_count() != static_cast<std::size_t>(partitions)) {
            return false;
        }
        for (const auto& [name, t] : ctx.topics) {
            for (const auto& [p, r] : t.partitions) {
                if (r.state.leader == dead || r.state.leader == model::no_node) {
                    return false;
                }
            }
        }
        for (const auto& n : nodes_) {
            if (!n->alive) {
                continue;
            }
            if (n->model.metadata.size() != static_cast<std::size_t>(partitions)) {
                return false;
            }
            for (const auto& [tp, bp] : n->model.metadata) {
                if (bp.leader == dead || bp.leader == model::no_node) {
                    return false;
                }
            }
        }
        return true;
    }

private:
    // Runs the multis, at most `window` outstanding (all at once overflowed the client's
    // queue at a million partitions).
    void run_multis(const std::vector<std::vector<coord::op>>& multis, std::size_t window = 64) {
        std::size_t pending = 0;
        std::size_t failed = 0;
        std::string why;
        for (const auto& ops : multis) {
            if (!run_until([&] { return pending < window; }, seconds(120))) {
                throw std::runtime_error("warm-up: a multi got no answer");
            }
            ++pending;
            admin_->multi(ops, [&pending, &failed, &why](const coord::multi_response& r) {
                --pending;
                if (r.error) {
                    ++failed;
                    why = r.error.message();
                }
            });
        }
        if (!run_until([&] { return pending == 0; }, seconds(120)) || failed != 0) {
            throw std::runtime_error("warm-up: a multi failed: " + why);
        }
    }

    std::unique_ptr<coord::zk_client> connect() {
        coord::zk_config cfg;
        cfg.connect = server_.connect_string();
        auto c = std::make_unique<coord::zk_client>(ioc_, cfg);
        std::optional<result<void>> started;
        c->start([&started](result<void> r) { started.emplace(std::move(r)); });
        if (!run_until([&] { return started.has_value(); }, seconds(30)) || !*started) {
            throw std::runtime_error("cannot connect to ZooKeeper at " + cfg.connect);
        }
        return c;
    }

    void settle() {
        for (;;) {
            ioc_.restart();
            if (ioc_.poll() == 0) {
                break;
            }
        }
    }

    void deliver() {
        if (net_.in_flight.empty()) {
            return;
        }
        std::vector<sim_node*> ptrs;
        for (auto& n : nodes_) {
            ptrs.push_back(n.get());
        }
        net_.deliver(ptrs, nullptr);
    }

    test::zookeeper_server server_;
    asio::io_context ioc_;
    sim_network net_;
    std::vector<std::unique_ptr<sim_node>> nodes_;
    std::unique_ptr<coord::zk_client> admin_;
};

// Creates `partitions` partitions (RF 3) in topics of 1000, leaders spread evenly (as
// controller_bench does), and waits until the controller has created and announced them.
void populate(zk_cluster& c, timeline_sink& sink, int partitions, benchmark::State& state) {
    // The first controller's (empty) failover round first: the topics arrive as new ones.
    if (!c.run_until([&] { return sink.last("failover").has_value(); }, seconds(60))) {
        throw std::runtime_error("no controller elected within 60 s");
    }
    auto start = steady::now();
    constexpr int per_topic = 1000;
    std::vector<std::pair<std::string, coord::replica_map>> topics;
    for (int t = 0; t * per_topic < partitions; ++t) {
        coord::replica_map a;
        for (int p = 0; p < per_topic && t * per_topic + p < partitions; ++p) {
            int first = (t * per_topic + p) % 3;
            a[partition_id(p)] = {node_id(first + 1), node_id((first + 1) % 3 + 1),
                                  node_id((first + 2) % 3 + 1)};
        }
        topics.emplace_back("topic-" + std::to_string(t), std::move(a));
    }
    c.create_topics(topics);
    auto led = [&] { return c.all_led(partitions, model::no_node); };
    if (!c.run_until(led, std::chrono::minutes(10), std::chrono::milliseconds(200))) {
        throw std::runtime_error("the controller did not create every partition in 10 min");
    }
    state.counters["populate_s"] = seconds_since(start);
    state.counters["zk_rss_mb"] = rss_mib(c.zookeeper_pid());
}

// The longest the loop went without getting back to a 5 ms timer while it lives: the most
// work (the controller's, the simulated brokers') run between two returns to the loop. A
// ZooKeeper client on a loop that stalls for a third of its session misses its pings.
class stall_meter {
public:
    explicit stall_meter(asio::io_context& ioc) : s_(std::make_shared<state>(ioc)) { arm(s_); }
    ~stall_meter() {
        s_->stopped = true;
        s_->timer.cancel();
    }
    stall_meter(const stall_meter&) = delete;
    stall_meter& operator=(const stall_meter&) = delete;
    double max_ms() const { return std::chrono::duration<double, std::milli>(s_->worst).count(); }

private:
    struct state {
        explicit state(asio::io_context& ioc) : timer(ioc) {}
        asio::steady_timer timer;
        steady::time_point due;
        steady::duration worst{0};
        bool stopped = false;
    };
    static void arm(const std::shared_ptr<state>& s) {
        s->due = steady::now() + std::chrono::milliseconds(5);
        s->timer.expires_at(s->due);
        s->timer.async_wait([s](const boost::system::error_code& ec) {
            if (ec || s->stopped) {
                return;
            }
            auto late = steady::now() - s->due;
            s->worst = std::max(s->worst, late);
            if (late > std::chrono::milliseconds(250)) {
                // Printed with the wall clock, to be placed among the timeline's marks.
                auto end_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch());
                std::fprintf(
                    stderr, "loop stall of %lld ms ending at %lld (epoch ms)\n",
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::milliseconds>(late).count()),
                    static_cast<long long>(end_ms.count()));
            }
            arm(s);
        });
    }
    std::shared_ptr<state> s_;
};

// One failover: returns an error, or "" with the counters set. With `warm`, ZooKeeper's
// read and write paths are exercised first (zk_cluster::warm_zookeeper, untimed).
std::string failover_once(benchmark::State& state, int partitions, bool warm) {
    auto sink = capture_timelines();
    auto c = std::make_unique<zk_cluster>(3, partitions);
    populate(*c, *sink, partitions, state);
    if (warm) {
        auto start = steady::now();
        std::vector<std::string> paths;
        for (int i = 0; i < partitions; ++i) {
            paths.push_back(coord::paths::partition_state("topic-" + std::to_string(i / 1000),
                                                          partition_id(i % 1000)));
        }
        c->warm_zookeeper(paths, partitions / 3, 3);
        state.counters["warmup_s"] = seconds_since(start);
    }
    node_id ctl = c->active_controllers().at(0);
    sink->clear();
    std::int64_t killed_ms = unix_ms_now();
    auto start = steady::now();
    stall_meter stalls(c->ioc());
    c->kill(ctl);
    bool answered = c->run_until([&] { return sink->last("failover").has_value(); },
                                 std::chrono::minutes(5));
    state.SetIterationTime(seconds_since(start));
    state.counters["loop_stall_max_ms"] = stalls.max_ms();
    if (!answered || !c->all_led(partitions, ctl)) {
        return "failover did not converge";
    }
    auto t = *sink->last("failover");
    auto ms = [&](const std::string& from, const std::string& to) {
        return static_cast<double>(mark(t, to) - mark(t, from));
    };
    state.counters["kill_to_elected_ms"] = static_cast<double>(mark(t, "elected") - killed_ms);
    state.counters["elected_to_loaded_ms"] = ms("elected", "loaded");
    state.counters["loaded_to_written_ms"] = ms("loaded", "written");
    state.counters["written_to_sent_ms"] = ms("written", "sent");
    state.counters["sent_to_answered_ms"] = ms("sent", "answered");
    state.counters["elected_to_answered_ms"] = ms("elected", "answered");
    return "";
}

// One controlled shutdown of a broker leading `led` partitions (of 3 * led).
std::string controlled_shutdown_once(benchmark::State& state, int led) {
    auto sink = capture_timelines();
    auto c = std::make_unique<zk_cluster>(3, led * 3);
    populate(*c, *sink, led * 3, state);
    node_id ctl = c->active_controllers().at(0);
    node_id victim = node_id(ctl() % 3 + 1);
    protocol::controlled_shutdown_request req;
    req.broker_id = victim;
    req.broker_epoch = c->node(victim).model.epoch;
    std::optional<std::size_t> remaining;
    sink->clear();
    auto start = steady::now();
    stall_meter stalls(c->ioc());
    asio::co_spawn(
        c->ioc(),
        [&]() -> asio::awaitable<void> {
            auto r = co_await c->node(ctl).ctl->controlled_shutdown(req);
            remaining = r.remaining_partitions.size();
        },
        asio::detached);
    auto quiet = [&] {
        return remaining.has_value() && sink->last("controlled_shutdown").has_value();
    };
    bool done = c->run_until(quiet, std::chrono::minutes(5));
    state.SetIterationTime(seconds_since(start));
    state.counters["loop_stall_max_ms"] = stalls.max_ms();
    if (!done || *remaining != 0) {
        return "leaders left on the stopping broker";
    }
    auto t = *sink->last("controlled_shutdown");
    auto ms = [&](const std::string& from, const std::string& to) {
        return static_cast<double>(mark(t, to) - mark(t, from));
    };
    state.counters["noticed_to_written_ms"] = ms("noticed", "written");
    state.counters["written_to_sent_ms"] = ms("written", "sent");
    state.counters["sent_to_answered_ms"] = ms("sent", "answered");
    return "";
}

// Runs `once` per iteration; a failure (or a setup exception) skips the benchmark.
template <class Once>
void iterate(benchmark::State& state, Once once) {
    std::string failure;
    for (auto _ : state) {
        try {
            failure = once();
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            state.SkipWithError(failure.c_str());
            break;
        }
    }
}

void failover(benchmark::State& state) {
    int partitions = static_cast<int>(state.range(0));
    bool warm = state.range(1) != 0;
    iterate(state, [&] { return failover_once(state, partitions, warm); });
    state.counters["partitions"] = partitions;
}

void controlled_shutdown(benchmark::State& state) {
    int led = static_cast<int>(state.range(0));
    iterate(state, [&] { return controlled_shutdown_once(state, led); });
    state.counters["led_partitions"] = led;
}

BENCHMARK(failover)
    ->ArgNames({"partitions", "warm_zookeeper"})
    ->Args({100'000, 0})
    ->Args({100'000, 1})
    ->Iterations(1)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(controlled_shutdown)
    ->Arg(10'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

}  // namespace
}  // namespace gregor::controller::sim

// GREGOR_BENCH_MILLION=1 adds issue 21's scale: failover at 1,000,000 partitions and the
// controlled shutdown of a broker leading 333,000 (each takes minutes to populate).
int main(int argc, char** argv) {
    using namespace gregor::controller::sim;
    if (const char* m = std::getenv("GREGOR_BENCH_MILLION"); m != nullptr && *m == '1') {
        benchmark::RegisterBenchmark("failover", failover)
            ->ArgNames({"partitions", "warm_zookeeper"})
            ->Args({1'000'000, 0})
            ->Args({1'000'000, 1})
            ->Iterations(1)
            ->Unit(benchmark::kMillisecond)
            ->UseManualTime();
        benchmark::RegisterBenchmark("controlled_shutdown", controlled_shutdown)
            ->Arg(333'000)
            ->Iterations(1)
            ->Unit(benchmark::kMillisecond)
            ->UseManualTime();
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
