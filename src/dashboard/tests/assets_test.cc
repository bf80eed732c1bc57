// The embedded dashboard: every file the page loads is served, with the type a browser
// needs to run it, and the bytes are the files' own.
#include "dashboard/assets.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace gregor::dashboard {
namespace {

TEST(DashboardAssets, RootIsThePageAndEveryScriptAndStylesheetItLoadsIsServed) {
    auto page = find("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(find("/index.html")->body, page->body);
    const std::string html(page->body);
    const std::regex ref(R"re((?:src|href)="(/[^"]+)")re");
    int refs = 0;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), ref);
         it != std::sregex_iterator(); ++it) {
        const std::string path = (*it)[1];
        auto a = find(path);
        ASSERT_TRUE(a) << path;
        EXPECT_FALSE(a->body.empty()) << path;
        if (path.ends_with(".js")) {
            EXPECT_EQ(a->content_type, "text/javascript; charset=utf-8") << path;
        } else {
            EXPECT_EQ(a->content_type, "text/css; charset=utf-8") << path;
        }
        ++refs;
    }
    EXPECT_EQ(refs, 3);  // the stylesheet, Chart.js, the app
}

TEST(DashboardAssets, ChartJsIsDebiansBuildAndTheAppIsEmbeddedWhole) {
    auto chart = find("/chart.min.js");
    ASSERT_TRUE(chart);
    EXPECT_NE(chart->body.find("Chart.js"), std::string_view::npos);  // its license banner
    auto app = find("/dashboard.js");
    ASSERT_TRUE(app);
    // The file's last statement arrives: nothing was cut at a buffer boundary.
    EXPECT_TRUE(app->body.ends_with("setInterval(refresh, refreshMs);\n"));
}

TEST(DashboardAssets, UnknownAndRelativePathsAreNotServed) {
    EXPECT_FALSE(find("/nope.js"));
    EXPECT_FALSE(find("index.html"));
    EXPECT_FALSE(find("/../index.html"));
    EXPECT_FALSE(find(""));
    EXPECT_EQ(paths().size(), 5U);
}

}  // namespace
}  // namespace gregor::dashboard
