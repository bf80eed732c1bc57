#include "broker/properties.h"

#include "broker/errc.h"

#include <fmt/format.h>

#include <cctype>

namespace gregor::broker {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\f';
}

std::string_view trim_left(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) {
        s.remove_prefix(1);
    }
    return s;
}

// Appends the UTF-8 encoding of a \uXXXX code unit (BMP only, as Java properties).
void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes escapes of a key or value. Returns false iff a \u escape is malformed.
bool unescape(std::string_view in, std::string& out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c != '\\' || i + 1 == in.size()) {
            out += c;
            continue;
        }
        char e = in[++i];
        switch (e) {
            case 't':
                out += '\t';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 'f':
                out += '\f';
                break;
            case 'u': {
                if (i + 4 >= in.size()) {
                    return false;
                }
                unsigned cp = 0;
                for (int k = 1; k <= 4; ++k) {
                    char h = in[i + static_cast<std::size_t>(k)];
                    int d = std::isxdigit(static_cast<unsigned char>(h)) == 0 ? -1
                            : h <= '9'                                        ? h - '0'
                                       : (h | 0x20) - 'a' + 10;
                    if (d < 0) {
                        return false;
                    }
                    cp = cp * 16 + static_cast<unsigned>(d);
                }
                append_utf8(out, cp);
                i += 4;
                break;
            }
            default:
                out += e;
                break;  // \\ \= \: \# \! and any other: the character itself
        }
    }
    return true;
}

// Splits a logical line into its raw key and raw value at the first unescaped separator.
std::pair<std::string_view, std::string_view> split_line(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size()) {
        char c = line[i];
        if (c == '\\') {
            i += 2;
            continue;
        }
        if (c == '=' || c == ':' || is_blank(c)) {
            break;
        }
        ++i;
    }
    std::string_view key = line.substr(0, std::min(i, line.size()));
    std::string_view rest = i < line.size() ? trim_left(line.substr(i)) : std::string_view{};
    if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) {
        rest = trim_left(rest.substr(1));
    }
    return {key, rest};
}

// Returns true iff the line ends in an odd number of backslashes (a continuation).
bool continues(std::string_view line) {
    std::size_t n = 0;
    while (n < line.size() && line[line.size() - 1 - n] == '\\') {
        ++n;
    }
    return n % 2 == 1;
}

std::string_view strip_cr(std::string_view line) {
    return !line.empty() && line.back() == '\r' ? line.substr(0, line.size() - 1) : line;
}

}  // namespace

result<std::vector<property>> parse_properties(std::string_view text) {
    std::vector<property> out;
    int line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::string logical;
        int first_line = line_no + 1;
        bool more = true;
        while (more && pos <= text.size()) {
            std::size_t end = text.find('\n', pos);
            std::string_view line = strip_cr(text.substr(
                pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
            pos = end == std::string_view::npos ? text.size() + 1 : end + 1;
            ++line_no;
            line = trim_left(line);  // continuation lines lose their indent too
            if (logical.empty() && (line.empty() || line.front() == '#' || line.front() == '!')) {
                first_line = line_no + 1;
                continue;
            }
            more = continues(line);
            logical.append(more ? line.substr(0, line.size() - 1) : line);
        }
        if (logical.empty()) {
            continue;
        }
        auto [raw_key, raw_value] = split_line(logical);
        property p;
        p.line = first_line;
        if (!unescape(raw_key, p.key) || !unescape(raw_value, p.value)) {
            return error(errc::config_syntax,
                         fmt::format("line {}: malformed \\u escape", first_line));
        }
        while (!p.value.empty() && is_blank(p.value.back())) {
            p.value.pop_back();
        }
        out.push_back(std::move(p));
    }
    return out;
}

result<property> parse_override(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return error(errc::config_syntax, fmt::format("--set expects key=value, got '{}'", text));
    }
    property p;
    p.key = std::string(text.substr(0, eq));
    p.value = std::string(text.substr(eq + 1));
    return p;
}

}  // namespace gregor::broker
