// Kafka's on-disk names: partition directories `<topic>-<partition>`, segment files named
// by their 20-digit zero-padded base offset (`00000000000000000000.log`, `.index`,
// `.timeindex`) and producer-state snapshots (`.snapshot`), the `.deleted` suffix of segments
// awaiting removal, the cleaner's `.cleaned` and `.swap` suffixes, the `-delete` suffix of
// partition directories awaiting removal, and the per-dir checkpoint file names. Pure
// functions; any thread.
#pragma once

#include "model/fundamental.h"

#include <optional>
#include <string>
#include <string_view>

namespace gregor::storage {

inline constexpr std::string_view log_suffix = ".log";
inline constexpr std::string_view index_suffix = ".index";
inline constexpr std::string_view time_index_suffix = ".timeindex";
inline constexpr std::string_view deleted_suffix = ".deleted";
// The log cleaner's output while it is written, then while it replaces the old segments.
inline constexpr std::string_view cleaned_suffix = ".cleaned";
inline constexpr std::string_view swap_suffix = ".swap";
inline constexpr std::string_view tmp_suffix = ".tmp";
inline constexpr std::string_view dir_delete_suffix = "-delete";
inline constexpr std::string_view snapshot_suffix = ".snapshot";

inline constexpr std::string_view recovery_point_checkpoint_name =
    "recovery-point-offset-checkpoint";
inline constexpr std::string_view replication_offset_checkpoint_name =
    "replication-offset-checkpoint";
inline constexpr std::string_view log_start_offset_checkpoint_name = "log-start-offset-checkpoint";
inline constexpr std::string_view leader_epoch_checkpoint_name = "leader-epoch-checkpoint";
inline constexpr std::string_view clean_shutdown_marker_name = ".kafka_cleanshutdown";

enum class segment_file_kind { log, index, time_index };

// "00000000000000000042" for offset 42. REQUIRES: base >= 0.
std::string format_base_offset(model::offset base);
// The file name of a segment file, e.g. "00000000000000000042.index".
std::string segment_file_name(model::offset base, segment_file_kind kind);

struct parsed_segment_name {
    model::offset base;
    segment_file_kind kind;
    bool deleted = false;  // ends with ".deleted"
    bool cleaned = false;  // ends with ".cleaned"
    bool swap = false;     // ends with ".swap"
    bool plain() const { return !deleted && !cleaned && !swap; }
};
// Parses a segment file name; nullopt for anything else (temp files, checkpoints).
std::optional<parsed_segment_name> parse_segment_file_name(std::string_view name);

// "00000000000000000042.snapshot" for offset 42. REQUIRES: end >= 0.
std::string snapshot_file_name(model::offset end);
// The offset of a producer-state snapshot file name; nullopt for anything else.
std::optional<model::offset> parse_snapshot_file_name(std::string_view name);

// "orders-3" for {orders, 3}.
std::string partition_dir_name(const model::topic_partition& tp);
// Parses "<topic>-<partition>" (the topic may itself contain '-': the last one splits).
// nullopt when the name is not a partition directory (or is one awaiting deletion).
std::optional<model::topic_partition> parse_partition_dir_name(std::string_view name);

}  // namespace gregor::storage
