// Goal: `gregor groups ...` accept kafka-consumer-groups.sh's flags and their legal
// combinations, and refuse the others as usage errors (exit code 2) before any request is
// sent. Method: CLI11 parsing of each command's options, the pure argument parsers, and the
// run_* functions with arguments that fail before connecting.
#include "admin/commands.h"
#include "admin/errc.h"
#include "admin/group_options.h"

#include <gtest/gtest.h>

namespace gregor::admin {
namespace {

template <class Options>
Options parse(void (*declare)(CLI::App&, Options&), const std::string& args) {
    CLI::App app;
    Options o;
    declare(app, o);
    app.parse(args, false);
    return o;
}

template <class Options, class Error>
void expect_refused(void (*declare)(CLI::App&, Options&), const std::string& args) {
    CLI::App app;
    Options o;
    declare(app, o);
    EXPECT_THROW(app.parse(args, false), Error) << args;
}

TEST(group_options, list_state_is_a_flag_or_a_filter) {
    auto plain = parse(add_groups_list_options, "--bootstrap-server h:1");
    EXPECT_FALSE(plain.state);
    EXPECT_EQ(plain.base.common.bootstrap, "h:1");
    auto column = parse(add_groups_list_options, "--state --format json");
    ASSERT_TRUE(column.state);
    EXPECT_EQ(*column.state, "");
    EXPECT_EQ(column.base.common.output(), output_format::json);
    auto filter = parse(add_groups_list_options, "--state stable,EMPTY --timeout 5");
    ASSERT_TRUE(filter.state);
    EXPECT_EQ(*filter.state, "stable,EMPTY");
    EXPECT_EQ(filter.base.timeout_s, 5);
    expect_refused<groups_list_options, CLI::ValidationError>(add_groups_list_options,
                                                              "--timeout 0");
}

TEST(group_options, states_are_canonical_and_checked) {
    auto s = parse_group_states("stable, EMPTY,preparingrebalance,Stable");
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, (std::vector<std::string>{"Stable", "Empty", "PreparingRebalance"}));
    EXPECT_TRUE(parse_group_states("")->empty());
    EXPECT_EQ(*parse_group_states("completingrebalance,dead"),
              (std::vector<std::string>{"CompletingRebalance", "Dead"}));
    auto bad = parse_group_states("Stable,Sleeping");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.code(), errc::bad_usage);
    EXPECT_NE(bad.err().detail.find("Sleeping"), std::string::npos);
    EXPECT_FALSE(parse_group_states("Stable,,Empty"));
}

