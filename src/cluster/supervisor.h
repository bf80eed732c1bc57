// `gregor cluster up`: starts ZooKeeper and N brokers, waits until the cluster is ready,
// prints how to use it, and supervises it in the foreground until SIGINT/SIGTERM/SIGHUP or
// `gregor cluster down`; and the client side of down/kill/pause/resume/restart.
//
// The supervisor is single-threaded (children get PR_SET_PDEATHSIG, which is tied to the
// forking thread). It blocks SIGINT, SIGTERM, SIGHUP, SIGCHLD and SIGUSR1 and reads them
// from a signalfd in its loop, which also polls the control directory (control.h). Every
// exit path stops the brokers (SIGTERM: each does its own controlled shutdown; SIGKILL
// after a grace period) and then ZooKeeper; if the supervisor itself is SIGKILLed, the
// children die with it (PR_SET_PDEATHSIG). While it runs it holds an flock on
// D/cluster.lock, which is how a second `up` on the same directory knows it is busy.
#pragma once

#include "cluster/options.h"

namespace gregor::cluster {

// Exit codes of the cluster commands.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;

// Runs `gregor cluster up` to the end; returns the process exit code.
int run_up(const up_options& o);
// `gregor cluster down`: signals the supervisor and waits for it to exit.
int run_down(const down_options& o);
// `gregor cluster kill|pause|resume|restart <id>`.
int run_control(const control_options& o);

}  // namespace gregor::cluster
