#include "fetch/session_cache.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <tuple>

namespace gregor::fetch {
namespace {

using fetch_request = protocol::fetch_request;

// A partition named by a request, compared without copying its topic.
struct key {
    std::string_view topic;
    model::partition_id partition;
};

bool before(const session_partition& p, const key& k) {
    int c = std::string_view(p.tp.topic).compare(k.topic);
    return c < 0 || (c == 0 && p.tp.partition < k.partition);
}

bool same(const session_partition& p, const key& k) {
    return p.tp.partition == k.partition && p.tp.topic == k.topic;
}

bool by_partition(const session_partition& a, const session_partition& b) {
    return a.tp < b.tp;
}

// Of the partitions a request named twice (sorted, stably), the last naming counts.
void keep_last_of_each(std::vector<session_partition>& v) {
    auto kept = std::unique(v.rbegin(), v.rend(),
                            [](const auto& a, const auto& b) { return a.tp == b.tp; });
    v.erase(v.begin(), kept.base());
}

}  // namespace

std::int32_t next_epoch(std::int32_t e) {
    if (e < 0) {
        return final_epoch;  // a sessionless fetch stays sessionless
    }
    return e == std::numeric_limits<std::int32_t>::max() ? 1 : e + 1;
}

partition_fetch partition_fetch::of(const fetch_request::fetch_topic::fetch_partition& p) {
    return partition_fetch{p.fetch_offset, p.log_start_offset, p.current_leader_epoch,
                           p.last_fetched_epoch, p.partition_max_bytes};
}

const session_partition* session::find(const model::topic_partition& tp) const {
    auto it = std::lower_bound(partitions_.begin(), partitions_.end(), key{tp.topic, tp.partition},
                               before);
    return it != partitions_.end() && it->tp == tp ? &*it : nullptr;
}

bool session::must_answer(const session_partition& p, const partition_data& d) {
    return (d.records && d.records->size() > 0) || d.error_code != 0 ||
           d.diverging_epoch.epoch >= 0 || d.high_watermark != p.high_watermark ||
           d.last_stable_offset != p.last_stable_offset || d.log_start_offset != p.log_start_offset;
}

void session::answered(const protocol::fetch_response& r) {
    std::size_t last_with_records = partitions_.size();
    for (const auto& t : r.responses) {
        for (const auto& d : t.partitions) {
            auto it = std::lower_bound(partitions_.begin(), partitions_.end(),
                                       key{t.topic, d.partition_index}, before);
            if (it == partitions_.end() || !same(*it, key{t.topic, d.partition_index})) {
                continue;
            }
            // An error is told again once it is gone: -1 makes the next answer carry it.
            it->high_watermark = d.error_code != 0 ? model::offset(-1) : d.high_watermark;
            it->last_stable_offset = d.last_stable_offset;
            it->log_start_offset = d.log_start_offset;
            if (d.records && d.records->size() > 0) {
                last_with_records = static_cast<std::size_t>(it - partitions_.begin());
            }
        }
    }
    if (last_with_records < partitions_.size()) {
        start_ = (last_with_records + 1) % partitions_.size();
    }
}

void session::update(const fetch_request& req) {
    // Added partitions go to the end first and are merged in once (a request may add a new
    // topic's thousands).
    const std::size_t sorted = partitions_.size();
    for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) {
            key k{t.topic, p.partition};
            auto end = partitions_.begin() + static_cast<std::ptrdiff_t>(sorted);
            auto it = std::lower_bound(partitions_.begin(), end, k, before);
            if (it != end && same(*it, k)) {
                // A changed position is answered next round whatever else changed: the
                // fetcher may have dropped the last answer (it moved meanwhile).
                it->fetch = partition_fetch::of(p);
                it->high_watermark = model::offset(-1);
                list(static_cast<std::uint32_t>(it - partitions_.begin()));
                continue;
            }
            partitions_.push_back(
                session_partition{{t.topic, p.partition}, partition_fetch::of(p)});
        }
    }
    if (partitions_.size() > sorted) {
        auto middle = partitions_.begin() + static_cast<std::ptrdiff_t>(sorted);
        std::stable_sort(middle, partitions_.end(), by_partition);
        std::inplace_merge(partitions_.begin(), middle, partitions_.end(), by_partition);
        keep_last_of_each(partitions_);
        list_all();  // the indices moved
    }
    std::vector<std::size_t> forgotten;
    for (const auto& t : req.forgotten_topics_data) {
        for (model::partition_id id : t.partitions) {
            key k{t.topic, id};
            auto it = std::lower_bound(partitions_.begin(), partitions_.end(), k, before);
            if (it != partitions_.end() && same(*it, k)) {
                forgotten.push_back(static_cast<std::size_t>(it - partitions_.begin()));
            }
        }
    }
    if (!forgotten.empty()) {
        std::sort(forgotten.begin(), forgotten.end());
        std::size_t next = 0;
        std::size_t index = 0;
        std::erase_if(partitions_, [&](const session_partition&) {
            bool gone = next < forgotten.size() && forgotten[next] == index;
            while (next < forgotten.size() && forgotten[next] == index) {
                ++next;  // named twice
            }
            ++index;
            return gone;
        });
        list_all();  // the indices moved
    }
    if (start_ >= partitions_.size()) {
        start_ = 0;
    }
    // A session lives as long as its fetcher: no doubled capacity kept after an addition.
    if (partitions_.capacity() > partitions_.size() + partitions_.size() / 4 + 64) {
        partitions_.shrink_to_fit();
    }
}

