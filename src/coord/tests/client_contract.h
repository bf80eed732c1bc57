// The coord::client contract, as a typed gtest suite run against every implementation.
//
// Goal: fake_client must behave like ZooKeeper itself, or tests built on the fake prove
// nothing. Method: each test drives one or two clients through an `Env` (a backend: the
// in-memory ensemble, or a real ZooKeeper server) and asserts what a caller relies on:
// versions, conditional writes, ephemerals, sequential names, one-shot watches, atomic
// multi and chroot. Instantiated in src/coord/tests (fake, unit) and
// tests/integration/coord (real server, integration).
//
// An Env provides: make_client(chroot) -> std::unique_ptr<coord::client> (connected when
// returned), run_until(pred) -> bool (drives deliveries until pred() or gives up),
// expire(client&) (the server ends that client's session).
#pragma once

#include "coord/client.h"
#include "coord/limits.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace gregor::coord::contract {

template <class Env>
class client_contract : public ::testing::Test {
protected:
    Env env;

    template <class T, class Call>
    result<T> wait(Call call) {
        std::optional<result<T>> out;
        call([&out](result<T> r) { out.emplace(std::move(r)); });
        EXPECT_TRUE(env.run_until([&] { return out.has_value(); })) << "no completion";
        if (!out) {
            return error(errc::operation_timeout, "test gave up waiting");
        }
        return std::move(*out);
    }
    result<std::string> create(client& c, const std::string& p, const std::string& d,
                               create_mode m = create_mode::persistent) {
        return wait<std::string>([&](auto cb) { c.create(p, d, m, cb); });
    }
    result<node_data> get(client& c, const std::string& p, watch_fn w = {}) {
        return wait<node_data>([&](auto cb) { c.get(p, std::move(w), cb); });
    }
    result<znode_stat> set(client& c, const std::string& p, const std::string& d,
                           model::zk_version v) {
        return wait<znode_stat>([&](auto cb) { c.set(p, d, v, cb); });
    }
    result<void> remove(client& c, const std::string& p, model::zk_version v) {
        return wait<void>([&](auto cb) { c.remove(p, v, cb); });
    }
    result<std::optional<znode_stat>> exists(client& c, const std::string& p, watch_fn w = {}) {
        return wait<std::optional<znode_stat>>([&](auto cb) { c.exists(p, std::move(w), cb); });
    }
    result<children> kids(client& c, const std::string& p, watch_fn w = {}) {
        return wait<children>([&](auto cb) { c.get_children(p, std::move(w), cb); });
    }
    multi_response multi(client& c, std::vector<op> ops) {
        std::optional<multi_response> out;
        c.multi(std::move(ops), [&out](multi_response r) { out.emplace(std::move(r)); });
        EXPECT_TRUE(env.run_until([&] { return out.has_value(); }));
        return out ? *out : multi_response{make_error_code(errc::operation_timeout), {}};
    }
};

TYPED_TEST_SUITE_P(client_contract);

TYPED_TEST_P(client_contract, versions_count_sets_and_guard_conditional_writes) {
    auto c = this->env.make_client("");
    ASSERT_EQ(this->create(*c, "/v", "a").value(), "/v");
    auto g = this->get(*c, "/v");
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->data, "a");
    EXPECT_EQ(g->stat.version, model::zk_version{0});
    EXPECT_EQ(g->stat.czxid, g->stat.mzxid);
    auto s = this->set(*c, "/v", "b", model::zk_version{0});
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->version, model::zk_version{1});
    EXPECT_GT(s->mzxid, s->czxid);
    EXPECT_EQ(this->set(*c, "/v", "c", model::zk_version{0}).code(), errc::bad_version);
    EXPECT_EQ(this->get(*c, "/v")->data, "b");
    EXPECT_EQ(this->set(*c, "/v", "d", any_version)->version, model::zk_version{2});
    EXPECT_EQ(this->remove(*c, "/v", model::zk_version{1}).code(), errc::bad_version);
    EXPECT_TRUE(this->remove(*c, "/v", model::zk_version{2}).has_value());
    EXPECT_EQ(this->get(*c, "/v").code(), errc::no_node);
}

