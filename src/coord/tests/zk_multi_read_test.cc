// Goal: zk_client's batched reads speak ZooKeeper's multiRead exactly, and whatever a server
// (or anything listening on its port) sends back can only produce a clear error, never a
// crash, an over-read or a hang.
// Method: the codec against frames laid out by hand from the jute definitions; every
// truncation and 20,000 seeded mutations of a valid reply; and start_multi_read() against a
// scripted server on a local socket (the real server is covered by the contract suite in
// tests/integration/coord).
#include "coord/zk_multi_read.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <thread>

namespace gregor::coord::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Big-endian pieces for hand-laid frames.
struct bytes_out {
    std::string s;
    bytes_out& i32(std::int32_t v) {
        for (int i = 3; i >= 0; --i) {
            s.push_back(static_cast<char>(static_cast<std::uint32_t>(v) >> (8 * i)));
        }
        return *this;
    }
    bytes_out& i64(std::int64_t v) {
        for (int i = 7; i >= 0; --i) {
            s.push_back(static_cast<char>(static_cast<std::uint64_t>(v) >> (8 * i)));
        }
        return *this;
    }
    bytes_out& b(bool v) {
        s.push_back(v ? '\1' : '\0');
        return *this;
    }
    bytes_out& str(std::string_view v) {
        i32(static_cast<std::int32_t>(v.size()));
        s.append(v);
        return *this;
    }
    bytes_out& stat(std::int64_t czxid, std::int32_t version, std::int32_t len) {
        i64(czxid).i64(czxid + 1).i64(1000).i64(2000);  // czxid mzxid ctime mtime
        i32(version).i32(3).i32(0);                     // version cversion aversion
        i64(0).i32(len).i32(2).i64(czxid + 2);          // owner dataLength numChildren pzxid
        return *this;
    }
    std::string framed() const {
        bytes_out f;
        f.i32(static_cast<std::int32_t>(s.size()));
        return f.s + s;
    }
};

bytes_view view(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}
std::string text(const bytes& b) {
    return {b.begin(), b.end()};
}

// A multiRead reply body after its header: a node, then a missing node.
std::string two_results() {
    bytes_out o;
    o.i32(4).b(false).i32(0).str("{\"leader\":1}").stat(40, 7, 12);
    o.i32(-1).b(false).i32(-101).i32(-101);
    o.i32(-1).b(true).i32(-1);
    return o.s;
}

TEST(zk_multi_read, a_request_is_laid_out_as_zookeeper_reads_it) {
    std::vector<std::string> paths{"/a", "/bc"};
    bytes_out want;
    want.i32(9).i32(22);
    want.i32(4).b(false).i32(-1).str("/a").b(false);
    want.i32(4).b(false).i32(-1).str("/bc").b(false);
    want.i32(-1).b(true).i32(-1);
    EXPECT_EQ(text(encode_multi_read(9, paths)), want.framed());

    bytes_out sync;
    sync.i32(1).i32(9).str("/chroot");
    EXPECT_EQ(text(encode_sync(1, "/chroot")), sync.framed());

    bytes_out hello;
    hello.i32(0).i64(0).i32(6000).i64(0).str(std::string(16, '\0')).b(false);
    EXPECT_EQ(text(encode_connect(6000ms)), hello.framed());
}

TEST(zk_multi_read, a_reply_gives_each_node_or_its_error) {
    auto r = decode_multi_read(view(two_results()), 2);
    ASSERT_TRUE(r.has_value()) << r.err().to_string();
    ASSERT_EQ(r->size(), 2U);
    ASSERT_TRUE((*r)[0].has_value());
    EXPECT_EQ((*r)[0]->data, "{\"leader\":1}");
    EXPECT_EQ((*r)[0]->stat.czxid, zxid{40});
    EXPECT_EQ((*r)[0]->stat.mzxid, zxid{41});
    EXPECT_EQ((*r)[0]->stat.pzxid, zxid{42});
    EXPECT_EQ((*r)[0]->stat.version, model::zk_version{7});
    EXPECT_EQ((*r)[0]->stat.cversion, 3);
    EXPECT_EQ((*r)[0]->stat.data_length, 12);
    EXPECT_EQ((*r)[0]->stat.num_children, 2);
    EXPECT_EQ((*r)[1].code(), errc::no_node);

    bytes_out null_data;  // a null buffer (-1) is an empty znode
    null_data.i32(4).b(false).i32(0).i32(-1).stat(5, 0, 0).i32(-1).b(true).i32(-1);
    auto n = decode_multi_read(view(null_data.s), 1);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ((*n)[0]->data, "");
}