void session::list(std::uint32_t i) {
    if (!read_all_ && !partitions_[i].listed) {
        partitions_[i].listed = true;
        listed_.push_back(i);
    }
}

void session::list_all() {
    read_all_ = true;
    listed_.clear();
}

std::vector<std::uint32_t> session::plan_round(const change_feed& feed, clock::time_point now,
                                               clock::duration sweep) {
    const std::size_t n = partitions_.size();
    if (!read_all_ && !feed.since(feed_read_, [&](const model::topic_partition& tp) {
            if (const session_partition* p = find(tp)) {
                list(static_cast<std::uint32_t>(p - partitions_.data()));
            }
        })) {
        list_all();
    }
    feed_read_ = feed.end();
    std::vector<std::uint32_t> out;
    if (read_all_ || n == 0) {
        // Every partition, already in round order; reading them all is a whole sweep.
        read_all_ = false;
        listed_.clear();
        out.reserve(n);
        for (std::size_t k = 0; k < n; ++k) {
            out.push_back(static_cast<std::uint32_t>((start_ + k) % n));
        }
        swept_.at = now;
        sweep_next_ = 0;
    } else {
        const std::size_t turns = swept_.turns(now, n, sweep);
        sweep_next_ %= n;
        for (std::size_t k = 0; k < turns; ++k) {
            list(static_cast<std::uint32_t>((sweep_next_ + k) % n));
        }
        sweep_next_ = (sweep_next_ + turns) % n;
        out = std::move(listed_);
        listed_.clear();
        const std::size_t start = start_;
        std::sort(out.begin(), out.end(), [start, n](std::uint32_t a, std::uint32_t b) {
            return (a + n - start) % n < (b + n - start) % n;
        });
    }
    for (std::uint32_t i : out) {
        partitions_[i].listed = false;  // also those listed before a list_all()
    }
    return out;
}

void session::settle(std::uint32_t i, bool quiet) {
    if (!quiet) {
        list(i);
    }
}

session_cache::session_cache(cache_config config, std::uint64_t seed)
    : config_(config), random_(static_cast<std::mt19937::result_type>(seed)) {}

