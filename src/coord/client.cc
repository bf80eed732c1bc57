#include "coord/client.h"

namespace gregor::coord {

std::size_t multi_response::failed_index() const {
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].error && results[i].error != errc::runtime_inconsistency) {
            return i;
        }
    }
    return results.size();
}

}  // namespace gregor::coord