TEST(zk_multi_read, replies_that_do_not_match_the_request_are_refused) {
    EXPECT_EQ(decode_multi_read(view(two_results()), 1).code(), errc::malformed_data) << "too many";
    EXPECT_EQ(decode_multi_read(view(two_results()), 3).code(), errc::malformed_data) << "too few";
    EXPECT_EQ(decode_multi_read(view(two_results() + "x"), 2).code(), errc::malformed_data);
    bytes_out setdata;  // a write's result in a read reply
    setdata.i32(5).b(false).i32(0).stat(1, 1, 0).i32(-1).b(true).i32(-1);
    EXPECT_EQ(decode_multi_read(view(setdata.s), 1).code(), errc::malformed_data);
    bytes_out huge;  // a data length beyond what follows
    huge.i32(4).b(false).i32(0).i32(1 << 30);
    EXPECT_EQ(decode_multi_read(view(huge.s), 1).code(), errc::malformed_data);
    bytes_out negative;
    negative.i32(4).b(false).i32(0).i32(-7).stat(1, 1, 0).i32(-1).b(true).i32(-1);
    EXPECT_EQ(decode_multi_read(view(negative.s), 1).code(), errc::malformed_data);
    bytes_out no_error;  // an error result that says "ok"
    no_error.i32(-1).b(false).i32(0).i32(0).i32(-1).b(true).i32(-1);
    EXPECT_EQ(decode_multi_read(view(no_error.s), 1).code(), errc::malformed_data);
}

TEST(zk_multi_read, every_truncation_and_mutation_is_an_error_or_a_valid_answer) {
    const std::string good = two_results();
    for (std::size_t n = 0; n < good.size(); ++n) {
        EXPECT_EQ(decode_multi_read(view(good.substr(0, n)), 2).code(), errc::malformed_data) << n;
    }
    std::mt19937 rng(20261121);
    for (int seed = 0; seed < 20000; ++seed) {
        std::string m = good;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
            m[rng() % m.size()] = static_cast<char>(rng());
        }
        auto r = decode_multi_read(view(m), 2);
        if (r.has_value()) {
            ASSERT_EQ(r->size(), 2U) << seed;
        } else {
            ASSERT_EQ(r.code(), errc::malformed_data) << seed;
        }
    }
}

TEST(zk_multi_read, connect_replies_and_server_names) {
    bytes_out ok;
    ok.i32(0).i32(4000).i64(0x1234).str(std::string(16, 'p')).b(false);
    EXPECT_EQ(decode_connect_reply(view(ok.s)).value(), 4000ms);
    bytes_out refused;  // how a server says no: timeout 0, no session
    refused.i32(0).i32(0).i64(0).str(std::string(16, '\0'));
    EXPECT_EQ(decode_connect_reply(view(refused.s)).code(), errc::connection_loss);
    EXPECT_EQ(decode_connect_reply(view(ok.s.substr(0, 10))).code(), errc::malformed_data);

    EXPECT_EQ(parse_server("127.0.0.1:2181").value(),
              std::pair(std::string("127.0.0.1"), std::uint16_t{2181}));
    EXPECT_EQ(parse_server("::1:2181").value().first, "::1");
    EXPECT_EQ(parse_server("[::1]:2181").value().first, "::1");
    EXPECT_TRUE(parse_server("127.0.0.1").has_error());
    EXPECT_TRUE(parse_server("127.0.0.1:0").has_error());
    EXPECT_TRUE(parse_server("127.0.0.1:99999").has_error());
    EXPECT_TRUE(parse_server(":2181").has_error());
}

