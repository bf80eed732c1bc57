// Goal: the admin commands' argument handling: where the bootstrap servers come from,
// key=value and topic:partition arguments, and flag parsing with usage errors. Method:
// the pure helpers, a state file in a temp directory, and CLI11 parsing.
#include "admin/commands.h"

#include "admin/errc.h"
#include "cluster/state.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace gregor::admin {
namespace {

TEST(admin_args, bootstrap_comes_from_flag_then_dir_then_default) {
    common_options o;
    EXPECT_EQ(*resolve_bootstrap(o), "127.0.0.1:9092");
    char tmpl[] = "/tmp/gregor-admin-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    cluster::cluster_state s;
    s.dir = tmpl;
    s.zookeeper_connect = "127.0.0.1:1";
    s.brokers = {{1, 19092, 0, false}, {2, 19093, 0, false}};
    ASSERT_TRUE(cluster::write_state(tmpl, s));
    o.dir = tmpl;
    EXPECT_EQ(*resolve_bootstrap(o), "127.0.0.1:19092,127.0.0.1:19093");
    o.bootstrap = "h:1";
    EXPECT_EQ(*resolve_bootstrap(o), "h:1");
    std::filesystem::remove_all(tmpl);
    o.bootstrap.clear();
    auto missing = resolve_bootstrap(o);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.code(), errc::bad_usage);
}

TEST(admin_args, config_entries) {
    auto e = parse_config_entry("retention.ms=1000");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->first, "retention.ms");
    EXPECT_EQ(e->second, "1000");
    EXPECT_EQ(parse_config_entry("cleanup.policy=")->second, "");
    EXPECT_FALSE(parse_config_entry("novalue"));
    EXPECT_FALSE(parse_config_entry("=x"));
}

TEST(admin_args, topic_partitions) {
    auto whole = parse_topic_partition("orders");
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->first, "orders");
    EXPECT_FALSE(whole->second);
    auto one = parse_topic_partition("orders:3");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->first, "orders");
    EXPECT_EQ(one->second, 3);
    EXPECT_FALSE(parse_topic_partition("orders:x"));
    EXPECT_FALSE(parse_topic_partition(":1"));
    EXPECT_FALSE(parse_topic_partition("orders:-1"));
    EXPECT_FALSE(parse_topic_partition(""));
}

TEST(admin_args, create_flags) {
    CLI::App app;
    topics_create_options o;
    add_topics_create_options(app, o);
    app.parse(
        "demo --partitions 3 --replication-factor 2 --config a=b --config c=d "
        "--validate-only --format json",
        false);
    EXPECT_EQ(o.topic, "demo");
    EXPECT_EQ(o.partitions, 3);
    EXPECT_EQ(o.replication_factor, 2);
    EXPECT_EQ(o.configs, (std::vector<std::string>{"a=b", "c=d"}));
    EXPECT_TRUE(o.validate_only);
    EXPECT_EQ(o.common.output(), output_format::json);
}

TEST(admin_args, usage_errors) {
    {
        CLI::App app;
        topics_create_options o;
        add_topics_create_options(app, o);
        EXPECT_THROW(app.parse("--partitions 3", false), CLI::RequiredError);
    }
    {
        CLI::App app;
        topics_list_options o;
        add_topics_list_options(app, o);
        EXPECT_THROW(app.parse("--format yaml", false), CLI::ValidationError);
    }
    {
        CLI::App app;
        topics_describe_options o;
        add_topics_describe_options(app, o);
        EXPECT_THROW(app.parse("--under-replicated --unavailable", false), CLI::ExcludesError);
    }
    {
        CLI::App app;
        leaders_elect_options o;
        add_leaders_elect_options(app, o);
        EXPECT_THROW(app.parse("--preferred --unclean", false), CLI::ExcludesError);
    }
    // Semantic usage errors are exit code 2 without touching the network.
    leaders_elect_options neither;
    EXPECT_EQ(run_leaders_elect(neither), exit_usage);
    topics_alter_options nothing;
    nothing.topic = "t";
    EXPECT_EQ(run_topics_alter(nothing), exit_usage);
    topics_alter_options mixed;
    mixed.topic = "t";
    mixed.replication_factor = 2;
    mixed.partitions = 4;
    EXPECT_EQ(run_topics_alter(mixed), exit_usage) << "a reassignment goes alone";
}

// Every admin command takes Kafka's --bootstrap-server as well as --bootstrap and -b.
template <class Options>
void expect_bootstrap_spellings(void (*declare)(CLI::App&, Options&), const std::string& rest) {
    for (const char* flag : {"--bootstrap-server", "--bootstrap", "-b"}) {
        CLI::App app;
        Options o;
        declare(app, o);
        app.parse(rest + " " + flag + " h1:9092,h2:9093", false);
        EXPECT_EQ(o.common.bootstrap, "h1:9092,h2:9093") << flag << " " << rest;
    }
}

TEST(admin_args, every_command_takes_bootstrap_server) {
    expect_bootstrap_spellings(add_describe_cluster_options, "");
    expect_bootstrap_spellings(add_health_options, "");
    expect_bootstrap_spellings(add_topics_list_options, "");
    expect_bootstrap_spellings(add_topics_describe_options, "t");
    expect_bootstrap_spellings(add_topics_create_options, "t");
    expect_bootstrap_spellings(add_topics_delete_options, "t");
    expect_bootstrap_spellings(add_topics_alter_options, "t");
    expect_bootstrap_spellings(add_topics_reassignments_options, "");
    expect_bootstrap_spellings(add_leaders_elect_options, "--preferred");
}

TEST(admin_args, replication_factor_flags) {
    {
        CLI::App app;
        topics_alter_options o;
        add_topics_alter_options(app, o);
        app.parse("demo --replication-factor 3 --wait --wait-timeout 30", false);
        EXPECT_EQ(o.replication_factor, 3);
        EXPECT_TRUE(o.wait);
        EXPECT_EQ(o.wait_timeout_s, 30);
    }
    {
        CLI::App app;
        topics_alter_options o;
        add_topics_alter_options(app, o);
        EXPECT_THROW(app.parse("demo --wait", false), CLI::RequiresError);
    }
    {
        CLI::App app;
        topics_alter_options o;
        add_topics_alter_options(app, o);
        EXPECT_THROW(app.parse("demo --replication-factor 0", false), CLI::ValidationError);
    }
}

}  // namespace
}  // namespace gregor::admin
