// Goal: group_client waits out a coordinator that is loading, unknown or moving, gives up
// with a clear error after its retry timeout, never crashes on a malformed answer, and
// sends what Kafka's admin client sends (admin commits with generation -1 and no member,
// ListGroups' StatesFilter, OffsetFetch in the shape of the negotiated version).
// Method: a scripted Kafka server on a loopback port (one thread per connection) that
// answers ApiVersions, Metadata and FindCoordinator with itself as broker 1 and the group
// APIs from the test's script; short retry timeouts keep the failing cases under a second.
#include "admin/group_client.h"

#include "protocol/frame.h"
#include "protocol/headers.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_fetch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace gregor::admin {
namespace {

using namespace std::chrono_literals;

// What a scripted answer gets: the request header and a reader on the body.
using script =
    std::function<std::optional<bytes>(const protocol::request_header&, protocol::reader&)>;

template <class Api>
bytes frame(const protocol::request_header& h, const typename Api::response_type& r) {
    return protocol::encode_response_frame<Api>(h.correlation_id, h.api_version, r)->flatten();
}

template <class Api>
typename Api::request_type request(const protocol::request_header& h, protocol::reader& r) {
    auto decoded = protocol::decode_exact<typename Api::request_type>(r, h.api_version);
    EXPECT_TRUE(decoded) << Api::name;
    return decoded ? *decoded : typename Api::request_type{};
}

class fake_broker {
public:
    // `max_versions` caps what ApiVersions advertises per api key (default: the schema's).
    explicit fake_broker(script s, std::map<std::int16_t, std::int16_t> max_versions = {})
        : script_(std::move(s)), max_versions_(std::move(max_versions)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), len), 0);
        EXPECT_EQ(::listen(listener_, 8), 0);
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~fake_broker() {
        ::shutdown(listener_, SHUT_RDWR);
        acceptor_.join();
        std::vector<std::thread> connections;
        {
            std::lock_guard lock(mutex_);
            for (int fd : fds_) {
                ::shutdown(fd, SHUT_RDWR);
            }
            connections.swap(connections_);
        }
        for (auto& t : connections) {  // without the lock: serve() takes it to finish
            t.join();
        }
        ::close(listener_);
    }
    std::uint16_t port() const { return port_; }
    int calls(std::int16_t api_key) const {
        return counts_[static_cast<std::size_t>(api_key)].load();
    }

private:
    void accept_loop() {
        for (;;) {
            int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) {
                return;
            }
            std::lock_guard lock(mutex_);
            fds_.push_back(fd);
            connections_.emplace_back([this, fd] { serve(fd); });
        }
    }
    static bool read_all(int fd, std::uint8_t* p, std::size_t n) {
        while (n > 0) {
            auto r = ::recv(fd, p, n, 0);
            if (r <= 0) {
                return false;
            }
            p += r;
            n -= static_cast<std::size_t>(r);
        }
        return true;
    }
    void serve(int fd) {
        for (;;) {
            std::uint8_t prefix[4];
            if (!read_all(fd, prefix, 4)) {
                break;
            }
            std::size_t n = (std::size_t{prefix[0]} << 24) | (std::size_t{prefix[1]} << 16) |
                            (std::size_t{prefix[2]} << 8) | prefix[3];
            bytes body(n);
            if (!read_all(fd, body.data(), n)) {
                break;
            }
            protocol::reader r(body);
            auto h = protocol::decode_request_header(r);
            ASSERT_TRUE(h);
            ++counts_[static_cast<std::size_t>(h->api_key)];
            auto out = answer(*h, r);
            if (!out || ::send(fd, out->data(), out->size(), MSG_NOSIGNAL) < 0) {
                break;
            }
        }
        std::lock_guard lock(mutex_);
        std::erase(fds_, fd);  // before close, so the number is not shut down once reused
        ::close(fd);
    }
    std::optional<bytes> answer(const protocol::request_header& h, protocol::reader& r);

    script script_;
    std::map<std::int16_t, std::int16_t> max_versions_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<int> fds_;
    std::vector<std::thread> connections_;
    std::array<std::atomic<int>, 100> counts_{};
};

template <class... Apis>
std::vector<protocol::api_versions_response::api_version> versions(
    const std::map<std::int16_t, std::int16_t>& caps) {
    std::vector<protocol::api_versions_response::api_version> out;
    auto add = [&](std::int16_t key, std::int16_t min, std::int16_t max) {
        auto it = caps.find(key);
        out.push_back({key, min, it == caps.end() ? max : it->second, {}});
    };
    (add(Apis::key, Apis::version_min, Apis::version_max), ...);
    return out;
}

