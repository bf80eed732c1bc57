// The one include of Boost.Asio for the net module (and for code that uses net's coroutines).
//
// Boost 1.74 ships Asio 1.18: C++20 coroutines (awaitable, co_spawn, use_awaitable) and
// redirect_error exist, but as_tuple, per-operation cancellation slots and channels do not,
// so net uses redirect_error for error codes and timers as wake-up events. Two fixes make the
// header usable on this toolchain: awaitable.hpp uses std::exchange without including
// <utility>, and Asio only enables co_await under clang when <experimental/coroutine> exists,
// which libstdc++ 12 does not ship although clang 14 supports C++20 coroutines. Header only;
// no state.
#pragma once

#include <utility>  // must precede Asio: awaitable.hpp needs std::exchange

#if defined(__clang__) && !defined(BOOST_ASIO_HAS_CO_AWAIT) && __has_include(<coroutine>)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gregor::net {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

}  // namespace gregor::net