TYPED_TEST_P(client_contract, create_and_remove_report_tree_errors) {
    auto c = this->env.make_client("");
    ASSERT_TRUE(this->create(*c, "/t", "").has_value());
    EXPECT_EQ(this->create(*c, "/t", "").code(), errc::node_exists);
    EXPECT_EQ(this->create(*c, "/missing/child", "").code(), errc::no_node);
    ASSERT_TRUE(this->create(*c, "/t/c", "").has_value());
    EXPECT_EQ(this->remove(*c, "/t", any_version).code(), errc::not_empty);
    EXPECT_EQ(this->remove(*c, "/nope", any_version).code(), errc::no_node);
    EXPECT_EQ(this->get(*c, "bad/path").code(), errc::bad_arguments);
    auto k = this->kids(*c, "/t");
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->names, std::vector<std::string>{"c"});
    EXPECT_EQ(k->stat.num_children, 1);
    EXPECT_EQ(this->exists(*c, "/nope").value(), std::nullopt);
}

TYPED_TEST_P(client_contract, ephemeral_is_owned_by_the_session_and_vanishes_on_close) {
    auto owner = this->env.make_client("");
    auto other = this->env.make_client("");
    ASSERT_TRUE(this->create(*owner, "/e", "x", create_mode::ephemeral).has_value());
    auto st = this->exists(*other, "/e").value();
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->ephemeral_owner, owner->session());
    EXPECT_EQ(this->create(*owner, "/e/child", "").code(), errc::no_children_for_ephemerals);
    owner->close();
    EXPECT_EQ(this->exists(*other, "/e").value(), std::nullopt);
}

TYPED_TEST_P(client_contract, ephemeral_vanishes_when_the_session_expires) {
    auto owner = this->env.make_client("");
    auto other = this->env.make_client("");
    std::vector<session_event> events;
    owner->add_session_listener([&](const session_event& e) { events.push_back(e); });
    session_id first = owner->session();
    ASSERT_TRUE(this->create(*owner, "/x", "", create_mode::ephemeral).has_value());
    this->env.expire(*owner);
    ASSERT_TRUE(this->env.run_until(
        [&] { return !events.empty() && events.back().state == session_state::connected; }));
    EXPECT_NE(owner->session(), first);
    bool saw_expired = false;
    for (const auto& e : events) {
        saw_expired = saw_expired || (e.state == session_state::expired && e.session == first);
    }
    EXPECT_TRUE(saw_expired);
    EXPECT_EQ(this->exists(*other, "/x").value(), std::nullopt);
    // The new session works and owns what it creates.
    ASSERT_TRUE(this->create(*owner, "/x", "", create_mode::ephemeral).has_value());
    EXPECT_EQ(this->exists(*other, "/x").value()->ephemeral_owner, owner->session());
}

TYPED_TEST_P(client_contract, data_watch_fires_once) {
    auto c = this->env.make_client("");
    auto w = this->env.make_client("");
    ASSERT_TRUE(this->create(*c, "/w", "0").has_value());
    std::vector<watch_event> seen;
    ASSERT_TRUE(this->get(*w, "/w", [&](const watch_event& e) { seen.push_back(e); }));
    ASSERT_TRUE(this->set(*c, "/w", "1", any_version));
    ASSERT_TRUE(this->env.run_until([&] { return !seen.empty(); }));
    ASSERT_TRUE(this->set(*c, "/w", "2", any_version));
    ASSERT_TRUE(this->get(*w, "/w"));  // a round trip after the second change
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].type, watch_event_type::data_changed);
    EXPECT_EQ(seen[0].path, "/w");
}

TYPED_TEST_P(client_contract, exists_and_child_watches_see_creation_and_deletion) {
    auto c = this->env.make_client("");
    std::vector<watch_event> seen;
    auto rec = [&](const watch_event& e) { seen.push_back(e); };
    ASSERT_TRUE(this->create(*c, "/p", "").has_value());
    ASSERT_EQ(this->exists(*c, "/p/n", rec).value(), std::nullopt);
    ASSERT_TRUE(this->kids(*c, "/p", rec).has_value());
    ASSERT_TRUE(this->create(*c, "/p/n", "").has_value());
    ASSERT_TRUE(this->env.run_until([&] { return seen.size() == 2; }));
    std::vector<watch_event_type> types{seen[0].type, seen[1].type};
    std::sort(types.begin(), types.end());
    EXPECT_EQ(types, (std::vector{watch_event_type::created, watch_event_type::children_changed}));
    seen.clear();
    ASSERT_TRUE(this->get(*c, "/p/n", rec).has_value());
    ASSERT_TRUE(this->remove(*c, "/p/n", any_version).has_value());
    ASSERT_TRUE(this->env.run_until([&] { return seen.size() == 1; }));
    EXPECT_EQ(seen[0].type, watch_event_type::deleted);
    EXPECT_EQ(seen[0].path, "/p/n");
}

