// random_source: the seeded randomness behind the generated random_fill() overloads (tests,
// fuzz seed generation, benchmarks). Deterministic for a given seed so a failing round trip
// reproduces. Strings are ASCII (valid UTF-8), sizes small so every message stays a few KiB.
// One thread at a time.
#pragma once

#include "base/bytes.h"
#include "protocol/types.h"

#include <cstdint>
#include <random>
#include <string>

namespace gregor::protocol {

class random_source {
public:
    explicit random_source(std::uint64_t seed) : engine_(seed) {}

    template <class T>
    T next() {
        return static_cast<T>(engine_());
    }
    bool coin() { return (engine_() & 1) != 0; }
    // Returns true with probability 1/n.
    bool one_in(std::uint64_t n) { return engine_() % n == 0; }
    // An array length: 0..3.
    std::size_t count() { return static_cast<std::size_t>(engine_() % 4); }
    double real() { return static_cast<double>(engine_() % 1000000) / 64.0; }
    std::string string() {
        std::string s(static_cast<std::size_t>(engine_() % 12), 'a');
        for (char& c : s) {
            c = static_cast<char>(' ' + engine_() % 95);
        }
        return s;
    }
    bytes blob() {
        bytes b(static_cast<std::size_t>(engine_() % 16));
        for (std::uint8_t& x : b) {
            x = static_cast<std::uint8_t>(engine_());
        }
        return b;
    }
    records_ref records() { return records_ref::copy_of(blob()); }
    uuid make_uuid() {
        uuid u;
        for (std::uint8_t& x : u.bytes) {
            x = static_cast<std::uint8_t>(engine_());
        }
        return u;
    }

private:
    std::mt19937_64 engine_;
};

}  // namespace gregor::protocol
