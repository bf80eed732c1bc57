// loop_affinity: remembers the thread that created an object and asserts that state-mutating
// calls come from it. In gregor one thread creates the io_context's objects and runs the loop,
// so "the creating thread" is "the loop thread". Cheap enough for every entry point.
#pragma once

#include "base/assert.h"

#include <thread>

namespace gregor::net {

class loop_affinity {
public:
    void assert_on_loop() const {
        GREGOR_ASSERT(std::this_thread::get_id() == owner_,
                      "net object used off its event-loop thread");
    }

private:
    std::thread::id owner_ = std::this_thread::get_id();
};

}  // namespace gregor::net
