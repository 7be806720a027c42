//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package remote

import (
	"net"
	"syscall"
)

// open reports whether an idle connection is still open: a peek that does
// not wait finds nothing to read (a closed one has its end of stream, or an
// error, waiting). One system call, and no wake-up.
func open(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && alive
}
