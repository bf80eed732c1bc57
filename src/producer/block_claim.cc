#include "producer/block_claim.h"

#include "base/assert.h"
#include "coord/errc.h"
#include "coord/znode_paths.h"
#include "producer/errc.h"

#include <fmt/format.h>

#include <limits>
#include <string>

namespace gregor::producer {
namespace {

std::string block_path() {
    return std::string(coord::paths::latest_producer_id_block);
}

coord::producer_id_block first_block(model::node_id self) {
    return {self, model::producer_id{0}, model::producer_id{block_size - 1}};
}

}  // namespace

result<coord::producer_id_block> next_block_after(std::string_view current, model::node_id self) {
    if (current.empty()) {
        return first_block(self);
    }
    auto latest = coord::decode_producer_id_block(current);
    if (!latest) {
        return latest.err();
    }
    constexpr std::int64_t end_max = std::numeric_limits<std::int64_t>::max() - block_size;
    if (latest->block_end() > end_max) {
        return error(errc::ids_exhausted,
                     fmt::format("/latest_producer_id_block ends at {}, above {}",
                                 latest->block_end(), end_max));
    }
    model::producer_id start = latest->block_end + 1;
    return coord::producer_id_block{self, start, start + (block_size - 1)};
}

block_claimer::block_claimer(coord::client& zk, model::node_id self) : zk_(zk), self_(self) {}

block_claimer::~block_claimer() = default;

template <class T, class F>
coord::callback<T> block_claimer::guard(F f) {
    return [weak = std::weak_ptr<int>(alive_), claim_no = claim_no_, this,
            f = std::move(f)](result<T> r) mutable {
        if (weak.expired() || claim_no != claim_no_ || !done_) {
            return;  // destroyed, cancelled, or a newer claim
        }
        f(std::move(r));
    };
}

void block_claimer::claim(done_fn done) {
    GREGOR_ASSERT(!in_flight(), "a producer id block claim is already in flight");
    GREGOR_ASSERT(static_cast<bool>(done), "claim needs a completion");
    done_ = std::move(done);
    ++claim_no_;
    read(0);
}

void block_claimer::cancel() {
    done_ = nullptr;
    ++claim_no_;
}

void block_claimer::read(int attempt) {
    zk_.get(block_path(), {}, guard<coord::node_data>([this, attempt](auto r) {
                if (!r) {
                    if (r.code() == coord::errc::no_node) {
                        create_first(attempt);
                        return;
                    }
                    finish(r.err());
                    return;
                }
                auto next = next_block_after(r->data, self_);
                if (!next) {
                    finish(next.err());
                    return;
                }
                write(*next, r->stat.version, attempt);
            }));
}

void block_claimer::create_first(int attempt) {
    coord::producer_id_block block = first_block(self_);
    zk_.create(block_path(), coord::encode_producer_id_block(block), coord::create_mode::persistent,
               guard<std::string>([this, attempt, block](auto r) {
                   if (r) {
                       finish(ids_of(block));
                   } else if (r.code() == coord::errc::node_exists) {
                       lost_race(attempt);
                   } else {
                       finish(r.err());
                   }
               }));
}

void block_claimer::write(const coord::producer_id_block& block, model::zk_version version,
                          int attempt) {
    zk_.set(block_path(), coord::encode_producer_id_block(block), version,
            guard<coord::znode_stat>([this, attempt, block](auto r) {
                if (r) {
                    finish(ids_of(block));
                } else if (r.code() == coord::errc::bad_version) {
                    lost_race(attempt);
                } else {
                    finish(r.err());
                }
            }));
}

void block_claimer::lost_race(int attempt) {
    if (attempt + 1 >= cas_attempts_max) {
        finish(error(errc::claim_contended,
                     fmt::format("{} compare-and-set rounds lost", cas_attempts_max)));
        return;
    }
    read(attempt + 1);
}

void block_claimer::finish(result<id_block> r) {
    done_fn done = std::move(done_);
    done_ = nullptr;
    ++claim_no_;
    done(std::move(r));
}

}  // namespace gregor::producer
