// Goal: server.properties files written for Kafka parse the way Java's Properties reads
// them (separators, comments, continuations, escapes), with line numbers kept for errors.
#include "broker/properties.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

TEST(properties, separators_comments_and_blank_lines) {
    auto r = parse_properties(
        "# Kafka sample\n"
        "! also a comment\n"
        "\n"
        "broker.id=1\n"
        "  log.dirs : /tmp/a,/tmp/b  \n"
        "zookeeper.connect 127.0.0.1:2181\n"
        "empty.value=\n");
    ASSERT_TRUE(r.has_value()) << r.err().to_string();
    ASSERT_EQ(r->size(), 4U);
    EXPECT_EQ((*r)[0].key, "broker.id");
    EXPECT_EQ((*r)[0].value, "1");
    EXPECT_EQ((*r)[0].line, 4);
    EXPECT_EQ((*r)[1].key, "log.dirs");
    EXPECT_EQ((*r)[1].value, "/tmp/a,/tmp/b");
    EXPECT_EQ((*r)[2].value, "127.0.0.1:2181");
    EXPECT_EQ((*r)[3].value, "");
}

TEST(properties, continuation_lines_and_escapes) {
    auto r = parse_properties(
        "listeners=PLAINTEXT://:9092,\\\n"
        "    INTERNAL://:9093\n"
        "path=C\\:\\\\data\\tx\n"
        "uni=\\u00e9\n"
        "key\\=with\\=equals=v\r\n");
    ASSERT_TRUE(r.has_value()) << r.err().to_string();
    ASSERT_EQ(r->size(), 4U);
    EXPECT_EQ((*r)[0].value, "PLAINTEXT://:9092,INTERNAL://:9093");
    EXPECT_EQ((*r)[1].value, "C:\\data\tx");
    EXPECT_EQ((*r)[2].value, "\xc3\xa9");
    EXPECT_EQ((*r)[3].key, "key=with=equals");
    EXPECT_EQ((*r)[3].value, "v");
}

TEST(properties, malformed_unicode_escape_is_an_error_with_the_line) {
    auto r = parse_properties("a=1\nb=\\u12\n");
    ASSERT_TRUE(r.has_error());
    EXPECT_NE(r.err().detail.find("line 2"), std::string::npos) << r.err().detail;
}

TEST(properties, override_needs_key_and_equals) {
    auto p = parse_override("num.partitions=3");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->key, "num.partitions");
    EXPECT_EQ(p->value, "3");
    EXPECT_EQ(p->line, 0);
    EXPECT_TRUE(parse_override("num.partitions").has_error());
    EXPECT_TRUE(parse_override("=3").has_error());
}

}  // namespace
}  // namespace gregor::broker
