// Package cputime measures CPU time for benchmarks: of this process, of
// the calling thread, and of other processes on the machine (a PostgreSQL
// server, a nats-server, a child process). CPU time per operation is far
// less distorted than wall time when other work shares the cores.
//
// Outside Linux (and, for Process, outside Unix) the functions answer 0:
// a benchmark then reports no CPU figure rather than a wrong one.
package cputime
