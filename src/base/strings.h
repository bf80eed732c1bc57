#pragma once
// Small text helpers shared by the config parsers.

#include <string_view>
#include <vector>

namespace gregor {

// `text` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r).
constexpr std::string_view trim(std::string_view text) {
    constexpr std::string_view blanks = " \t\n\v\f\r";
    auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

// The pieces of `text` between `sep`s, untrimmed; one empty piece for empty text.
inline std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        auto at = text.find(sep);
        out.push_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(at + 1);
    }
}

}  // namespace gregor
