// Goal: meta.properties keeps a broker's identity across restarts the way Kafka's does, and
// refuses log dirs that belong to another broker id or another cluster; a damaged file is
// a clear error. Method: real files in a temporary directory.
#include "broker/meta_properties.h"

#include "broker/errc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace gregor::broker {
namespace {

namespace fs = std::filesystem;
using model::node_id;

struct temp_dirs : ::testing::Test {
    fs::path root = fs::temp_directory_path() /
                    ("gregor-meta-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                     "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::vector<std::string> dirs{(root / "a").string(), (root / "b").string()};
    ~temp_dirs() override { fs::remove_all(root); }
    void write(const std::string& dir, const std::string& text) {
        fs::create_directories(dir);
        std::ofstream(fs::path(dir) / "meta.properties") << text;
    }
};

TEST_F(temp_dirs, identity_written_once_is_read_back_from_every_dir) {
    ASSERT_TRUE(record_identity(dirs, node_id(1001), "clusterA"));
    for (const auto& d : dirs) {
        auto m = read_meta_properties(d);
        ASSERT_TRUE(m && *m);
        EXPECT_EQ(**m, (meta_properties{node_id(1001), "clusterA"}));
    }
    auto id = stored_broker_id(dirs, node_id(-1));
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, node_id(1001));
}

TEST_F(temp_dirs, no_file_means_no_stored_id) {
    auto id = stored_broker_id(dirs, node_id(3));
    ASSERT_TRUE(id);
    EXPECT_FALSE(id->has_value());
}

TEST_F(temp_dirs, a_configured_id_other_than_the_stored_one_is_refused) {
    write(dirs[0], "version=0\nbroker.id=2\ncluster.id=x\n");
    auto id = stored_broker_id(dirs, node_id(3));
    ASSERT_FALSE(id);
    EXPECT_EQ(id.code(), errc::identity_mismatch);
    EXPECT_NE(id.err().to_string().find("doesn't match stored broker.id 2"), std::string::npos);
}

TEST_F(temp_dirs, dirs_of_two_different_brokers_are_refused) {
    write(dirs[0], "version=0\nbroker.id=2\n");
    write(dirs[1], "version=0\nbroker.id=5\n");
    EXPECT_EQ(stored_broker_id(dirs, node_id(-1)).code(), errc::identity_mismatch);
}

TEST_F(temp_dirs, joining_another_cluster_is_refused_and_nothing_is_overwritten) {
    write(dirs[0], "version=0\nbroker.id=2\ncluster.id=old\n");
    auto r = record_identity(dirs, node_id(2), "new");
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().to_string().find("wrong cluster"), std::string::npos);
    EXPECT_EQ(read_meta_properties(dirs[0]).value()->cluster_id, "old");
}

TEST_F(temp_dirs, damaged_files_are_errors_naming_the_file) {
    for (const std::string bad : {"version=1\nbroker.id=2\n", "version=0\nbroker.id=two\n",
                                  "version=0\nbroker.id=-4\n", "version=0\nno equals sign\n",
                                  "broker.id=2\n"}) {
        write(dirs[0], bad);
        auto m = read_meta_properties(dirs[0]);
        ASSERT_FALSE(m) << bad;
        EXPECT_EQ(m.code(), errc::identity_io) << bad;
        EXPECT_NE(m.err().to_string().find("meta.properties"), std::string::npos);
    }
}

}  // namespace
}  // namespace gregor::broker
