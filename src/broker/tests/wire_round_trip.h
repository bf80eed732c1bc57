// Test helper for the wire translation tests: encodes a message for a version and decodes
// it back, failing the test if either step fails (an encoding failure would close the
// client's connection).
#pragma once

#include "protocol/reader.h"
#include "protocol/writer.h"

#include <gtest/gtest.h>

namespace gregor::broker::test {

template <class Message>
Message round_trip(const Message& m, std::int16_t version) {
    protocol::writer w;
    m.encode(w, version);
    EXPECT_TRUE(w.ok()) << "cannot encode for v" << version;
    if (!w.ok()) {
        return {};
    }
    bytes flat = std::move(w).finish().flatten();
    protocol::reader r(flat);
    auto back = Message::decode(r, version);
    EXPECT_TRUE(back) << back.err().to_string();
    return back ? std::move(*back) : Message{};
}

}  // namespace gregor::broker::test
