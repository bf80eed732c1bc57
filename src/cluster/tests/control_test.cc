// Goal: the control channel between `gregor cluster kill|pause|resume|restart` and the
// supervisor parses exactly what the client writes and refuses anything else, and the
// supervisor side picks up request files and answers them. Method: codec pairs, bad
// inputs, and the file exchange in a temp directory (without signals: the supervisor also
// scans on every tick).
#include "cluster/control.h"

#include "cluster/errc.h"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace gregor::cluster {
namespace {

TEST(cluster_control, requests_and_replies_round_trip) {
    for (auto a : {control_action::kill, control_action::pause, control_action::resume,
                   control_action::restart}) {
        control_request r{a, 7};
        auto back = parse_request(encode_request(r));
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, r);
    }
    auto reply = parse_reply(encode_reply({false, "no broker 9 in this cluster"}));
    ASSERT_TRUE(reply);
    EXPECT_FALSE(reply->ok);
    EXPECT_EQ(reply->message, "no broker 9 in this cluster");
}

TEST(cluster_control, bad_requests_are_refused) {
    for (const char* text : {"", "kill", "kill x", "kill -1", "explode 2", "kill 2 3", "kill 2x"}) {
        auto r = parse_request(text);
        EXPECT_FALSE(r) << text;
        if (!r) {
            EXPECT_EQ(r.code(), errc::bad_request);
        }
    }
    EXPECT_FALSE(parse_reply("maybe so"));
}

TEST(cluster_control, supervisor_takes_request_files_and_removes_them) {
    char tmpl[] = "/tmp/gregor-control-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    cluster_layout l{tmpl};
    std::filesystem::create_directories(l.control_dir());
    std::ofstream(l.control_dir() / "42.request") << "restart 2\n";
    std::ofstream(l.control_dir() / "43.request") << "restart two\n";
    std::ofstream(l.control_dir() / "junk.request") << "kill 1\n";
    auto got = take_requests(l);
    ASSERT_EQ(got.size(), 2u);
    for (const auto& p : got) {
        if (p.client == 42) {
            ASSERT_TRUE(p.request);
            EXPECT_EQ(*p.request, (control_request{control_action::restart, 2}));
        } else {
            EXPECT_EQ(p.client, 43);
            EXPECT_FALSE(p.request);
        }
    }
    EXPECT_TRUE(take_requests(l).empty());
    std::filesystem::remove_all(l.dir);
}

TEST(cluster_control, client_times_out_when_nobody_answers) {
    char tmpl[] = "/tmp/gregor-control-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    cluster_layout l{tmpl};
    // Our own pid stands in for a supervisor that ignores SIGUSR1... which would kill us,
    // so use a pid that cannot exist: the call notices the supervisor is gone.
    auto r =
        call_supervisor(l, 0x3fffffff, {control_action::kill, 1}, std::chrono::milliseconds(2000));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), errc::timed_out);
    std::filesystem::remove_all(l.dir);
}

}  // namespace
}  // namespace gregor::cluster
