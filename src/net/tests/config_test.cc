// Goal: configurations outside the hard limits are refused before a server or client is
// built, with the Kafka key named. Method: start from the defaults and break one value at a
// time.
#include "net/config.h"

#include "net/errc.h"

#include <gtest/gtest.h>

namespace gregor::net {
namespace {

server_config good_server() {
    server_config c;
    c.listeners.push_back({});
    return c;
}

client_config good_client() {
    client_config c;
    c.port = 9092;
    return c;
}

TEST(server_config, defaults_with_a_listener_are_valid) {
    EXPECT_TRUE(validate(good_server()));
}

TEST(server_config, out_of_range_values_are_refused) {
    auto c = good_server();
    c.listeners.clear();
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
    c = good_server();
    c.request_bytes_max = limits::request_bytes_max + 1;
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
    EXPECT_NE(validate(c).err().detail.find("socket.request.max.bytes"), std::string::npos);
    c = good_server();
    c.request_memory_bytes = static_cast<std::size_t>(c.request_bytes_max) - 1;
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
    c = good_server();
    c.in_flight_requests_max = 0;
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
    c = good_server();
    c.connections_max = limits::connections_max + 1;
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
}

TEST(client_config, needs_a_port_and_sane_backoff) {
    EXPECT_TRUE(validate(good_client()));
    auto c = good_client();
    c.port = 0;
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
    c = good_client();
    c.reconnect_backoff_max = c.reconnect_backoff / 2;
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
    c = good_client();
    c.queued_requests_max = limits::client_queued_requests_max + 1;
    EXPECT_EQ(validate(c).code(), errc::invalid_config);
}

}  // namespace
}  // namespace gregor::net