context session_cache::open(const fetch_request& req, clock::time_point now) {
    expire(now);
    context out;
    if (req.session_epoch == initial_epoch || req.session_epoch == final_epoch) {
        if (req.session_id != no_session) {
            remove(req.session_id);
        }
        out.mode =
            req.session_epoch == initial_epoch ? context::kind::full : context::kind::sessionless;
        return out;
    }
    auto it = sessions_.find(req.session_id);
    if (it == sessions_.end()) {
        out.error = model::kafka_error::fetch_session_id_not_found;
        return out;
    }
    std::shared_ptr<session> s = it->second;
    if (s->epoch_ != req.session_epoch) {
        out.error = model::kafka_error::invalid_fetch_session_epoch;
        return out;
    }
    const std::size_t before_size = s->size();
    s->update(req);
    partitions_ = partitions_ - before_size + s->size();
    if (s->size() == 0 || partitions_ > config_.max_partitions) {
        // Emptied (or past the bound): closed, and the request is answered on its own.
        remove(s->id());
        return out;
    }
    s->epoch_ = next_epoch(s->epoch_);
    s->last_used_ = now;
    out.mode = context::kind::incremental;
    out.incremental = std::move(s);
    return out;
}

std::int32_t session_cache::create(const fetch_request& req, const protocol::fetch_response& r,
                                   bool privileged, clock::time_point now) {
    std::size_t size = 0;
    for (const auto& t : req.topics) {
        size += t.partitions.size();
    }
    if (size == 0 || config_.max_slots == 0 || partitions_ + size > config_.max_partitions ||
        !make_room(privileged, size, now)) {
        return no_session;
    }
    auto s = std::make_shared<session>(new_id(), privileged, now);
    s->partitions_.reserve(size);
    for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) {
            s->partitions_.push_back(
                session_partition{{t.topic, p.partition}, partition_fetch::of(p)});
        }
    }
    std::stable_sort(s->partitions_.begin(), s->partitions_.end(), by_partition);
    keep_last_of_each(s->partitions_);
    s->answered(r);
    s->start_ = 0;
    partitions_ += s->size();
    std::int32_t id = s->id();
    sessions_.emplace(id, std::move(s));
    return id;
}

// Kafka's FetchSessionCache.tryEvict, on a linear scan (sessions are few and created
// rarely).
bool session_cache::make_room(bool privileged, std::size_t size, clock::time_point now) {
    if (sessions_.size() < config_.max_slots) {
        return true;
    }
    const session* lru = nullptr;
    const session* cheapest = nullptr;
    auto value = [](const session& s) { return std::tuple(s.privileged(), s.size(), s.id()); };
    for (const auto& [id, s] : sessions_) {
        if (lru == nullptr || s->last_used() < lru->last_used()) {
            lru = s.get();
        }
        bool old = now - s->created() > config_.eviction;
        bool evictable = old || (privileged && !s->privileged());
        if (evictable && (cheapest == nullptr || value(*s) < value(*cheapest))) {
            cheapest = s.get();
        }
    }
    const session* victim = nullptr;
    if (lru != nullptr && now - lru->last_used() > config_.eviction) {
        victim = lru;
    } else if (cheapest != nullptr &&
               std::tuple(privileged, size, std::int32_t{0}) >= value(*cheapest)) {
        victim = cheapest;
    }
    if (victim == nullptr) {
        return false;
    }
    remove(victim->id());
    ++evictions_;
    return true;
}

std::shared_ptr<const session> session_cache::find(std::int32_t id) const {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second;
}

void session_cache::expire(clock::time_point now) {
    if (now - expired_at_ < config_.eviction / 4) {
        return;
    }
    expired_at_ = now;
    std::erase_if(sessions_, [&](const auto& entry) {
        bool stale = now - entry.second->last_used() > config_.eviction;
        if (stale) {
            partitions_ -= entry.second->size();
        }
        return stale;
    });
}

void session_cache::remove(std::int32_t id) {
    auto it = sessions_.find(id);
    if (it != sessions_.end()) {
        partitions_ -= it->second->size();
        sessions_.erase(it);
    }
}

std::int32_t session_cache::new_id() {
    std::uniform_int_distribution<std::int32_t> ids(1, std::numeric_limits<std::int32_t>::max());
    while (true) {
        std::int32_t id = ids(random_);
        if (!sessions_.contains(id)) {
            return id;
        }
    }
}

}  // namespace gregor::fetch
