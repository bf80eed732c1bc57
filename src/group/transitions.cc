#include "group/transitions.h"

#include <algorithm>
#include <cctype>

namespace gregor::group {

std::optional<group_state> group_state_from_name(std::string_view name) {
    for (auto s : {group_state::empty, group_state::preparing_rebalance,
                   group_state::completing_rebalance, group_state::stable, group_state::dead}) {
        std::string_view wire = to_string(s);
        bool same = wire.size() == name.size() &&
                    std::equal(wire.begin(), wire.end(), name.begin(), [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) ==
                               std::tolower(static_cast<unsigned char>(b));
                    });
        if (same) {
            return s;
        }
    }
    return std::nullopt;
}

}  // namespace gregor::group
