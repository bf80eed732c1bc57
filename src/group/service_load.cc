// group_service: loading and unloading `__consumer_offsets` partitions.
#include "base/assert.h"
#include "group/loader.h"
#include "group/logger.h"
#include "group/service.h"
#include "protocol/errc.h"

namespace gregor::group {

void group_service::became_leader(model::partition_id p, model::leader_epoch epoch) {
    if (stopped_ || !coordinator_.begin_load(p, epoch)) {
        return;
    }
    loading_[p] = epoch;
    asio::co_spawn(ioc_, load(p, epoch), asio::detached);
}

void group_service::resigned(model::partition_id p, std::optional<model::leader_epoch> epoch) {
    if (auto it = loading_.find(p); it != loading_.end() && (!epoch || !(*epoch < it->second))) {
        loading_.erase(it);  // the running load notices and gives up
    }
    effects out = coordinator_.unload(p, epoch, now_());
    if (coordinator_.status(p) == partition_status::not_owned) {
        stores_.erase(p);
    }
    run(std::move(out));
}

namespace {

// The groups the state machine takes over from a load: every group record, and an Empty
// group for offsets without one.
std::vector<loaded_group> loaded_groups(load_result& r) {
    std::vector<loaded_group> out;
    out.reserve(r.groups.size());
    for (auto& [id, value] : r.groups) {
        out.push_back({id, std::move(value)});
    }
    for (std::string& id : r.offsets_only_groups()) {
        out.push_back({std::move(id), std::nullopt});
    }
    return out;
}

}  // namespace

// Replays the partition from its log start to its log end offset, one chunk at a time,
// yielding to the loop between chunks; gives up when the partition was resigned meanwhile.
asio::awaitable<void> group_service::load(model::partition_id p, model::leader_epoch epoch) {
    auto alive = alive_;
    auto still_loading = [&] {
        auto it = loading_.find(p);
        return *alive && it != loading_.end() && it->second == epoch;
    };
    offsets_loader loader(config_.offsets, config_.load_batch_bytes_max,
                          config_.load_decompressed_bytes_max);
    auto start = log_.log_start_offset(p);
    std::optional<gregor::error> failed;
    if (!start) {
        failed = start.err();
    }
    model::offset from = start ? *start : model::offset{0};
    while (!failed && still_loading()) {
        auto chunk = log_.read(p, loader.next_offset() < from ? from : loader.next_offset(),
                               config_.load_buffer_bytes);
        if (!chunk) {
            failed = chunk.err();
            break;
        }
        if (chunk->data.empty()) {
            break;  // the log end offset
        }
        auto fed = loader.feed(chunk->data);
        if (!fed || *fed == 0) {
            failed = fed ? gregor::error(protocol::errc::bad_length, "a batch larger than its read")
                         : fed.err();
            break;
        }
        from = loader.next_offset();
        co_await asio::post(ioc_, asio::use_awaitable);  // let requests in between chunks
    }
    if (!still_loading()) {
        co_return;
    }
    loading_.erase(p);
    load_result r = std::move(loader).finish();
    if (failed || r.error) {
        // Kafka logs and serves what it read; so does this.
        GREGOR_LOG(group_log, err, "__consumer_offsets-{}: load stopped at offset {}: {}", p,
                   r.next_offset, (failed ? *failed : *r.error).to_string());
    }
    GREGOR_LOG(group_log, info,
               "__consumer_offsets-{}: loaded in epoch {}: {} groups, {} offsets, {} batches, "
               "{} corrupt records skipped",
               p, epoch, r.groups.size(), r.offsets.committed_count(), r.stats.batches,
               r.stats.corrupt_records);
    std::vector<loaded_group> groups = loaded_groups(r);
    stores_.insert_or_assign(p, std::move(r.offsets));
    ++store_generations_[p];
    run(coordinator_.complete_load(p, epoch, std::move(groups), now_()));
}

}  // namespace gregor::group