TYPED_TEST_P(client_contract, multi_applies_all_or_nothing) {
    auto c = this->env.make_client("");
    ASSERT_TRUE(this->create(*c, "/m", "0").has_value());
    auto bad =
        this->multi(*c, {create_op{"/m1", "a", create_mode::persistent},
                         check_op{"/m", model::zk_version{5}}, set_op{"/m", "x", any_version}});
    EXPECT_EQ(bad.error, errc::bad_version);
    ASSERT_EQ(bad.results.size(), 3U);
    EXPECT_FALSE(bad.results[0].error);
    EXPECT_EQ(bad.results[1].error, errc::bad_version);
    EXPECT_EQ(bad.results[2].error, errc::runtime_inconsistency);
    EXPECT_EQ(bad.failed_index(), 1U);
    EXPECT_EQ(this->exists(*c, "/m1").value(), std::nullopt);
    EXPECT_EQ(this->get(*c, "/m")->data, "0");

    auto good = this->multi(
        *c, {create_op{"/m1", "a", create_mode::persistent}, check_op{"/m", model::zk_version{0}},
             set_op{"/m", "x", model::zk_version{0}}, remove_op{"/m1", any_version}});
    ASSERT_FALSE(good.error) << good.error.message();
    ASSERT_EQ(good.results.size(), 4U);
    EXPECT_EQ(good.results[0].path, "/m1");
    ASSERT_TRUE(good.results[2].stat.has_value());
    EXPECT_EQ(good.results[2].stat->version, model::zk_version{1});
    EXPECT_EQ(this->get(*c, "/m")->data, "x");
    EXPECT_EQ(this->exists(*c, "/m1").value(), std::nullopt);
}

// ZooKeeper's server closes a connection that sends a request over its jute.maxbuffer
// (0xfffff bytes), failing every other operation in flight on it. The client refuses such a
// request itself and the session carries on; a znode of 1,000,000 bytes still fits.
TYPED_TEST_P(client_contract, a_request_over_the_server_limit_is_refused_and_the_session_stays) {
    auto c = this->env.make_client("");
    int disconnects = 0;
    c->add_session_listener([&](const session_event& e) {
        disconnects += e.state == session_state::disconnected ? 1 : 0;
    });
    const std::string over(limits::request_bytes_max, 'x');
    const std::string half(limits::request_bytes_max / 2, 'y');
    EXPECT_EQ(this->create(*c, "/big", over).code(), errc::request_too_large);
    ASSERT_TRUE(this->create(*c, "/small", "s").has_value());
    EXPECT_EQ(this->set(*c, "/small", over, any_version).code(), errc::request_too_large);
    auto both = this->multi(*c, {create_op{"/h1", half, create_mode::persistent},
                                 create_op{"/h2", half, create_mode::persistent}});
    EXPECT_EQ(both.error, errc::request_too_large);
    EXPECT_EQ(this->exists(*c, "/h1").value(), std::nullopt);
    const std::string fits(1'000'000, 'z');
    ASSERT_TRUE(this->create(*c, "/fits", fits).has_value());
    EXPECT_EQ(this->get(*c, "/fits")->data.size(), fits.size());
    EXPECT_EQ(this->get(*c, "/small")->data, "s");
    EXPECT_EQ(disconnects, 0);
}

TYPED_TEST_P(client_contract, sequential_names_use_a_ten_digit_parent_counter) {
    auto c = this->env.make_client("");
    ASSERT_TRUE(this->create(*c, "/s", "").has_value());
    ASSERT_TRUE(this->create(*c, "/s/other", "").has_value());
    auto a = this->create(*c, "/s/n_", "", create_mode::persistent_sequential);
    auto b = this->create(*c, "/s/n_", "", create_mode::ephemeral_sequential);
    ASSERT_TRUE(a.has_value());
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(a.value(), "/s/n_0000000001");
    EXPECT_EQ(b.value(), "/s/n_0000000002");
    auto m = this->multi(*c, {create_op{"/s/n_", "", create_mode::persistent_sequential}});
    ASSERT_FALSE(m.error);
    EXPECT_EQ(m.results[0].path, "/s/n_0000000003");
}

TYPED_TEST_P(client_contract, chroot_makes_paths_relative) {
    auto root = this->env.make_client("");
    ASSERT_TRUE(this->create(*root, "/chroot", "").has_value());
    auto c = this->env.make_client("/chroot");
    std::vector<watch_event> seen;
    ASSERT_EQ(this->create(*c, "/a", "1").value(), "/a");
    ASSERT_TRUE(this->get(*c, "/a", [&](const watch_event& e) { seen.push_back(e); }));
    EXPECT_EQ(this->get(*root, "/chroot/a")->data, "1");
    auto m = this->multi(*c, {create_op{"/b", "", create_mode::persistent}});
    ASSERT_FALSE(m.error);
    EXPECT_EQ(m.results[0].path, "/b");
    ASSERT_TRUE(this->set(*root, "/chroot/a", "2", any_version));
    ASSERT_TRUE(this->env.run_until([&] { return !seen.empty(); }));
    EXPECT_EQ(seen[0].path, "/a");
    auto k = this->kids(*c, "/");
    ASSERT_TRUE(k.has_value());
    auto names = k->names;
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
}

