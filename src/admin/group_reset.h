// The plan of `gregor groups reset-offsets`: which offset each partition of a group moves
// to, as kafka-consumer-groups.sh --reset-offsets computes it (KIP-122). Pure functions; the
// command gathers the offsets (OffsetFetch, ListOffsets) and commits the plan.
//
// Per mode, for each selected partition:
//   --to-earliest   the log start offset
//   --to-latest     the log end offset
//   --to-current    the committed offset; the log end offset where none is committed
//   --to-offset N   N, clamped to [log start, log end]
//   --shift-by N    committed + N, clamped; a partition without a committed offset is an error
//   --to-datetime / --by-duration
//                   the first offset whose timestamp is at or after the time (ListOffsets
//                   with a timestamp); the log end offset where no record is that recent
#pragma once

#include "admin/group_model.h"
#include "admin/group_options.h"
#include "base/result.h"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace gregor::admin {

enum class reset_mode { earliest, latest, current, offset, shift_by, timestamp };

struct reset_spec {
    reset_mode mode = reset_mode::earliest;
    std::int64_t value = 0;  // the offset, the shift, or the timestamp in ms since the epoch
};

// The mode the options ask for; --to-datetime and --by-duration become a timestamp (the
// latter relative to `now_ms`). errc::bad_usage when none or a malformed one is given.
result<reset_spec> reset_spec_of(const groups_reset_options& o, std::int64_t now_ms);

// "YYYY-MM-DDTHH:mm:SS[.sss]" in local time, or with a "Z" / "+hh:mm" / "-hhmm" suffix;
// returns ms since the epoch. errc::bad_usage otherwise.
result<std::int64_t> parse_datetime_ms(std::string_view text);
// An ISO-8601 duration "PnDTnHnMn.nS" (days, hours, minutes, seconds; any may be left
// out but one must be there; no sign), in ms. errc::bad_usage otherwise.
result<std::int64_t> parse_duration_ms(std::string_view text);

// What the cluster knows of one partition when the plan is made.
struct partition_offsets {
    topic_partition partition;
    std::optional<std::int64_t> committed;  // the group's committed offset
    std::int64_t earliest = 0;              // log start offset
    std::int64_t latest = 0;                // log end offset
    std::optional<std::int64_t> at_time;    // first offset at/after the spec's timestamp
};

// The new offset of every partition in `parts` (same order), or errc::bad_usage naming a
// partition --shift-by cannot move (no committed offset).
result<std::vector<planned_offset>> plan_reset(const reset_spec& spec,
                                               const std::vector<partition_offsets>& parts);

}  // namespace gregor::admin
