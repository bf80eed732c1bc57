// Forward declarations of the storage module's main types, for headers that only pass
// them around.
#pragma once

namespace gregor::storage {

class file;
class file_system;
class io_worker;
class leader_epoch_cache;
class log;
class log_manager;
class producer_state;
class segment;
struct log_config;
struct file_slice;
struct producer_entry;

}  // namespace gregor::storage
