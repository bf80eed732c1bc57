// The group workload's takeover mode: placeholder until it is written.
#include "bench/errc.h"
#include "bench/group.h"

namespace gregor::bench {

result<report> run_group_takeover(const options& o) {
    (void)o;
    return error(errc::bad_argument, "--takeover is not built yet");
}

}  // namespace gregor::bench
