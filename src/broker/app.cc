#include "broker/app.h"

#include "base/log.h"
#include "broker/broker_call.h"
#include "broker/config_changes.h"
#include "broker/controller_channels.h"
#include "broker/dispatch.h"
#include "broker/errc.h"
#include "broker/group_wiring.h"
#include "broker/isr_sender.h"
#include "broker/logger.h"
#include "broker/meta_properties.h"
#include "broker/metadata_cache.h"
#include "broker/observability.h"
#include "broker/producer_id_wiring.h"
#include "broker/replica_fetchers.h"
#include "broker/replica_manager.h"
#include "broker/services.h"
#include "broker/topic_configs.h"
#include "broker/znode_notifier.h"
#include "controller/config_edits.h"
#include "controller/controller.h"
#include "coord/broker_registration.h"
#include "coord/zk_client.h"
#include "fetch/session_cache.h"
#include "group/member_id.h"
#include "http/server.h"
#include "net/client.h"
#include "net/send.h"
#include "net/server.h"
#include "protocol/frame.h"
#include "protocol/messages/controlled_shutdown.h"
#include "storage/log_cleaner.h"
#include "storage/log_manager.h"
#include "storage/posix_file_system.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <random>

namespace gregor::broker {
namespace {

using namespace std::chrono_literals;

model::timestamp_ms wall_clock_ms() {
    return model::timestamp_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

storage::config_map broker_properties(const broker_config& c) {
    storage::config_map out;
    for (const property& p : c.explicit_settings) {
        out[p.key] = p.value;
    }
    return out;
}

std::array<std::uint8_t, 16> random_bytes() {
    std::random_device rd;
    std::array<std::uint8_t, 16> out{};
    for (auto& b : out) {
        b = static_cast<std::uint8_t>(rd());
    }
    return out;
}

// Listener hosts may be names; net binds IP addresses. Empty means every interface.
result<std::string> resolve_bind_host(asio::io_context& ioc, const std::string& host) {
    if (host.empty()) {
        return std::string("0.0.0.0");
    }
    boost::system::error_code ec;
    asio::ip::tcp::resolver resolver(ioc);
    auto found = resolver.resolve(host, "", ec);
    if (ec || found.empty()) {
        return error(broker::errc::config_bad_value, "listeners: cannot resolve host " + host);
    }
    return found.begin()->endpoint().address().to_string();
}

}  // namespace

result<storage_settings> read_storage_settings(const broker_config& config) {
    auto props = broker_properties(config);
    GREGOR_TRY(auto defaults, storage::broker_log_defaults(props));
    GREGOR_TRY(auto cleaner, storage::broker_cleaner_config(props));
    return storage_settings{defaults, cleaner};
}

struct app::impl {
    broker_config config;
    // Read and checked first thing in run(); `storage.cleaner` is for the log cleaner.
    storage_settings storage;
    asio::io_context ioc{1};
    storage::io_worker worker{storage::io_worker::mode::thread};
    storage::posix_file_system fs;
    std::optional<storage::log_manager> logs;
    std::optional<storage::log_cleaner> cleaner;
    metadata_cache cache;
    std::optional<topic_configs> topics;
    std::optional<replica_manager> replicas;
    std::optional<replica_fetchers> fetchers;
    std::optional<fetch::session_cache> fetch_sessions;
    std::optional<isr_sender> isr;
    std::optional<asio::steady_timer> maintenance_timer;
    std::optional<services> svc;
    std::optional<net::server> server;
    std::optional<coord::zk_client> zk;
    std::optional<coord::zk_client> chroot_maker;  // only while creating the chroot
    bool chroot_ready = false;
    std::optional<coord::broker_registration> registration;
    std::optional<znode_notifier> notices;  // log dir events, unclean election receipts
    int unsent_dir_events = 0;  // dir failures before the ZooKeeper session existed
    std::optional<controller_channels> channels;
    std::optional<controller::controller> ctl;
    std::optional<config_change_follower> config_changes;
    std::optional<replica_offsets_log> offsets_log;
    std::optional<group::group_service> groups;
    std::optional<producer_id_service> producer_ids;
    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    // Metrics (and /metrics when gregor.http.listener is set); gauges read the parts above.
    observability obs{metric_sources{
        [this]() -> const replica_manager* { return replicas ? &*replicas : nullptr; },
        [this]() -> const controller::controller* { return ctl ? &*ctl : nullptr; },
        [this]() -> const group::group_service* { return groups ? &*groups : nullptr; },
        [this]() -> const storage::log_cleaner* { return cleaner ? &*cleaner : nullptr; },
        [this]() -> const metadata_cache* { return &cache; },
        [this]() -> const fetch::session_cache* {
            return fetch_sessions ? &*fetch_sessions : nullptr;
        }}};
    int exit_code = exit_ok;
    bool stopping = false;