std::optional<bytes> fake_broker::answer(const protocol::request_header& h, protocol::reader& r) {
    if (h.api_key == protocol::api_versions_api::key) {
        protocol::api_versions_response resp;
        resp.api_keys = versions<protocol::api_versions_api, protocol::metadata_api,
                                 protocol::find_coordinator_api, protocol::describe_groups_api,
                                 protocol::list_groups_api, protocol::offset_fetch_api,
                                 protocol::offset_commit_api>(max_versions_);
        return frame<protocol::api_versions_api>(h, resp);
    }
    if (h.api_key == protocol::metadata_api::key) {
        protocol::metadata_response resp;
        resp.brokers.push_back({model::node_id{1}, "127.0.0.1", port_, std::nullopt, {}});
        resp.controller_id = model::node_id{1};
        return frame<protocol::metadata_api>(h, resp);
    }
    if (auto scripted = script_(h, r)) {
        return scripted;
    }
    if (h.api_key == protocol::find_coordinator_api::key) {
        auto req = request<protocol::find_coordinator_api>(h, r);
        protocol::find_coordinator_response resp;
        resp.node_id = model::node_id{1};
        resp.host = "127.0.0.1";
        resp.port = port_;
        for (const auto& k : req.coordinator_keys) {
            resp.coordinators.push_back({k, model::node_id{1}, "127.0.0.1", port_, 0, {}, {}});
        }
        return frame<protocol::find_coordinator_api>(h, resp);
    }
    ADD_FAILURE() << "unscripted api " << h.api_key;
    return std::nullopt;
}

protocol::describe_groups_response described(const std::string& group, std::int16_t error_code,
                                             const std::string& state) {
    protocol::describe_groups_response resp;
    auto& g = resp.groups.emplace_back();
    g.group_id = group;
    g.error_code = error_code;
    g.group_state = state;
    g.protocol_type = "consumer";
    return resp;
}

struct client_fixture {
    explicit client_fixture(const fake_broker& b, std::chrono::milliseconds retry = 5s)
        : admin(std::move(admin_client::connect({{"127.0.0.1", b.port()}}, 2s)).value()),
          groups(*admin, 2s, retry) {}
    std::unique_ptr<admin_client> admin;
    group_client groups;
};

TEST(group_client, waits_while_the_coordinator_loads) {
    std::atomic<int> describes{0};
    fake_broker b([&](const auto& h, auto&) -> std::optional<bytes> {
        if (h.api_key != protocol::describe_groups_api::key) {
            return std::nullopt;
        }
        bool loading = describes++ < 2;
        return frame<protocol::describe_groups_api>(
            h, described("g", loading ? 14 : 0, loading ? "" : "Empty"));
    });
    client_fixture c(b);
    auto d = c.groups.describe_group("g");
    ASSERT_TRUE(d) << d.err().detail;
    EXPECT_EQ(d->state, "Empty");
    EXPECT_EQ(d->coordinator.id, 1);
    EXPECT_EQ(describes.load(), 3);
    EXPECT_EQ(b.calls(protocol::find_coordinator_api::key), 1) << "loading: same coordinator";
}

TEST(group_client, a_coordinator_that_keeps_moving_is_a_clear_error) {
    fake_broker b([&](const auto& h, auto&) -> std::optional<bytes> {
        if (h.api_key != protocol::describe_groups_api::key) {
            return std::nullopt;
        }
        return frame<protocol::describe_groups_api>(h, described("g", 16, ""));
    });
    client_fixture c(b, 700ms);
    auto d = c.groups.describe_group("g");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.code(), errc::no_coordinator);
    EXPECT_NE(d.err().detail.find("NOT_COORDINATOR"), std::string::npos) << d.err().detail;
    EXPECT_GT(b.calls(protocol::find_coordinator_api::key), 1) << "looked up again";
}

TEST(group_client, unknown_coordinator_is_retried_with_an_old_find_coordinator) {
    std::atomic<int> finds{0};
    fake_broker b(
        [&](const auto& h, auto& r) -> std::optional<bytes> {
            if (h.api_key == protocol::find_coordinator_api::key && finds++ == 0) {
                auto req = request<protocol::find_coordinator_api>(h, r);
                EXPECT_EQ(req.key, "g") << "v3 and older carry one key";
                protocol::find_coordinator_response resp;
                resp.error_code = 15;
                resp.node_id = model::node_id{-1};
                return frame<protocol::find_coordinator_api>(h, resp);
            }
            if (h.api_key == protocol::describe_groups_api::key) {
                return frame<protocol::describe_groups_api>(h, described("g", 0, "Dead"));
            }
            return std::nullopt;
        },
        {{protocol::find_coordinator_api::key, 3}});
    client_fixture c(b);
    auto d = c.groups.describe_group("g");
    ASSERT_TRUE(d) << d.err().detail;
    EXPECT_EQ(d->state, "Dead");
    EXPECT_EQ(finds.load(), 2);
}

