// Forward declarations of the net module's public types.
#pragma once

namespace gregor::net {

class server;
class client;
class request;
class reply;
class response;
struct server_config;
struct client_config;
struct listener_config;
struct connection_info;

}  // namespace gregor::net
