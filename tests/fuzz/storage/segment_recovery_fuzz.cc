// Fuzz target: a partition directory whose first segment file holds arbitrary bytes (and
// whose index files hold other arbitrary bytes) is opened after an unclean shutdown.
// Recovery must keep a valid prefix and truncate the rest without crashing, hanging or
// allocating without bound; the recovered log must then read back and take appends.
// Input layout: [1 byte flags][2 bytes index length][index bytes][segment bytes].
#include "base/log.h"
#include "storage/io_worker.h"
#include "storage/log.h"
#include "storage/memory_file_system.h"
#include "storage/names.h"

#include <cstddef>
#include <cstdint>

using namespace gregor;
using namespace gregor::storage;

namespace {

void write(memory_file_system& fs, const std::string& path, bytes_view data) {
    auto f = fs.open(path, open_mode::create);
    if (f) {
        ignore_error((*f)->write_at(0, data), "fuzz setup");
    }
}

void exercise(storage::log& l) {
    auto next = l.log_start_offset();
    while (next < l.log_end_offset()) {
        auto r = l.read(next, 4096, l.log_end_offset());
        if (!r || r->slice.length == 0) {
            break;
        }
        next = r->next_offset;
    }
    ignore_error(l.find_by_timestamp(model::timestamp_ms(0)), "fuzz");
    ignore_error(l.truncate_to(model::offset(l.log_end_offset()() / 2)), "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool quiet = log_set_level("off");
    (void)quiet;
    if (size < 3) {
        return 0;
    }
    bytes_view in(data, size);
    auto flags = in[0];
    std::size_t index_len = (std::size_t{in[1]} << 8 | in[2]) % (in.size() - 2);
    auto index_bytes = in.subspan(3, std::min(index_len, in.size() - 3));
    auto segment_bytes = in.subspan(3 + index_bytes.size());
    memory_file_system fs;
    manual_executor exec;
    io_worker worker(io_worker::mode::manual);
    const std::string dir = "/f/t-0";
    ignore_error(fs.create_dirs(dir), "fuzz setup");
    write(fs, dir + "/" + segment_file_name(model::offset(0), segment_file_kind::log),
          segment_bytes);
    if ((flags & 1) != 0) {
        write(fs, dir + "/" + segment_file_name(model::offset(0), segment_file_kind::index),
              index_bytes);
    }
    log_config cfg;
    cfg.segment_index_bytes = 4096;
    log_open_state st;
    st.clean_shutdown = (flags & 2) != 0;
    auto l = storage::log::open(log_context{&fs, &worker, exec.get(), {}, {}, {}}, dir,
                                {"t", model::partition_id(0)}, cfg, st, model::timestamp_ms(0));
    if (!l) {
        return 0;
    }
    exercise(**l);
    return 0;
}
