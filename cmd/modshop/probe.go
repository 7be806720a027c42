package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// probe asks the server listening at addr (this process's MODSHOP_HTTP_ADDR
// or --addr) on this machine whether it is ready. The image has no shell and
// no HTTP client, so a container health check (docker compose's
// healthcheck) runs the binary itself: `modshop probe`.
func probe(addr string, stdout, stderr io.Writer) int {
	host, port, _ := net.SplitHostPort(addr) // validated with the configuration
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // listening on every address: this machine's loopback is one
	}
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url) //nolint:gosec // G704: the address is this process's own listen address
	if err != nil {
		fmt.Fprintf(stderr, "modshop probe: %s: %v\n", url, err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "modshop probe: %s: %d %s\n", url, resp.StatusCode, strings.TrimSpace(string(body)))
		return 1
	}
	fmt.Fprintln(stdout, "ready")
	return 0
}