// read_many is what a controller failover loads every partition state with: each answer
// must be exactly what get() says, in the order asked, across several server requests.
TYPED_TEST_P(client_contract, read_many_answers_each_path_in_order_as_get_does) {
    auto root = this->env.make_client("");
    ASSERT_TRUE(this->create(*root, "/r", "top").has_value());
    ASSERT_TRUE(this->create(*root, "/r/a", "1").has_value());
    ASSERT_TRUE(this->create(*root, "/r/b", "").has_value());
    ASSERT_TRUE(this->set(*root, "/r/a", "2", any_version).has_value());
    // Enough nodes for several multiRead requests (1,000 reads each in zk_client).
    constexpr int many = 2500;
    std::vector<std::string> paths;
    for (int first = 0; first < many; first += 500) {
        std::vector<op> ops;
        for (int i = first; i < first + 500; ++i) {
            paths.push_back("/r/n" + std::to_string(i));
            ops.push_back(create_op{paths.back(), "v" + std::to_string(i)});
        }
        ASSERT_FALSE(this->multi(*root, std::move(ops)).error);
    }
    std::vector<std::string> asked{"/r/a", "/missing", "bad/path", "/r/b", "/r"};
    asked.insert(asked.end(), paths.begin(), paths.end());

    auto c = this->env.make_client("/r");
    auto rel = this->template wait<std::vector<result<node_data>>>(
        [&](auto cb) { c->read_many({"/a", "/"}, cb); });
    auto all = this->template wait<std::vector<result<node_data>>>(
        [&](auto cb) { root->read_many(asked, cb); });
    ASSERT_TRUE(all.has_value()) << all.err().to_string();
    ASSERT_EQ(all->size(), asked.size());
    const auto& got = *all;
    auto a = this->get(*root, "/r/a");
    ASSERT_TRUE(got[0].has_value());
    EXPECT_EQ(got[0]->data, "2");
    EXPECT_EQ(got[0]->stat, a->stat);
    EXPECT_EQ(got[1].code(), errc::no_node);
    EXPECT_EQ(got[2].code(), errc::bad_arguments);
    ASSERT_TRUE(got[3].has_value());
    EXPECT_EQ(got[3]->data, "");
    EXPECT_EQ(got[3]->stat.version, model::zk_version{0});
    ASSERT_TRUE(got[4].has_value());
    EXPECT_EQ(got[4]->data, "top");
    EXPECT_EQ(got[4]->stat.num_children, 2 + many);
    for (int i = 0; i < many; ++i) {
        const auto& n = got[5 + static_cast<std::size_t>(i)];
        ASSERT_TRUE(n.has_value()) << paths[static_cast<std::size_t>(i)];
        ASSERT_EQ(n->data, "v" + std::to_string(i));
    }

    ASSERT_TRUE(rel.has_value()) << rel.err().to_string();
    ASSERT_EQ(rel->size(), 2U);
    EXPECT_EQ((*rel)[0]->data, "2") << "paths are relative to the chroot";
    EXPECT_EQ((*rel)[1]->data, "top");

    auto none = this->template wait<std::vector<result<node_data>>>(
        [&](auto cb) { root->read_many({}, cb); });
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->empty());
    root->close();
    auto after = this->template wait<std::vector<result<node_data>>>(
        [&](auto cb) { root->read_many({"/r"}, cb); });
    EXPECT_EQ(after.code(), errc::closed);
}

REGISTER_TYPED_TEST_SUITE_P(client_contract, versions_count_sets_and_guard_conditional_writes,
                            create_and_remove_report_tree_errors,
                            ephemeral_is_owned_by_the_session_and_vanishes_on_close,
                            ephemeral_vanishes_when_the_session_expires, data_watch_fires_once,
                            exists_and_child_watches_see_creation_and_deletion,
                            multi_applies_all_or_nothing,
                            a_request_over_the_server_limit_is_refused_and_the_session_stays,
                            sequential_names_use_a_ten_digit_parent_counter,
                            chroot_makes_paths_relative,
                            read_many_answers_each_path_in_order_as_get_does);

}  // namespace gregor::coord::contract
