// Goal: addresses parse as users write them and bad ones are clear errors; a server that
// is not there is a connect error, not a hang. Method: the parsers, and a connection to a
// loopback port nobody listens on.
#include "admin/connection.h"

#include <gtest/gtest.h>

namespace gregor::admin {
namespace {

TEST(admin_connection, parses_endpoints) {
    auto one = parse_endpoint("127.0.0.1:9092");
    ASSERT_TRUE(one);
    EXPECT_EQ(*one, (endpoint{"127.0.0.1", 9092}));
    EXPECT_EQ(*parse_endpoint("[::1]:9093"), (endpoint{"::1", 9093}));
    auto list = parse_endpoints("a:1,b:2");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->size(), 2u);
    for (const char* bad : {"", "host", "host:", ":1", "host:0", "host:70000", "host:x"}) {
        EXPECT_FALSE(parse_endpoint(bad)) << bad;
    }
    EXPECT_FALSE(parse_endpoints("a:1,"));
}

TEST(admin_connection, nobody_listening_is_a_connect_error) {
    // Port 1 on loopback is not a Kafka broker on any machine that runs these tests.
    auto c = connection::open({"127.0.0.1", 1}, std::chrono::milliseconds(2000));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.code(), errc::connect_failed);
}

}  // namespace
}  // namespace gregor::admin