TEST(group_options, describe_views) {
    auto d = parse(add_groups_describe_options, "--group a --group b");
    EXPECT_EQ(d.select.groups, (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(d.members || d.state || d.offsets);
    auto m = parse(add_groups_describe_options, "--all-groups --members --verbose");
    EXPECT_TRUE(m.select.all_groups);
    EXPECT_TRUE(m.members && m.verbose);
    EXPECT_TRUE(parse(add_groups_describe_options, "--group a --state").state);
    EXPECT_TRUE(parse(add_groups_describe_options, "--group a --offsets").offsets);
    using o = groups_describe_options;
    expect_refused<o, CLI::ExcludesError>(add_groups_describe_options, "--group a --all-groups");
    expect_refused<o, CLI::ExcludesError>(add_groups_describe_options,
                                          "--group a --members --state");
    expect_refused<o, CLI::ExcludesError>(add_groups_describe_options,
                                          "--group a --offsets --members");
    expect_refused<o, CLI::RequiresError>(add_groups_describe_options, "--group a --verbose");
}

TEST(group_options, reset_modes) {
    auto r = parse(add_groups_reset_options,
                   "--group g --topic t --topic u:0,2 --to-offset 42 --execute");
    EXPECT_EQ(r.topics, (std::vector<std::string>{"t", "u:0,2"}));
    EXPECT_EQ(r.to_offset, 42);
    EXPECT_TRUE(r.execute);
    EXPECT_FALSE(r.dry_run);
    auto s = parse(add_groups_reset_options, "--all-groups --all-topics --shift-by -5 --dry-run");
    EXPECT_EQ(s.shift_by, -5);
    EXPECT_TRUE(s.dry_run && s.all_topics && s.select.all_groups);
    auto t = parse(add_groups_reset_options,
                   "--group g --all-topics --to-datetime 2024-01-02T03:04:05.678");
    EXPECT_EQ(t.to_datetime, "2024-01-02T03:04:05.678");
    EXPECT_EQ(parse(add_groups_reset_options, "--group g --all-topics --by-duration PT1H")
                  .by_duration,
              "PT1H");
    using o = groups_reset_options;
    expect_refused<o, CLI::ExcludesError>(add_groups_reset_options,
                                          "--group g --all-topics --to-earliest --to-latest");
    expect_refused<o, CLI::ExcludesError>(add_groups_reset_options,
                                          "--group g --all-topics --shift-by 1 --to-offset 3");
    expect_refused<o, CLI::ExcludesError>(add_groups_reset_options,
                                          "--group g --topic t --all-topics --to-latest");
    expect_refused<o, CLI::ExcludesError>(add_groups_reset_options,
                                          "--group g --all-topics --to-latest --dry-run "
                                          "--execute");
    expect_refused<o, CLI::ConversionError>(add_groups_reset_options,
                                            "--group g --all-topics --to-offset ten");
}

TEST(group_options, topic_selections) {
    auto whole = parse_topic_selection("orders");
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->topic, "orders");
    EXPECT_FALSE(whole->partitions);
    auto some = parse_topic_selection("orders:3,0,3");
    ASSERT_TRUE(some);
    EXPECT_EQ(*some->partitions, (std::vector<std::int32_t>{3, 0}));
    for (const char* bad : {"", ":1", "orders:", "orders:1,", "orders:x", "orders:-1", "t:1,,2"}) {
        auto r = parse_topic_selection(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.code(), errc::bad_usage) << bad;
    }
}

// These fail on their arguments, so nothing listens on the (unreachable) bootstrap address.
TEST(group_options, usage_errors_exit_2_without_a_cluster) {
    groups_describe_options describe;
    describe.base.common.bootstrap = "127.0.0.1:1";
    EXPECT_EQ(run_groups_describe(describe), exit_usage) << "no --group nor --all-groups";
    groups_delete_options remove;
    remove.base.common.bootstrap = "127.0.0.1:1";
    EXPECT_EQ(run_groups_delete(remove), exit_usage);
    groups_list_options list;
    list.base.common.bootstrap = "127.0.0.1:1";
    list.state = "Stable,Bogus";
    EXPECT_EQ(run_groups_list(list), exit_usage);

    groups_reset_options reset;
    reset.base.common.bootstrap = "127.0.0.1:1";
    reset.select.groups = {"g"};
    reset.to_earliest = true;
    EXPECT_EQ(run_groups_reset_offsets(reset), exit_usage) << "no --topic nor --all-topics";
    reset.all_topics = true;
    reset.to_earliest = false;
    EXPECT_EQ(run_groups_reset_offsets(reset), exit_usage) << "no mode";
    reset.to_datetime = "yesterday";
    EXPECT_EQ(run_groups_reset_offsets(reset), exit_usage);
    reset.to_datetime.reset();
    reset.all_topics = false;
    reset.topics = {"t:x"};
    reset.to_latest = true;
    EXPECT_EQ(run_groups_reset_offsets(reset), exit_usage);
}

TEST(group_options, unreachable_cluster_is_a_failure_not_usage) {
    groups_list_options list;
    list.base.common.bootstrap = "127.0.0.1:1";
    list.base.common.request_timeout_s = 1;
    EXPECT_EQ(run_groups_list(list), exit_failed);
}

}  // namespace
}  // namespace gregor::admin
