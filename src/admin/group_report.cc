#include "admin/group_report.h"

#include "admin/errc.h"
#include "model/kafka_error.h"
#include "protocol/messages/consumer_protocol.h"
#include "protocol/reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace gregor::admin {
namespace {

using ojson = nlohmann::ordered_json;
using model::to_wire;

constexpr std::string_view missing = "-";  // Kafka's value of an empty cell

// A text table: each column as wide as its widest cell or its minimum, one space
// apart, the last column unpadded (kafka-consumer-groups.sh's layout).
class table {
public:
    struct column {
        std::string header;
        std::size_t width_min;
    };
    explicit table(std::vector<column> columns) : columns_(std::move(columns)) {}

    void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

    std::string render() const {
        std::vector<std::size_t> widths;
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            std::size_t w = std::max(columns_[c].width_min, columns_[c].header.size());
            for (const auto& r : rows_) {
                w = std::max(w, r[c].size());
            }
            widths.push_back(w);
        }
        std::vector<std::string> headers;
        for (const auto& c : columns_) {
            headers.push_back(c.header);
        }
        std::string out = line(headers, widths);
        for (const auto& r : rows_) {
            out += line(r, widths);
        }
        return out;
    }

private:
    static std::string line(const std::vector<std::string>& cells,
                            const std::vector<std::size_t>& widths) {
        std::string out;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            out += c + 1 == cells.size() ? cells[c] : fmt::format("{:<{}} ", cells[c], widths[c]);
        }
        while (!out.empty() && out.back() == ' ') {
            out.pop_back();
        }
        return out + "\n";
    }

    std::vector<column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

std::string error_name_of(std::int16_t code) {
    auto info = model::kafka_error_lookup(code);
    return info ? std::string(info->name) : fmt::format("UNKNOWN_ERROR({})", code);
}

std::string cell(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string(missing);
}

// Kafka's note about a group's state before (or instead of) its table. Returns whether a
// table may follow (not for a missing group).
bool state_note(const group_report& g, std::string& err) {
    const auto& d = g.description;
    if (d.state == "Dead" || d.error_code == to_wire(model::kafka_error::group_id_not_found)) {
        err += fmt::format("\nError: Consumer group '{}' does not exist.\n", d.group);
        return false;
    }
    if (d.error_code != 0) {
        err += fmt::format("\nError: Consumer group '{}' could not be described: {}\n", d.group,
                           kafka_error_message(d.error_code));
        return false;
    }
    if (d.state == "Empty") {
        err += fmt::format("\nConsumer group '{}' has no active members.\n", d.group);
    } else if (d.state != "Stable") {
        err += fmt::format("\nWarning: Consumer group '{}' is rebalancing.\n", d.group);
    }
    return true;
}

// "t1(0,1),t2(3)", or "-" for no partitions.
std::string assignment_text(const std::vector<topic_partition>& parts) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        bool first_of_topic = i == 0 || parts[i - 1].topic != parts[i].topic;
        bool last_of_topic = i + 1 == parts.size() || parts[i + 1].topic != parts[i].topic;
        if (first_of_topic) {
            out += fmt::format("{}{}(", out.empty() ? "" : ",", parts[i].topic);
        }
        out += fmt::format("{}{}", first_of_topic ? "" : ",", parts[i].partition);
        if (last_of_topic) {
            out += ")";
        }
    }
    return out.empty() ? std::string(missing) : out;
}

ojson optional_json(const std::optional<std::int64_t>& v) {
    return v ? ojson(*v) : ojson(nullptr);
}

ojson member_json(const group_member& m) {
    ojson parts = ojson::array();
    for (const auto& p : m.assignment) {
        parts.push_back({{"topic", p.topic}, {"partition", p.partition}});
    }
    ojson j = {{"consumer_id", m.consumer_id},
               {"group_instance_id", m.instance_id ? ojson(*m.instance_id) : ojson(nullptr)},
               {"host", m.host},
               {"client_id", m.client_id},
               {"partitions", m.assignment.size()},
               {"assignment", parts}};
    if (!m.assignment_error.empty()) {
        j["assignment_error"] = m.assignment_error;
    }
    return j;
}

