// Dispatch of a parsed command line to its workload, the limits pass and ratios shared by
// all reports, and printing.
#include "bench/errc.h"
#include "bench/process_usage.h"
#include "bench/workloads.h"

#include <fmt/format.h>

#include <cstdio>

namespace gregor::bench {
namespace {

// The limits pass inside other reports is short: a smaller file, shorter timed tests.
constexpr std::int64_t quick_limits_bytes = std::int64_t{256} << 20;
constexpr auto quick_timed_test = std::chrono::milliseconds(1000);

double ratio(double value, double limit) {
    return limit > 0 ? value / limit : 0;
}

const figure* find_figure(const std::vector<figure>& fs, const std::string& key) {
    for (const auto& f : fs) {
        if (f.key == key) {
            return &f;
        }
    }
    return nullptr;
}

result<report> dispatch(const options& o) {
    switch (o.kind) {
        case workload::produce:
            return run_produce(o);
        case workload::consume:
            return run_consume(o);
        case workload::e2e:
            return run_e2e(o);
        case workload::limits:
            return run_limits(o);
        case workload::failover:
            return run_failover(o);
        case workload::group:
            return run_group(o);
    }
    return error(errc::bad_argument, "unknown workload");
}

// Adds the broker's CPU seconds during the run (and per record) and its RSS at the end.
void add_broker_usage(const options& o, const process_usage& before, report& r) {
    auto after = read_process_usage(o.broker_pid);
    if (!after) {
        r.notes.push_back(fmt::format("broker {} gone by the end of the run", o.broker_pid));
        return;
    }
    double cpu_s = after->cpu_s - before.cpu_s;
    r.results.push_back({"broker_cpu_s", cpu_s, "s of broker CPU (user + system)"});
    const figure* records = find_figure(r.results, "records");
    if (records != nullptr && records->value > 0) {
        r.results.push_back({"broker_cpu_us_per_record", cpu_s * 1e6 / records->value,
                             "us of broker CPU per record"});
    }
    r.results.push_back({"broker_rss_mib", after->rss_mib, "MiB resident (VmRSS)"});
}

}  // namespace

result<report> run_limits(const options& o) {
    limits_plan plan;
    plan.dir = o.dir;
    plan.bytes = o.bytes;
    GREGOR_TRY(machine_limits l, measure_limits(plan));
    report r;
    r.workload = "limits";
    r.parameters = {{"dir", l.dir}, {"bytes", l.bytes}};
    r.limits = l;  // "limits" in JSON, so the output feeds --limits-from as it is
    return r;
}

result<void> add_limits(const options& o, report& r, const std::optional<machine_limits>& loaded) {
    if (o.no_limits) {
        return ok();
    }
    if (loaded) {
        r.limits = loaded;
    } else {
        limits_plan plan;
        plan.dir = o.dir;
        plan.bytes = o.bytes == options{}.bytes ? quick_limits_bytes : o.bytes;
        plan.timed_test = quick_timed_test;
        GREGOR_TRY(r.limits, measure_limits(plan));
    }
    const figure* mb = find_figure(r.results, "mb_per_s");
    if (mb == nullptr) {
        return ok();
    }
    const machine_limits& l = *r.limits;
    if (o.kind == workload::produce || o.kind == workload::e2e) {
        r.ratios.push_back({"mb_per_s_to_disk_write", ratio(mb->value, l.disk_write_mb_per_s),
                            "of sequential disk write"});
    }
    if (o.kind == workload::consume) {
        r.ratios.push_back({"mb_per_s_to_disk_read", ratio(mb->value, l.disk_read_mb_per_s),
                            "of sequential disk read"});
    }
    r.ratios.push_back(
        {"mb_per_s_to_loopback", ratio(mb->value, l.loopback_mb_per_s), "of loopback TCP"});
    // e2e, one record per request: a record costs the leader a produce, a consumer fetch and
    // a fetch per follower, each at least what a minimal server pays for one round trip.
    const figure* cpu = find_figure(r.results, "broker_cpu_us_per_record");
    if (o.kind == workload::e2e && cpu != nullptr && l.round_trip_cpu_us > 0) {
        r.ratios.push_back({"broker_cpu_per_record_to_round_trip",
                            ratio(cpu->value, l.round_trip_cpu_us),
                            "times a minimal server's CPU per loopback round trip (a record is "
                            "a produce, a consumer fetch and a fetch per follower)"});
    }
    return ok();
}

int run(const options& o) {
    auto validated = validate(o);
    if (!validated) {
        std::fprintf(stderr, "gregor bench: %s\n", validated.err().detail.c_str());
        return 2;
    }
    std::optional<machine_limits> loaded;
    if (!o.limits_from.empty()) {  // before the run, so that a bad file costs nothing
        auto l = load_limits(o.limits_from);
        if (!l) {
            std::fprintf(stderr, "gregor bench: %s\n", l.err().detail.c_str());
            return 2;
        }
        loaded = *l;
    }
    std::optional<process_usage> broker_before;
    if (o.broker_pid > 0) {
        auto u = read_process_usage(o.broker_pid);
        if (!u) {
            std::fprintf(stderr, "gregor bench: %s\n", u.err().detail.c_str());
            return 2;
        }
        broker_before = *u;
    }
    auto r = dispatch(o);
    if (r && broker_before) {
        add_broker_usage(o, *broker_before, *r);
    }
    // group compares itself with an assign() read of the same topic instead.
    if (r && o.kind != workload::limits && o.kind != workload::failover &&
        o.kind != workload::group) {
        auto l = add_limits(o, *r, loaded);
        if (!l) {
            r = l.err();
        }
    }
    if (!r) {
        const error& e = r.err();
        std::fprintf(stderr, "gregor bench %s: %s\n", workload_name(o.kind),
                     e.detail.empty() ? e.to_string().c_str() : e.detail.c_str());
        return e.code == make_error_code(errc::bad_argument) ? 2 : 1;
    }
    std::string out = o.format == "json" ? to_json(*r).dump(2) + "\n" : to_text(*r);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (!r->failure.empty()) {
        std::fprintf(stderr, "gregor bench %s: %s\n", workload_name(o.kind), r->failure.c_str());
        return 1;
    }
    return 0;
}

}  // namespace gregor::bench
