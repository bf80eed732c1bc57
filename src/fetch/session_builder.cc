#include "fetch/session_builder.h"

namespace gregor::fetch {
namespace {

void name(protocol::fetch_request& req, const model::topic_partition& tp,
          const partition_fetch& f) {
    if (req.topics.empty() || req.topics.back().topic != tp.topic) {
        req.topics.emplace_back().topic = tp.topic;
    }
    auto& p = req.topics.back().partitions.emplace_back();
    p.partition = tp.partition;
    p.current_leader_epoch = f.current_leader_epoch;
    p.fetch_offset = f.fetch_offset;
    p.last_fetched_epoch = f.last_fetched_epoch;
    p.log_start_offset = f.log_start_offset;
    p.partition_max_bytes = f.max_bytes;
}

}  // namespace

void session_builder::begin(protocol::fetch_request& req) {
    req.session_id = session_id_;
    req.session_epoch = epoch_;
    sent_full_ = full();
}

void session_builder::fetch(protocol::fetch_request& req, const model::topic_partition& tp,
                            const partition_fetch& position, sent_partition& sent) const {
    if (full() || !sent.in_session || sent.fetch != position) {
        name(req, tp, position);
    }
    sent.fetch = position;
    sent.in_session = true;
}

void session_builder::skip(protocol::fetch_request& req, const model::topic_partition& tp,
                           sent_partition& sent) const {
    if (!full() && sent.in_session) {
        if (req.forgotten_topics_data.empty() ||
            req.forgotten_topics_data.back().topic != tp.topic) {
            req.forgotten_topics_data.emplace_back().topic = tp.topic;
        }
        req.forgotten_topics_data.back().partitions.push_back(tp.partition);
    }
    sent.in_session = false;
}

void session_builder::on_response(const protocol::fetch_response& r) {
    if (r.error_code != 0) {
        if (static_cast<model::kafka_error>(r.error_code) ==
            model::kafka_error::fetch_session_id_not_found) {
            session_id_ = no_session;
        }
        epoch_ = initial_epoch;
        return;
    }
    if (r.session_id == no_session) {
        // No room for a session, or the leader closed it: the next request is full and
        // asks again.
        session_id_ = no_session;
        epoch_ = initial_epoch;
        return;
    }
    if (sent_full_) {
        session_id_ = r.session_id;
        epoch_ = next_epoch(initial_epoch);
        return;
    }
    epoch_ = next_epoch(epoch_);
}

void session_builder::on_failure() {
    epoch_ = initial_epoch;  // the next request closes the session, if any, and opens one
}

}  // namespace gregor::fetch
