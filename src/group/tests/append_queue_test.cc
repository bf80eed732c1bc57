// Goal: the group service's appends to `__consumer_offsets` are coalesced per partition while
// one waits (group commit) without changing what any caller sees: each hears its own
// batch's offset, in call order, errors reach every caller of a round, order across
// acks=0 and acks=all appends is kept, rounds respect their byte bound, and a caller that
// appends again from its callback is not overtaken.
// Method: append_queue over a recording offsets_log whose appends the test completes.
#include "group/append_queue.h"

#include "model/record_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gregor::group {
namespace {

using namespace std::chrono_literals;
using model::kafka_error;

// A batch header alone claiming `records` offsets, tagged by `tag` in its CRC field.
bytes batch_of(int records, std::uint8_t tag, std::size_t size = model::batch_header_bytes) {
    bytes b(size, 0);
    auto delta = static_cast<std::uint32_t>(records - 1);
    for (int i = 0; i < 4; ++i) {
        b[23 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(delta >> (8 * (3 - i)));
    }
    b[17] = tag;
    return b;
}

struct recording_log final : offsets_log {
    struct call {
        model::partition_id p;
        bytes data;
        bool wait = false;
        std::chrono::milliseconds timeout{0};
        append_done done;
    };
    std::vector<call> calls;
    std::int64_t log_end = 100;

    void append(model::partition_id p, bytes batch, bool wait_for_isr,
                std::chrono::milliseconds timeout, append_done done) override {
        calls.push_back({p, std::move(batch), wait_for_isr, timeout, std::move(done)});
    }
    result<chunk> read(model::partition_id, model::offset, std::size_t) override { return chunk{}; }
    result<model::offset> log_start_offset(model::partition_id) override {
        return model::offset(0);
    }
    // Completes call `i` as the log would: offsets from the log end, or `error`.
    void complete(std::size_t i, kafka_error error = kafka_error::none) {
        auto& c = calls.at(i);
        if (error != kafka_error::none) {
            c.done({error, model::no_offset});
            return;
        }
        std::int64_t n = 0;
        for (std::size_t at = 0; at < c.data.size();) {
            std::uint32_t delta = 0;
            for (std::size_t k = 23; k < 27; ++k) {
                delta = (delta << 8) | c.data[at + k];
            }
            n += static_cast<std::int64_t>(delta) + 1;
            at += model::batch_header_bytes;
        }
        auto base = log_end;
        log_end += n;
        c.done({kafka_error::none, model::offset(base)});
    }
    std::vector<std::uint8_t> tags(std::size_t i) const {
        std::vector<std::uint8_t> out;
        for (std::size_t at = 0; at < calls.at(i).data.size(); at += model::batch_header_bytes) {
            out.push_back(calls.at(i).data[at + 17]);
        }
        return out;
    }
};

const model::partition_id p0{0};
const model::partition_id p1{1};

TEST(append_queue, appends_waiting_behind_one_go_out_as_one_round_and_each_hears_its_offset) {
    recording_log log;
    append_queue q(log);
    std::vector<std::int64_t> heard(4, -1);
    auto record = [&](int i) {
        return [&heard, i](offsets_log::appended r) {
            heard[static_cast<std::size_t>(i)] = r.base_offset();
        };
    };
    q.append(p0, batch_of(1, 1), true, 5000ms, record(0));
    ASSERT_EQ(log.calls.size(), 1U) << "an idle partition's append goes out at once";
    q.append(p0, batch_of(3, 2), true, 5000ms, record(1));
    q.append(p0, batch_of(2, 3), false, 100ms, record(2));
    q.append(p1, batch_of(1, 4), true, 5000ms, record(3));
    ASSERT_EQ(log.calls.size(), 2U) << "p0 waits for its round; p1 is independent";
    log.complete(0);
    EXPECT_EQ(heard[0], 100);
    ASSERT_EQ(log.calls.size(), 3U);
    EXPECT_EQ(log.tags(2), (std::vector<std::uint8_t>{2, 3})) << "both queued, in call order";
    EXPECT_TRUE(log.calls[2].wait) << "one of them asked for the ISR";
    EXPECT_EQ(log.calls[2].timeout, 5000ms);
    log.complete(2);
    EXPECT_EQ(heard[1], 101);
    EXPECT_EQ(heard[2], 104) << "after the 3 offsets of the batch before it";
    EXPECT_EQ(q.rounds(), 3U);
    EXPECT_EQ(q.batches(), 4U);
}

TEST(append_queue, a_failed_round_fails_every_caller_and_the_next_round_still_goes) {
    recording_log log;
    append_queue q(log);
    std::vector<kafka_error> heard;
    auto record = [&](offsets_log::appended r) {
        heard.push_back(r.error);
        EXPECT_EQ(r.error == kafka_error::none, r.base_offset() >= 0);
    };
    q.append(p0, batch_of(1, 1), true, 1000ms, record);
    q.append(p0, batch_of(1, 2), true, 1000ms, record);
    q.append(p0, batch_of(1, 3), true, 1000ms, record);
    log.complete(0, kafka_error::not_leader_or_follower);
    ASSERT_EQ(log.calls.size(), 2U);
    log.complete(1, kafka_error::request_timed_out);
    EXPECT_EQ(heard, (std::vector<kafka_error>{kafka_error::not_leader_or_follower,
                                               kafka_error::request_timed_out,
                                               kafka_error::request_timed_out}));
    q.append(p0, batch_of(1, 4), true, 1000ms, record);
    EXPECT_EQ(log.calls.size(), 3U) << "the partition is idle again";
}

TEST(append_queue, rounds_stay_within_their_byte_bound) {
    recording_log log;
    append_queue q(log, 3 * model::batch_header_bytes);
    auto ignore = [](offsets_log::appended) {};
    q.append(p0, batch_of(1, 1), true, 1000ms, ignore);
    for (std::uint8_t t = 2; t <= 6; ++t) {
        q.append(p0, batch_of(1, t), true, 1000ms, ignore);
    }
    log.complete(0);
    EXPECT_EQ(log.tags(1), (std::vector<std::uint8_t>{2, 3, 4}));
    log.complete(1);
    EXPECT_EQ(log.tags(2), (std::vector<std::uint8_t>{5, 6}));
    append_queue big(log, 10);
    big.append(p1, batch_of(1, 7), true, 1000ms, ignore);
    EXPECT_EQ(log.tags(3), (std::vector<std::uint8_t>{7})) << "one batch always goes";
}

TEST(append_queue, an_append_from_a_callback_waits_for_the_rest_of_its_round) {
    recording_log log;
    append_queue q(log);
    std::vector<int> order;
    q.append(p0, batch_of(1, 1), true, 1000ms, [&](offsets_log::appended) {
        order.push_back(1);
        q.append(p0, batch_of(1, 9), true, 1000ms,
                 [&](offsets_log::appended) { order.push_back(9); });
    });
    q.append(p0, batch_of(1, 2), true, 1000ms, [&](offsets_log::appended) { order.push_back(2); });
    log.complete(0);
    ASSERT_EQ(log.calls.size(), 2U);
    EXPECT_EQ(log.tags(1), (std::vector<std::uint8_t>{2, 9}))
        << "the callback's append joins the next round behind the one queued before it";
    log.complete(1);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 9}));
}

}  // namespace
}  // namespace gregor::group
