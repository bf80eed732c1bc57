// Goal: the partition state reader (a SAX handler, for speed: a failover reads one state per
// partition) accepts and refuses exactly what a plain JSON-document reading of the same rules
// does, for Kafka's writes in any key order and for corrupted content.
// Method: Kafka's own forms as golden cases; then a seeded differential test that mutates
// valid states (byte edits, spliced JSON fragments) and compares the reader with a reference
// decoder written here on nlohmann::json documents.
#include "coord/errc.h"
#include "coord/znode_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <random>

namespace gregor::coord {
namespace {

using model::node_id;
using nlohmann::json;

// The rules, stated on a document: version 1; leader, leader_epoch, controller_epoch int32;
// isr an array of int32; leader_recovery_state 0 or 1 if present; other members ignored.
std::optional<partition_state> reference(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::nullopt;
    }
    auto int32 = [](const json& v) -> std::optional<std::int32_t> {
        if (v.is_number_unsigned()) {
            auto x = v.get<std::uint64_t>();
            return x <= 0x7fffffffU ? std::optional(static_cast<std::int32_t>(x)) : std::nullopt;
        }
        if (v.is_number_integer()) {
            auto x = v.get<std::int64_t>();
            bool fits = x >= INT32_MIN && x <= INT32_MAX;
            return fits ? std::optional(static_cast<std::int32_t>(x)) : std::nullopt;
        }
        return std::nullopt;
    };
    auto field = [&](const char* name) -> std::optional<std::int32_t> {
        return j.contains(name) ? int32(j[name]) : std::nullopt;
    };
    auto version = field("version");
    auto leader = field("leader");
    auto le = field("leader_epoch");
    auto ce = field("controller_epoch");
    if (version != 1 || !leader || !le || !ce || !j.contains("isr") || !j["isr"].is_array()) {
        return std::nullopt;
    }
    partition_state s{
        node_id{*leader}, model::leader_epoch{*le}, model::controller_epoch{*ce}, false, {}};
    for (const auto& e : j["isr"]) {
        auto id = int32(e);
        if (!id) {
            return std::nullopt;
        }
        s.isr.emplace_back(*id);
    }
    if (j.contains("leader_recovery_state")) {
        auto lrs = field("leader_recovery_state");
        if (lrs != 0 && lrs != 1) {
            return std::nullopt;
        }
        s.recovering = lrs == 1;
    }
    return s;
}

TEST(partition_state_json, reads_kafka_writes_in_any_order_and_skips_unknown_members) {
    partition_state want{node_id{3},
                         model::leader_epoch{7},
                         model::controller_epoch{2},
                         false,
                         {node_id{3}, node_id{1}}};
    for (std::string_view text : {
             R"({"controller_epoch":2,"leader":3,"version":1,"leader_epoch":7,"isr":[3,1]})",
             R"({ "isr" : [ 3 , 1 ] , "leader_epoch" : 7 , "leader" : 3 , "version" : 1 ,
                  "controller_epoch" : 2 })",
             R"({"version":1,"leader":3,"leader_epoch":7,"controller_epoch":2,"isr":[3,1],)"
             R"("leader_recovery_state":0,"x":{"leader":"no","isr":[[]]},"y":[null,1.5,"s"]})",
         }) {
        auto got = decode_partition_state(text);
        ASSERT_TRUE(got.has_value()) << text << ": " << got.err().detail;
        EXPECT_EQ(*got, want) << text;
    }
}

TEST(partition_state_json, refuses_with_the_field_named) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"", "not a JSON object"},
        {"[1]", "not a JSON object"},
        {"null", "not a JSON object"},
        {R"({"version":1,"leader":1})", "leader_epoch"},
        {R"({"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[]})", "version"},
        {R"({"version":2,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[]})",
         "unsupported version 2"},
        {R"({"version":1,"leader":"1","leader_epoch":0,"controller_epoch":1,"isr":[]})",
         "leader"},
        {R"({"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[1,2.0]})", "isr"},
        {R"({"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":{}})", "isr"},
        {R"({"version":1,"leader":2147483648,"leader_epoch":0,"controller_epoch":1,"isr":[]})",
         "leader"},
        {R"({"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[]} x)",
         "not a JSON object"},
    };
    for (const auto& [text, named] : cases) {
        auto got = decode_partition_state(text);
        ASSERT_TRUE(got.has_error()) << text;
        EXPECT_EQ(got.code(), errc::malformed_data);
        EXPECT_NE(got.err().detail.find(named), std::string::npos)
            << text << " -> " << got.err().detail;
    }
}

TEST(partition_state_json, agrees_with_a_document_reader_on_mutated_states) {
    const std::string fragments[] = {"{", "}", "[", "]", ",", ":", "\"", "1", "-1", "1.5", "1e3",
                                     "null", "true", R"("isr")", R"("leader")", R"("version")",
                                     "[1,2]", R"({"a":[1]})", "4294967296", "\\u0041", " "};
    std::mt19937_64 rng(20261121);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        partition_state s{node_id{static_cast<int>(rng() % 5) - 1},
                          model::leader_epoch{static_cast<int>(rng() % 100)},
                          model::controller_epoch{static_cast<int>(rng() % 9)},
                          rng() % 4 == 0,
                          {node_id{1}, node_id{2}}};
        std::string text = encode_partition_state(s);
        for (int edits = static_cast<int>(rng() % 3); edits > 0; --edits) {
            std::size_t at = rng() % (text.size() + 1);
            switch (rng() % 3) {
            case 0: text.erase(at, std::min<std::size_t>(1 + rng() % 4, text.size() - at)); break;
            case 1: text.insert(at, fragments[rng() % std::size(fragments)]); break;
            default: if (at < text.size()) text[at] = static_cast<char>(rng() % 128); break;
            }
        }
        auto want = reference(text);
        auto got = decode_partition_state(text);
        ASSERT_EQ(got.has_value(), want.has_value()) << text;
        if (want) {
            ++accepted;
            EXPECT_EQ(*got, *want) << text;
        }
    }
    EXPECT_GT(accepted, 2000);  // the mutations leave many states valid: both paths are run
}

}  // namespace
}  // namespace gregor::coord