    explicit impl(broker_config c) : config(std::move(c)) {}

    result<void> open_storage();
    void on_log_dir_failure(const std::string& dir,
                            const std::vector<model::topic_partition>& partitions,
                            std::size_t healthy_dirs);
    std::vector<std::string> healthy_log_dirs() const;
    znode_notifier& notifier();  // REQUIRES: zk
    void start_replication();
    asio::awaitable<void> maintenance();
    result<void> start_server();
    void connect_zookeeper();
    void ensure_chroot(std::string hosts, std::string chroot);
    void start_registration();
    void generate_broker_id();
    void with_broker_id(model::node_id id);
    void start_controller();
    void follow_config_changes();
    void start_groups();
    void start_producer_ids();
    asio::awaitable<void> controlled_shutdown();
    asio::awaitable<result<protocol::controlled_shutdown_response>> ask_controller(
        const protocol::controlled_shutdown_request& req);
    std::vector<coord::broker_endpoint> advertised_endpoints() const;
    void stop(int code);
    asio::awaitable<void> shutdown();
};

result<void> app::impl::open_storage() {
    storage::log_context ctx{&fs,
                             &worker,
                             [this](std::function<void()> fn) { asio::post(ioc, std::move(fn)); },
                             {},
                             [this](std::chrono::steady_clock::duration d) { obs.log_flushed(d); },
                             wall_clock_ms};
    topics.emplace(
        storage.log_defaults,
        replication::replication_config{config.min_insync_replicas, config.replica_lag_time_max});
    logs.emplace(ctx, config.log_dirs,
                 [this](const std::string& topic) { return topics->log_config(topic); });
    logs->set_recovery_threads(static_cast<std::size_t>(config.num_recovery_threads_per_data_dir));
    logs->set_open_file_budget(storage::posix_file_system::raise_open_file_limit() / 2);
    if (auto loaded = logs->load(wall_clock_ms()); !loaded) {
        return loaded.err();
    }
    logs->set_dir_failure_listener(
        [this](const std::string& dir, const std::vector<model::topic_partition>& partitions,
               std::size_t healthy) { on_log_dir_failure(dir, partitions, healthy); });
    replicas.emplace(
        config.broker_id, *logs,
        [this](const std::string& topic) { return topics->replication(topic); },
        [this](model::node_id id) { return cache.alive(id); });
    // Compacted logs are cleaned only below their high watermark: a record above it may be
    // truncated away, and must not make an older value of its key look obsolete.
    cleaner.emplace(*logs, fs, worker, ctx.exec, storage.cleaner,
                    [this](const model::topic_partition& tp) -> std::optional<model::offset> {
                        auto* p = replicas->partition(tp);
                        return p != nullptr ? std::optional(p->high_watermark())
                                            : std::optional(model::offset(0));
                    });
    cleaner->load();
    svc.emplace(services{.config = config,
                         .ioc = ioc,
                         .cache = cache,
                         .replicas = *replicas,
                         .zk = zk ? &*zk : nullptr,
                         .controller = nullptr,
                         .fetchers = nullptr,
                         .topics = &*topics,
                         .cluster_id = {},
                         .broker_epoch = model::no_broker_epoch,
                         .now = wall_clock_ms});
    svc->metrics = &obs;
    // A follower's resting partitions are still read a few times per replica.lag.time.max.ms:
    // each read keeps it caught up, hence in the ISR.
    fetch_sessions.emplace(
        fetch::cache_config{
            .max_slots = static_cast<std::size_t>(config.max_incremental_fetch_session_cache_slots),
            .sweep = std::min<fetch::clock::duration>(fetch::cache_config{}.sweep,
                                                      config.replica_lag_time_max / 4)},
        std::random_device{}());
    svc->fetch_sessions = &*fetch_sessions;
    start_replication();
    if (zk) {
        start_groups();
    }
    return ok();
}

// Kafka's handling of a failed log dir: its partitions stop here at once, the controller
// hears of it through ZooKeeper and takes the replicas offline; with no dir left the broker
// halts (as Kafka does): there is nothing it could serve.
void app::impl::on_log_dir_failure(const std::string& dir,
                                   const std::vector<model::topic_partition>& partitions,
                                   std::size_t healthy_dirs) {
    for (const auto& tp : partitions) {
        if (fetchers) {
            fetchers->unfollow(tp);
        }
    }
    replicas->take_offline(partitions);
    if (healthy_dirs == 0) {
        GREGOR_LOG(broker_log, critical, "every log dir is offline (the last was {}); halting",
                   dir);
        spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
        std::_Exit(exit_failure);
    }
    if (!zk) {
        ++unsent_dir_events;
        return;
    }
    notifier().log_dir_failed(config.broker_id);
}

znode_notifier& app::impl::notifier() {
    if (!notices) {
        notices.emplace(ioc, *zk);
    }
    return *notices;
}

std::vector<std::string> app::impl::healthy_log_dirs() const {
    if (!logs) {
        return config.log_dirs;
    }
    std::vector<std::string> out;
    auto offline = logs->offline_dirs();
    for (const auto& d : config.log_dirs) {
        if (std::find(offline.begin(), offline.end(), d) == offline.end()) {
            out.push_back(d);
        }
    }
    return out;
}

// Follower fetchers, the ISR change sender and the periodic log upkeep.
void app::impl::start_replication() {
    fetcher_settings fs_settings;
    fs_settings.self = config.broker_id;
    fs_settings.listener = config.inter_broker_listener_name;
    fs_settings.max_bytes = config.replica_fetch_max_bytes;
    fs_settings.response_max_bytes = config.replica_fetch_response_max_bytes;
    fs_settings.wait_max = config.replica_fetch_wait_max;
    fs_settings.min_bytes = config.replica_fetch_min_bytes;
    fs_settings.backoff = config.replica_fetch_backoff;
    fs_settings.socket_timeout = config.replica_socket_timeout;
    fs_settings.on_committed_truncated = [this](const model::topic_partition&,
                                                std::int64_t records) {
        obs.committed_truncated(records);
    };
    fetchers.emplace(ioc, *replicas, cache, fs_settings, wall_clock_ms);
    svc->fetchers = &*fetchers;
    isr_sender_settings is{config.broker_id, config.inter_broker_listener_name,
                           config.replica_lag_time_max, config.request_timeout,
                           [this](std::size_t before, std::size_t after,
                                  const std::vector<replication::isr_leave>& leaves) {
                               obs.isr_changed(before, after, leaves);
                           }};
    isr.emplace(
        ioc, *replicas, cache, is, wall_clock_ms,
        [this]() -> controller::controller* { return ctl ? &*ctl : nullptr; },
        [this] { return svc->broker_epoch; });
    replicas->set_isr_change_hook([this] { isr->wake(); });
    replicas->set_receipt_sink(
        [this](const model::topic_partition& tp, const replication::loss_receipt& r) {
            if (zk) {  // LeaderAndIsr and fetching come after the session anyway
                notifier().unclean_receipt(config.broker_id, tp, r);
            }
        });
    isr->start();
    maintenance_timer.emplace(ioc);
    asio::co_spawn(ioc, maintenance(), asio::detached);
}

// Every second: the flush.ms policy and the cleaner's look for dirty logs. On their own timers
// (config keys): each per-dir checkpoint and retention. Idle segment files close every 30 s,
// or each second while over the descriptor budget (log_manager::sweep_idle_files).
asio::awaitable<void> app::impl::maintenance() {
    auto now = std::chrono::steady_clock::now();
    auto next_hw = now;
    auto next_recovery = now + config.log_flush_offset_checkpoint_interval;
    auto next_starts = now + config.log_flush_start_offset_checkpoint_interval;
    auto next_retention = now + config.log_retention_check_interval;
    // Whether the timer at `next` is due; if so, sets it `interval` from now.
    auto due = [&](auto& next, auto interval) {
        bool is_due = now >= next;
        next = is_due ? now + interval : next;
        return is_due;
    };
    boost::system::error_code ec;
    while (!stopping) {
        maintenance_timer->expires_after(1000ms);
        co_await maintenance_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (stopping) {
            co_return;
        }
        now = std::chrono::steady_clock::now();
        logs->run_flush_checks(wall_clock_ms());
        cleaner->tick(wall_clock_ms());
        storage::log_manager::checkpoint_set files{
            .recovery_points = due(next_recovery, config.log_flush_offset_checkpoint_interval),
            .log_starts = due(next_starts, config.log_flush_start_offset_checkpoint_interval),
            .replication = due(next_hw, config.replica_high_watermark_checkpoint_interval)};
        if (files.recovery_points || files.log_starts || files.replication) {
            logs->write_checkpoints(files, {});  // failures are logged there
        }
        logs->sweep_idle_files(now);
        if (due(next_retention, config.log_retention_check_interval)) {
            if (auto deleted = logs->run_retention(wall_clock_ms()); !deleted) {
                GREGOR_LOG(broker_log, err, "retention failed: {}", deleted.err().to_string());
            }
        }
    }
}

result<void> app::impl::start_server() {
    net::server_config sc;
    for (const endpoint& e : config.listeners) {
        auto host = resolve_bind_host(ioc, e.host);
        if (!host) {
            return host.err();
        }
        sc.listeners.push_back({e.listener, *host, e.port});
    }
    sc.request_bytes_max = config.socket_request_max_bytes;
    sc.idle_timeout = config.connections_max_idle;
    sc.request_memory_bytes =
        std::max(sc.request_memory_bytes, static_cast<std::size_t>(sc.request_bytes_max));
    if (auto valid = net::validate(sc); !valid) {
        return valid.err();
    }
    server.emplace(ioc, sc, [this](net::request r) { return dispatch(*svc, std::move(r)); });
    GREGOR_TRY_VOID(server->start());
    if (config.http_listener) {
        GREGOR_TRY_VOID(obs.start_http(ioc, *config.http_listener));
    }
    return ok();
}

std::vector<coord::broker_endpoint> app::impl::advertised_endpoints() const {
    std::vector<coord::broker_endpoint> out;
    for (const endpoint& e : config.advertised_listeners) {
        std::string host = e.host.empty() ? asio::ip::host_name() : e.host;
        std::int32_t port = e.port;
        bool bound_here = std::any_of(config.listeners.begin(), config.listeners.end(),
                                      [&](const endpoint& l) { return l.listener == e.listener; });
        if (port == 0 && bound_here) {
            port = server->port(e.listener);  // listeners=...:0 lets the OS pick
        }
        out.push_back({e.listener, host, port, e.security_protocol});
    }
    return out;
}

// Kafka creates the chroot of zookeeper.connect ("host:port/kafka") when it is missing: a
// session without the chroot creates each missing level, then the real session starts.
void app::impl::ensure_chroot(std::string hosts, std::string chroot) {
    coord::zk_config zc;
    zc.connect = std::move(hosts);
    zc.session_timeout = config.zookeeper_session_timeout;
    zc.connection_timeout = config.zookeeper_connection_timeout;
    chroot_maker.emplace(ioc, zc);
    auto levels = std::make_shared<std::vector<std::string>>();
    for (std::size_t i = 1; i <= chroot.size(); ++i) {
        if (i == chroot.size() || chroot[i] == '/') {
            levels->push_back(chroot.substr(0, i));
        }
    }
    auto next = std::make_shared<std::function<void(std::size_t)>>();
    *next = [this, levels, next](std::size_t i) {
        if (i == levels->size()) {
            chroot_maker->close();
            asio::post(ioc, [this] {
                chroot_maker.reset();
                if (!stopping) {
                    connect_zookeeper();
                }
            });
            *next = nullptr;  // breaks the self-reference
            return;
        }
        chroot_maker->create((*levels)[i], "", coord::create_mode::persistent,
                             [next, i](result<std::string>) { (*next)(i + 1); });  // exists: fine
    };
    chroot_maker->start([this, next](result<void> r) {
        if (!r) {
            GREGOR_LOG(broker_log, critical, "cannot connect to ZooKeeper at {}: {}",
                       config.zookeeper_connect, r.err().to_string());
            stop(exit_failure);
            return;
        }
        (*next)(0);
    });
}

// The group coordinator: it coordinates the groups of the `__consumer_offsets` partitions
// this broker leads (LeaderAndIsr tells it which), so it needs ZooKeeper's cluster.
void app::impl::start_groups() {
    if (groups || !replicas) {
        return;
    }
    offsets_log.emplace(ioc, *replicas, wall_clock_ms);
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    groups.emplace(ioc, group_service_config(config), *offsets_log, wall_clock_ms,
                   [rng] { return group::uuid_text((*rng)(), (*rng)()); });
    groups->start();
    svc->groups = &*groups;
}

// Producer ids for InitProducerId, from blocks claimed at /latest_producer_id_block. Started
// once registered: the top-level paths exist then, and a block claimed before would be
// wasted if registration failed.
void app::impl::start_producer_ids() {
    if (producer_ids || stopping || !zk) {
        return;
    }
    producer_ids.emplace(ioc, *zk, config.broker_id);
    producer_ids->start();
    svc->producer_ids = &*producer_ids;
}

void app::impl::connect_zookeeper() {
    if (auto slash = config.zookeeper_connect.find('/');
        !zk && !chroot_ready && slash != std::string::npos &&
        slash + 1 < config.zookeeper_connect.size()) {
        chroot_ready = true;
        ensure_chroot(config.zookeeper_connect.substr(0, slash),
                      config.zookeeper_connect.substr(slash));
        return;
    }
    coord::zk_config zc;
    zc.connect = config.zookeeper_connect;
    zc.session_timeout = config.zookeeper_session_timeout;
    zc.connection_timeout = config.zookeeper_connection_timeout;
    zc.on_request_done = [this](std::chrono::steady_clock::duration d) {
        obs.zookeeper_request(d);
    };
    zk.emplace(ioc, zc);
    if (svc) {
        svc->zk = &*zk;
        start_groups();
    }
    zk->start([this](result<void> r) {
        if (!r) {
            GREGOR_LOG(broker_log, critical,
                       "cannot connect to ZooKeeper at {} within zookeeper.connection.timeout.ms"
                       "={}: {}",
                       config.zookeeper_connect, config.zookeeper_connection_timeout.count(),
                       r.err().to_string());
            stop(exit_failure);
            return;
        }
        if (config.broker_id() < 0) {
            generate_broker_id();
        } else {
            start_registration();
        }
    });
}

// Kafka's broker id generation: the version of /brokers/seqid, bumped by an unconditional
// set, plus reserved.broker.max.id; meta.properties keeps the id for the next start.
void app::impl::generate_broker_id() {
    auto fail = [this](const error& e) {
        GREGOR_LOG(broker_log, critical, "cannot generate a broker id from /brokers/seqid: {}",
                   e.to_string());
        stop(exit_failure);
    };
    auto bump = [this, fail] {
        zk->set("/brokers/seqid", "", coord::any_version, [this, fail](result<coord::znode_stat> r) {
            if (!r) {
                fail(r.err());
                return;
            }
            with_broker_id(model::node_id(config.reserved_broker_max_id + r->version()));
        });
    };
    zk->create("/brokers", "", coord::create_mode::persistent, [this, bump](result<std::string>) {
        zk->create("/brokers/seqid", "", coord::create_mode::persistent,
                   [bump](result<std::string>) { bump(); });  // node_exists is fine
    });
}

void app::impl::with_broker_id(model::node_id id) {
    config.broker_id = id;
    log_set_context(fmt::format("b{}", id()));
    GREGOR_LOG(broker_log, info, "generated broker.id {} from /brokers/seqid", id());
    if (auto r = open_storage(); !r) {
        GREGOR_LOG(broker_log, critical, "cannot open log.dirs: {}", r.err().to_string());
        stop(exit_failure);
        return;
    }
    if (auto r = start_server(); !r) {
        GREGOR_LOG(broker_log, critical, "cannot start listeners: {}", r.err().to_string());
        stop(exit_failure);
        return;
    }
    start_registration();
}

void app::impl::start_registration() {
    coord::broker_info info{-1, wall_clock_ms(), advertised_endpoints(), config.rack, {}};
    coord::registration_handlers h;
    h.on_registered = [this](model::broker_epoch epoch) {
        svc->broker_epoch = epoch;
        svc->cluster_id = registration->cluster_id();
        if (auto r = record_identity(healthy_log_dirs(), config.broker_id, svc->cluster_id); !r) {
            GREGOR_LOG(broker_log, critical, "{}", r.err().to_string());
            stop(exit_failure);
            return;
        }
        GREGOR_LOG(broker_log, info, "registered broker {} in cluster {} with broker epoch {}",
                   config.broker_id(), svc->cluster_id, epoch());
        obs.set_state(broker_state::running);
        follow_config_changes();
        for (; unsent_dir_events > 0; --unsent_dir_events) {
            notifier().log_dir_failed(config.broker_id);
        }
        start_controller();
        start_producer_ids();
    };
    h.on_lost = [this](bool expired) {
        if (expired) {
            obs.zookeeper_expired();
        }
        GREGOR_LOG(broker_log, warn, "{}; registering again",
                   expired ? "ZooKeeper session expired" : "registration deleted");
    };
    h.on_fatal = [this](const error& e) {
        GREGOR_LOG(broker_log, critical, "cannot register broker {}: {}", config.broker_id(),
                   e.to_string());
        stop(exit_failure);
    };
    h.after = [this](std::chrono::milliseconds delay, std::function<void()> fn) {
        auto t = std::make_shared<asio::steady_timer>(ioc, delay);
        t->async_wait([t, fn = std::move(fn)](const boost::system::error_code& ec) {
            if (!ec) {
                fn();
            }
        });
    };
    // A node left by an earlier run of this broker (kill -9, a crash) goes when its session
    // times out: the same configured timeout, plus slack for ZooKeeper's expiry tick (the
    // server checks sessions once per tickTime, 2 s by default).
    const auto wait = config.zookeeper_session_timeout + std::chrono::seconds(4);
    registration.emplace(*zk, config.broker_id, std::move(info), random_bytes, std::move(h), wait);
    registration->start();
}

void app::impl::start_controller() {
    if (ctl || stopping) {
        return;
    }
    controller::controller_config cc;
    cc.self = config.broker_id;
    cc.inter_broker_listener = config.inter_broker_listener_name;
    cc.unclean_leader_election = config.unclean_leader_election_enable;
    cc.num_partitions = config.num_partitions;
    cc.default_replication_factor = config.default_replication_factor;
    cc.delete_topic_enable = config.delete_topic_enable;
    cc.broker_properties = broker_properties(config);
    cc.now = wall_clock_ms;
    cc.auto_leader_rebalance = config.auto_leader_rebalance_enable;
    cc.fast_crash_detection = config.fast_crash_detection;
    cc.leader_imbalance_percentage = config.leader_imbalance_per_broker_percentage;
    cc.leader_imbalance_check_interval = config.leader_imbalance_check_interval;
    // Kafka's first check comes 5 s after winning; a shorter interval (tests) comes sooner.
    cc.leader_imbalance_first_check = std::min<std::chrono::milliseconds>(
        std::chrono::seconds(5), config.leader_imbalance_check_interval);
    channels.emplace(ioc);
    controller::controller_hooks hooks;
    hooks.on_round_done = [this](const controller::timeline& t) { obs.controller_round(t); };
    ctl.emplace(ioc, *zk, *channels, std::move(cc), std::move(hooks));
    svc->controller = &*ctl;
    ctl->start();
}

// Topic config changes made after a topic's overrides were first read (/config/changes)
// take effect at once: min.insync.replicas, retention and segment settings.
void app::impl::follow_config_changes() {
    if (config_changes || stopping) {
        return;
    }
    config_change_hooks h;
    h.apply = [this](const std::string& topic, storage::config_map overrides) {
        if (topics->overrides(topic) == overrides && topics->known(topic)) {
            return;
        }
        GREGOR_LOG(broker_log, info, "topic {}: configs now {{{}}}", topic,
                   controller::format_overrides(overrides));
        topics->set(topic, std::move(overrides));
        replicas->reload_configs();  // and the logs'
        replicas->notify();  // waiting acks=all produces re-check min.insync.replicas
    };
    h.interested = [this](const std::string& topic) { return topics->known(topic); };
    h.known_topics = [this] { return topics->topics(); };
    config_changes.emplace(*zk, std::move(h));
    config_changes->start();
}

// Asks the controller to move this broker's leaderships away (Kafka's controlled shutdown):
// up to controlled.shutdown.max.retries attempts, controlled.shutdown.retry.backoff.ms apart;
// then the broker stops anyway (an unclean stop: the controller acts when our session ends).
asio::awaitable<void> app::impl::controlled_shutdown() {
    if (!config.controlled_shutdown_enable || !registration || !registration->registered()) {
        co_return;
    }
    protocol::controlled_shutdown_request req;
    req.broker_id = config.broker_id;
    req.broker_epoch = svc->broker_epoch;
    for (std::int32_t attempt = 1; attempt <= config.controlled_shutdown_max_retries; ++attempt) {
        auto r = co_await ask_controller(req);
        if (r && r->error_code == 0 && r->remaining_partitions.empty()) {
            GREGOR_LOG(broker_log, info, "controlled shutdown succeeded");
            co_return;
        }
        GREGOR_LOG(broker_log, warn, "controlled shutdown attempt {} of {}: {}", attempt,
                   config.controlled_shutdown_max_retries,
                   !r ? r.err().to_string()
                      : r->error_code != 0
                            ? "error " + std::to_string(r->error_code)
                            : std::to_string(r->remaining_partitions.size()) +
                                  " partitions still led here");
        if (attempt < config.controlled_shutdown_max_retries) {
            asio::steady_timer t(ioc, config.controlled_shutdown_retry_backoff);
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }
    GREGOR_LOG(broker_log, warn, "controlled shutdown failed; stopping anyway");
}

asio::awaitable<result<protocol::controlled_shutdown_response>> app::impl::ask_controller(
    const protocol::controlled_shutdown_request& req) {
    constexpr std::int16_t version = 3;
    if (ctl && ctl->active()) {
        auto out = co_await ctl->controlled_shutdown(req);
        co_return out;
    }
    const std::string client_id = "broker-" + std::to_string(config.broker_id());
    auto out = co_await call_controller<protocol::controlled_shutdown_api>(
        ioc, cache, config.inter_broker_listener_name, config.request_timeout, client_id, version,
        req);
    co_return out;
}

void app::impl::stop(int code) {
    if (stopping) {
        return;
    }
    stopping = true;
    exit_code = code;
    asio::co_spawn(ioc, shutdown(), asio::detached);
}

asio::awaitable<void> app::impl::shutdown() {
    GREGOR_LOG(broker_log, info, "shutting down");
    obs.set_state(broker_state::shutting_down);
    signals.cancel();
    co_await controlled_shutdown();
    // From here the broker is leaving: once its listener closes, the controller may find its
    // process gone and delete its registration, which must not be taken for a reason to
    // register again (the node itself goes with the session, closed below).
    registration.reset();
    if (groups) {
        groups->stop();  // parked JoinGroup/SyncGroup/OffsetCommit answer NOT_COORDINATOR
    }
    if (producer_ids) {
        producer_ids->stop();
    }
    if (ctl) {
        co_await ctl->stop();
    }
    if (config_changes) {
        config_changes->stop();
    }
    if (fetchers) {
        fetchers->stop();
    }
    if (isr) {
        isr->stop();
    }
    if (maintenance_timer) {
        maintenance_timer->cancel();
    }
    if (chroot_maker) {
        chroot_maker->close();
    }
    if (server) {
        co_await server->shutdown(5000ms);
    }
    obs.stop_http();
    notices.reset();
    if (zk) {
        zk->close();  // the ephemeral registration disappears now, not after the timeout
    }
    if (cleaner) {
        cleaner->stop();  // aborts running passes; writes cleaner-offset-checkpoint
    }
    if (logs) {
        if (auto closed = logs->shutdown(); !closed) {
            GREGOR_LOG(broker_log, err, "closing logs: {}", closed.err().to_string());
        }
    }
    ioc.stop();
}

app::app(broker_config config) : impl_(std::make_unique<impl>(std::move(config))) {}
app::~app() = default;

int app::run() {
    impl& m = *impl_;
    GREGOR_LOG(broker_log, info, "starting broker with {}", describe(m.config));
    auto settings = read_storage_settings(m.config);
    if (!settings) {
        GREGOR_LOG(broker_log, critical, "configuration error: {}", settings.err().detail);
        return exit_config;
    }
    m.storage = *settings;
    if (m.config.http_listener) {
        if (auto l = http::parse_listener(*m.config.http_listener); !l) {
            GREGOR_LOG(broker_log, critical, "configuration error: gregor.http.listener: {}",
                       l.err().detail);
            return exit_config;
        }
    }
    auto stored = stored_broker_id(m.config.log_dirs, m.config.broker_id);
    if (!stored) {
        GREGOR_LOG(broker_log, critical, "{}", stored.err().to_string());
        return exit_config;
    }
    if (m.config.broker_id() < 0 && *stored) {
        m.config.broker_id = **stored;
        log_set_context(fmt::format("b{}", m.config.broker_id()));
        GREGOR_LOG(broker_log, info, "broker.id {} from meta.properties", m.config.broker_id());
    }
    net::ignore_sigpipe();
    // Without an id the broker first asks ZooKeeper for one, then opens storage and listens.
    if (m.config.broker_id() >= 0) {
        if (auto r = m.open_storage(); !r) {
            GREGOR_LOG(broker_log, critical, "cannot open log.dirs: {}", r.err().to_string());
            return exit_failure;
        }
        if (auto r = m.start_server(); !r) {
            GREGOR_LOG(broker_log, critical, "cannot start listeners: {}", r.err().to_string());
            return exit_failure;
        }
    }
    m.signals.async_wait([&m](const boost::system::error_code& ec, int sig) {
        if (!ec) {
            GREGOR_LOG(broker_log, info, "signal {} received", sig);
            m.stop(exit_ok);
        }
    });
    m.connect_zookeeper();
    m.ioc.run();
    m.worker.stop();
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    return m.exit_code;
}

}  // namespace gregor::broker