TEST(group_client, malformed_answers_are_errors) {
    fake_broker b([&](const auto& h, auto&) -> std::optional<bytes> {
        if (h.api_key == protocol::describe_groups_api::key) {
            // A frame whose body is garbage after a correct header.
            bytes out{0, 0, 0, 9, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0x01};
            auto c = static_cast<std::uint32_t>(h.correlation_id);
            out[4] = static_cast<std::uint8_t>(c >> 24);
            out[5] = static_cast<std::uint8_t>(c >> 16);
            out[6] = static_cast<std::uint8_t>(c >> 8);
            out[7] = static_cast<std::uint8_t>(c);
            return out;
        }
        return std::nullopt;
    });
    client_fixture c(b);
    auto d = c.groups.describe_group("g");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.code(), errc::bad_response) << d.err().detail;
}

TEST(group_client, list_groups_sends_the_states_and_keeps_consumer_groups) {
    fake_broker b([&](const auto& h, auto& r) -> std::optional<bytes> {
        if (h.api_key != protocol::list_groups_api::key) {
            return std::nullopt;
        }
        auto req = request<protocol::list_groups_api>(h, r);
        EXPECT_EQ(req.states_filter, (std::vector<std::string>{"Stable"}));
        protocol::list_groups_response resp;
        resp.groups.push_back({"a", "consumer", "Stable", "classic", {}});
        resp.groups.push_back({"b", "connect", "Stable", "classic", {}});
        resp.groups.push_back({"c", "", "Empty", "classic", {}});  // filtered here too
        return frame<protocol::list_groups_api>(h, resp);
    });
    client_fixture c(b);
    auto groups = c.groups.list_groups({"Stable"});
    ASSERT_TRUE(groups) << groups.err().detail;
    ASSERT_EQ(groups->size(), 1u);
    EXPECT_EQ(groups->front().group, "a");
    EXPECT_EQ(groups->front().coordinator, 1);
}

TEST(group_client, offsets_in_both_shapes_and_admin_commits) {
    for (std::int16_t fetch_max : {std::int16_t{9}, std::int16_t{7}}) {
        fake_broker b(
            [&](const auto& h, auto& r) -> std::optional<bytes> {
                if (h.api_key == protocol::offset_commit_api::key) {
                    auto req = request<protocol::offset_commit_api>(h, r);
                    EXPECT_EQ(req.generation_id_or_member_epoch, -1);
                    EXPECT_EQ(req.member_id, "");
                    protocol::offset_commit_response resp;
                    auto& t = resp.topics.emplace_back();
                    t.name = "t";
                    t.partitions.push_back({model::partition_id{0}, 0, {}});
                    t.partitions.push_back({model::partition_id{1}, 22, {}});
                    return frame<protocol::offset_commit_api>(h, resp);
                }
                if (h.api_key != protocol::offset_fetch_api::key) {
                    return std::nullopt;
                }
                protocol::offset_fetch_response resp;
                using part = protocol::offset_fetch_response::offset_fetch_response_group::
                    offset_fetch_response_topics::offset_fetch_response_partitions;
                if (h.api_version >= 8) {
                    auto& t = resp.groups.emplace_back().topics.emplace_back();
                    resp.groups.back().group_id = "g";
                    t.name = "t";
                    for (auto [index, offset] : {std::pair{0, 5}, std::pair{1, -1}}) {
                        auto& p = t.partitions.emplace_back(part{});
                        p.partition_index = model::partition_id{index};
                        p.committed_offset = model::offset{offset};
                    }
                } else {
                    auto& t = resp.topics.emplace_back();
                    t.name = "t";
                    auto& p = t.partitions.emplace_back();
                    p.partition_index = model::partition_id{0};
                    p.committed_offset = model::offset{5};
                }
                return frame<protocol::offset_fetch_api>(h, resp);
            },
            {{protocol::offset_fetch_api::key, fetch_max}});
        client_fixture c(b);
        auto offsets = c.groups.fetch_offsets("g");
        ASSERT_TRUE(offsets) << offsets.err().detail;
        EXPECT_EQ(*offsets, (offset_map{{{"t", 0}, 5}})) << "v" << fetch_max;
        auto committed = c.groups.commit_offsets("g", {{{"t", 0}, 0}, {{"t", 1}, 3}});
        ASSERT_TRUE(committed) << committed.err().detail;
        EXPECT_EQ(committed->at({"t", 1}), 22);
    }
}

}  // namespace
}  // namespace gregor::admin