ojson offset_row_json(const offset_row& r) {
    auto text_or_null = [](const std::string& s) {
        return s == missing ? ojson(nullptr) : ojson(s);
    };
    return {{"topic", r.partition ? ojson(r.partition->topic) : ojson(nullptr)},
            {"partition", r.partition ? ojson(r.partition->partition) : ojson(nullptr)},
            {"current_offset", optional_json(r.current)},
            {"log_end_offset", optional_json(r.log_end)},
            {"lag", optional_json(r.lag)},
            {"consumer_id", text_or_null(r.consumer_id)},
            {"host", text_or_null(r.host)},
            {"client_id", text_or_null(r.client_id)}};
}

}  // namespace

std::string kafka_error_message(std::int16_t code) {
    auto info = model::kafka_error_lookup(code);
    if (!info) {
        return fmt::format("UNKNOWN_ERROR({})", code);
    }
    return info->message.empty() ? std::string(info->name) : std::string(info->message);
}

result<std::vector<topic_partition>> decode_assignment(std::span<const std::uint8_t> data) {
    using assignment = protocol::consumer_protocol_assignment;
    if (data.empty()) {
        return std::vector<topic_partition>{};
    }
    protocol::reader r(data);
    std::int16_t version = r.read_int16();
    if (!r.ok() || version < 0) {
        return error(errc::bad_response, r.ok()
                                             ? fmt::format("assignment version {}", version)
                                             : std::string("assignment shorter than its version"));
    }
    auto decoded = assignment::decode(r, std::min(version, assignment::version_max));
    if (!decoded) {
        return error(errc::bad_response,
                     fmt::format("assignment v{}: {}", version, decoded.err().to_string()));
    }
    std::vector<topic_partition> out;
    for (const auto& t : decoded->assigned_partitions) {
        for (auto p : t.partitions) {
            out.push_back({t.topic, p.value()});
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

group_description describe_view(const protocol::describe_groups_response::described_group& g,
                                const coordinator_info& coordinator) {
    group_description d;
    d.group = g.group_id;
    d.error_code = g.error_code;
    d.state = g.group_state;
    d.protocol_type = g.protocol_type;
    d.protocol = g.protocol_data;
    d.coordinator = coordinator;
    for (const auto& m : g.members) {
        group_member gm;
        gm.consumer_id = m.member_id;
        gm.instance_id = m.group_instance_id;
        gm.client_id = m.client_id;
        gm.host = m.client_host;
        if (g.protocol_type == consumer_protocol_type) {
            auto parts = decode_assignment(m.member_assignment);
            if (parts) {
                gm.assignment = std::move(*parts);
            } else {
                gm.assignment_error = parts.err().detail;
            }
        }
        d.members.push_back(std::move(gm));
    }
    return d;
}

std::vector<offset_row> offset_rows(const group_report& g) {
    auto log_end = [&](const topic_partition& p) -> std::optional<std::int64_t> {
        auto it = g.log_end.find(p);
        return it == g.log_end.end() ? std::nullopt : std::optional(it->second);
    };
    auto committed = [&](const topic_partition& p) -> std::optional<std::int64_t> {
        auto it = g.committed.find(p);
        return it == g.committed.end() || it->second < 0 ? std::nullopt : std::optional(it->second);
    };
    auto row_of = [&](const topic_partition& p) {
        offset_row r;
        r.partition = p;
        r.current = committed(p);
        r.log_end = log_end(p);
        if (r.current && r.log_end) {
            r.lag = *r.log_end - *r.current;
        }
        return r;
    };
    std::vector<const group_member*> members;
    for (const auto& m : g.description.members) {
        members.push_back(&m);
    }
    std::stable_sort(members.begin(), members.end(),
                     [](auto* a, auto* b) { return a->assignment.size() > b->assignment.size(); });
    std::vector<offset_row> out;
    std::set<topic_partition> assigned;
    for (const auto* m : members) {
        auto with_member = [&](offset_row r) {
            r.consumer_id = m->consumer_id;
            r.host = m->host;
            r.client_id = m->client_id;
            out.push_back(std::move(r));
        };
        for (const auto& p : m->assignment) {
            assigned.insert(p);
            with_member(row_of(p));
        }
        if (m->assignment.empty()) {
            with_member(offset_row{});
        }
    }
    for (const auto& [p, offset] : g.committed) {
        if (!assigned.contains(p)) {
            out.push_back(row_of(p));
        }
    }
    return out;
}

bool group_found(const group_report& g) {
    return g.description.error_code == 0 && g.description.state != "Dead";
}

rendered render_group_offsets(const group_report& g) {
    rendered r;
    auto rows = offset_rows(g);
    if (!state_note(g, r.err) || rows.empty()) {
        return r;
    }
    const auto& group = g.description.group;
    table t({{"GROUP", 15},
             {"TOPIC", 15},
             {"PARTITION", 10},
             {"CURRENT-OFFSET", 15},
             {"LOG-END-OFFSET", 15},
             {"LAG", 15},
             {"CONSUMER-ID", 15},
             {"HOST", 15},
             {"CLIENT-ID", 0}});
    for (const auto& row : rows) {
        t.add({group, row.partition ? row.partition->topic : std::string(missing),
               row.partition ? std::to_string(row.partition->partition) : std::string(missing),
               cell(row.current), cell(row.log_end), cell(row.lag), row.consumer_id, row.host,
               row.client_id});
    }
    r.out = "\n" + t.render();
    return r;
}

rendered render_group_members(const group_report& g, bool verbose) {
    rendered r;
    const auto& d = g.description;
    if (!state_note(g, r.err) || d.members.empty()) {
        return r;
    }
    std::vector<table::column> columns{
        {"GROUP", 15}, {"CONSUMER-ID", 15}, {"GROUP-INSTANCE-ID", 17},
        {"HOST", 15},  {"CLIENT-ID", 15},   {"#PARTITIONS", 15}};
    if (verbose) {
        columns.push_back({"ASSIGNMENT", 0});
    }
    table t(std::move(columns));
    for (const auto& m : d.members) {
        std::vector<std::string> cells{
            d.group, m.consumer_id, m.instance_id.value_or(std::string(missing)),
            m.host,  m.client_id,   std::to_string(m.assignment.size())};
        if (verbose) {
            cells.push_back(assignment_text(m.assignment));
        }
        t.add(std::move(cells));
    }
    r.out = "\n" + t.render();
    return r;
}

rendered render_group_state(const group_report& g) {
    rendered r;
    const auto& d = g.description;
    if (!state_note(g, r.err)) {
        return r;
    }
    auto coordinator =
        fmt::format("{}:{}  ({})", d.coordinator.host, d.coordinator.port, d.coordinator.id);
    table t({{"GROUP", 15},
             {"COORDINATOR (ID)", 25},
             {"ASSIGNMENT-STRATEGY", 20},
             {"STATE", 20},
             {"#MEMBERS", 0}});
    t.add({d.group, coordinator, d.protocol, d.state, std::to_string(d.members.size())});
    r.out = "\n" + t.render();
    return r;
}

std::string render_group_describe_json(const std::vector<group_report>& groups) {
    ojson out = ojson::array();
    for (const auto& g : groups) {
        const auto& d = g.description;
        ojson members = ojson::array();
        for (const auto& m : d.members) {
            members.push_back(member_json(m));
        }
        ojson offsets = ojson::array();
        for (const auto& row : offset_rows(g)) {
            offsets.push_back(offset_row_json(row));
        }
        ojson j = {{"group", d.group},
                   {"exists", d.error_code == 0 ? ojson(d.state != "Dead") : ojson(nullptr)},
                   {"state", d.state},
                   {"protocol_type", d.protocol_type},
                   {"assignment_strategy", d.protocol},
                   {"coordinator",
                    {{"id", d.coordinator.id},
                     {"host", d.coordinator.host},
                     {"port", d.coordinator.port}}},
                   {"members", members},
                   {"offsets", offsets}};
        if (d.error_code != 0) {
            j["error"] = error_name_of(d.error_code);
            j["message"] = kafka_error_message(d.error_code);
        }
        out.push_back(std::move(j));
    }
    return out.dump() + "\n";
}

std::string render_group_list(std::vector<listed_group> groups, bool with_state, output_format f) {
    std::sort(groups.begin(), groups.end(),
              [](const auto& a, const auto& b) { return a.group < b.group; });
    if (f == output_format::json) {
        ojson out = ojson::array();
        for (const auto& g : groups) {
            out.push_back({{"group", g.group},
                           {"state", g.state.empty() ? ojson(nullptr) : ojson(g.state)},
                           {"protocol_type", g.protocol_type},
                           {"coordinator", g.coordinator}});
        }
        return out.dump() + "\n";
    }
    if (!with_state) {
        std::string out;
        for (const auto& g : groups) {
            out += g.group + "\n";
        }
        return out;
    }
    table t({{"GROUP", 15}, {"STATE", 0}});
    for (const auto& g : groups) {
        t.add({g.group, g.state.empty() ? std::string(missing) : g.state});
    }
    return t.render();
}

std::string render_reset_plan(const std::vector<group_plan>& plans, output_format f) {
    if (f == output_format::json) {
        ojson out = ojson::array();
        for (const auto& p : plans) {
            for (const auto& o : p.offsets) {
                out.push_back({{"group", p.group},
                               {"topic", o.partition.topic},
                               {"partition", o.partition.partition},
                               {"new_offset", o.offset}});
            }
        }
        return out.dump() + "\n";
    }
    table t({{"GROUP", 30}, {"TOPIC", 30}, {"PARTITION", 10}, {"NEW-OFFSET", 0}});
    for (const auto& p : plans) {
        for (const auto& o : p.offsets) {
            t.add({p.group, o.partition.topic, std::to_string(o.partition.partition),
                   std::to_string(o.offset)});
        }
    }
    return "\n" + t.render();
}

rendered render_delete_groups(const std::vector<delete_outcome>& outcomes, output_format f) {
    rendered r;
    if (f == output_format::json) {
        ojson out = ojson::array();
        for (const auto& o : outcomes) {
            ojson j = {{"group", o.group}, {"ok", o.error_code == 0}};
            if (o.error_code != 0) {
                j["error"] = error_name_of(o.error_code);
                j["message"] = kafka_error_message(o.error_code);
            }
            out.push_back(std::move(j));
        }
        r.out = out.dump() + "\n";
        return r;
    }
    std::vector<std::string> deleted;
    std::string failures;
    for (const auto& o : outcomes) {
        if (o.error_code == 0) {
            deleted.push_back("'" + o.group + "'");
        } else {
            failures += fmt::format("* Group '{}' could not be deleted due to: {}\n", o.group,
                                    kafka_error_message(o.error_code));
        }
    }
    auto names = fmt::format("{}", fmt::join(deleted, ", "));
    if (failures.empty()) {
        r.out = fmt::format("Deletion of requested consumer groups ({}) was successful.\n", names);
        return r;
    }
    r.err = "\nError: Deletion of some consumer groups failed:\n";
    r.out = failures;
    if (!deleted.empty()) {
        r.out += fmt::format("\nThese consumer groups were deleted successfully: {}\n", names);
    }
    return r;
}

}  // namespace gregor::admin
