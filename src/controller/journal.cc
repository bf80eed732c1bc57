#include "controller/journal.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace gregor::controller {

void decision_journal::add(decision d) {
    d.seq = next_seq_++;
    unclean_total_ += d.unclean ? 1 : 0;
    ring_.push_back(std::move(d));
    while (ring_.size() > capacity_) {
        ring_.pop_front();
    }
}

std::vector<decision> decision_journal::find(const journal_query& q) const {
    std::vector<decision> out;
    for (auto it = ring_.rbegin(); it != ring_.rend() && out.size() < q.limit; ++it) {
        if (q.since && it->time < *q.since) {
            break;  // the ring is in decision order, so everything older follows
        }
        if ((q.topic && it->topic != *q.topic) || (q.partition && it->partition != *q.partition)) {
            continue;
        }
        out.push_back(*it);
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::string to_json(const std::vector<decision>& ds, const decision_journal& j) {
    auto ids = [](const std::vector<model::node_id>& v) {
        nlohmann::json a = nlohmann::json::array();
        for (auto id : v) {
            a.push_back(id());
        }
        return a;
    };
    auto receipt = [](const loss_receipt& r) {
        nlohmann::ordered_json o = {{"broker", r.broker()},
                                    {"kind", r.takeover ? "takeover" : "truncation"},
                                    {"log_end_offset", r.log_end_offset()},
                                    {"high_watermark", r.high_watermark()}};
        if (r.takeover) {
            o["lost_from"] = r.log_end_offset();
        } else {
            o["lost_from"] = r.truncated_to();
            o["lost_to"] = r.high_watermark();
            o["acknowledged_records_lost"] = r.high_watermark() - r.truncated_to();
        }
        return o;
    };
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& d : ds) {
        arr.push_back({{"seq", d.seq},
                       {"time_ms", d.time()},
                       {"controller_epoch", d.controller_epoch()},
                       {"topic", d.topic},
                       {"partition", d.partition()},
                       {"old_leader", d.old_leader()},
                       {"new_leader", d.new_leader()},
                       {"old_isr", ids(d.old_isr)},
                       {"new_isr", ids(d.new_isr)},
                       {"leader_epoch", d.leader_epoch()},
                       {"unclean", d.unclean},
                       {"reason", d.reason}});
        if (d.receipt) {
            arr.back()["receipt"] = receipt(*d.receipt);
        }
    }
    nlohmann::ordered_json out = {{"decisions", arr}, {"total", j.total()}, {"kept", j.size()}};
    return out.dump();
}

}  // namespace gregor::controller