// A one-connection server on a local port that answers the handshake and the sync, then
// does whatever `then` says with the first multiRead request.
class scripted_server {
public:
    using script = std::function<void(tcp::socket&)>;
    explicit scripted_server(script then)
        : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          thread_([this, then = std::move(then)] { serve(then); }) {}
    ~scripted_server() { thread_.join(); }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    static std::string read_frame(tcp::socket& s) {
        std::array<unsigned char, 4> len{};
        asio::read(s, asio::buffer(len));
        std::string body((std::size_t{len[0]} << 24) | (std::size_t{len[1]} << 16) |
                             (std::size_t{len[2]} << 8) | len[3],
                         '\0');
        asio::read(s, asio::buffer(body));
        return body;
    }

private:
    void serve(const script& then) {
        try {
            tcp::socket s(ioc_);
            acceptor_.accept(s);
            (void)read_frame(s);  // connect
            bytes_out hello;
            hello.i32(0).i32(4000).i64(77).str(std::string(16, 'p')).b(false);
            asio::write(s, asio::buffer(hello.framed()));
            (void)read_frame(s);  // sync, xid 1
            bytes_out synced;
            synced.i32(1).i64(10).i32(0).str("/");
            asio::write(s, asio::buffer(synced.framed()));
            then(s);
        } catch (const std::exception&) {
            // the client hung up: its side of the test decides
        }
    }
    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

result<std::vector<result<node_data>>> read_from(std::uint16_t port, std::vector<std::string> paths,
                                                 std::chrono::milliseconds timeout = 5000ms) {
    asio::io_context ioc;
    multi_read_config cfg;
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.session_timeout = timeout;
    std::optional<result<std::vector<result<node_data>>>> out;
    auto handle = start_multi_read(
        ioc, cfg, std::move(paths),
        [&](result<std::vector<result<node_data>>> r) { out.emplace(std::move(r)); });
    ioc.run_for(20s);
    EXPECT_TRUE(out.has_value()) << "no completion";
    return out ? std::move(*out) : result<std::vector<result<node_data>>>(error(errc::closed));
}

TEST(zk_multi_read, a_server_without_multi_read_is_unsupported) {
    scripted_server srv([](tcp::socket& s) {
        (void)scripted_server::read_frame(s);
        bytes_out no;
        no.i32(2).i64(11).i32(-6);  // UNIMPLEMENTED
        asio::write(s, asio::buffer(no.framed()));
    });
    EXPECT_EQ(read_from(srv.port(), {"/a"}).code(), errc::unsupported);
}

TEST(zk_multi_read, an_oversized_or_mismatched_reply_fails_the_read) {
    scripted_server big([](tcp::socket& s) {
        (void)scripted_server::read_frame(s);
        bytes_out len;
        len.i32(0x7fffffff);  // announces 2 GiB: refused before allocating
        asio::write(s, asio::buffer(len.s));
        (void)scripted_server::read_frame(s);  // waits for the client to hang up
    });
    EXPECT_EQ(read_from(big.port(), {"/a"}).code(), errc::malformed_data);

    scripted_server wrong_xid([](tcp::socket& s) {
        (void)scripted_server::read_frame(s);
        bytes_out r;
        r.i32(5).i64(11).i32(0);
        r.s += two_results();
        asio::write(s, asio::buffer(r.framed()));
        (void)scripted_server::read_frame(s);
    });
    EXPECT_EQ(read_from(wrong_xid.port(), {"/a", "/b"}).code(), errc::malformed_data);
}

TEST(zk_multi_read, a_silent_server_times_out_and_a_closed_one_is_connection_loss) {
    scripted_server silent([](tcp::socket& s) {
        (void)scripted_server::read_frame(s);
        (void)scripted_server::read_frame(s);  // never answers; returns when the client hangs up
    });
    EXPECT_EQ(read_from(silent.port(), {"/a"}, 300ms).code(), errc::operation_timeout);

    scripted_server gone([](tcp::socket& s) { s.close(); });
    EXPECT_EQ(read_from(gone.port(), {"/a"}).code(), errc::connection_loss);
}

TEST(zk_multi_read, answers_land_at_their_paths_and_invalid_paths_fail_alone) {
    scripted_server srv([](tcp::socket& s) {
        (void)scripted_server::read_frame(s);
        bytes_out r;
        r.i32(2).i64(11).i32(0);
        r.s += two_results();
        asio::write(s, asio::buffer(r.framed()));
        (void)scripted_server::read_frame(s);  // closeSession
        bytes_out bye;
        bye.i32(3).i64(12).i32(0);
        asio::write(s, asio::buffer(bye.framed()));
    });
    auto r = read_from(srv.port(), {"/a", "no-slash", "/b"});
    ASSERT_TRUE(r.has_value()) << r.err().to_string();
    ASSERT_EQ(r->size(), 3U);
    EXPECT_EQ((*r)[0]->data, "{\"leader\":1}");
    EXPECT_EQ((*r)[1].code(), errc::bad_arguments);
    EXPECT_EQ((*r)[2].code(), errc::no_node);
}

}  // namespace
}  // namespace gregor::coord::detail
