//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package remote

import "net"

// open cannot tell here: a connection the server closed fails the call
// sent on it.
func open(net.Conn) bool { return true }
