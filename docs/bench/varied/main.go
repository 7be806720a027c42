// Command varied measures modshop's memory (and, on a quiet machine, its
// latency) under a varied read load: no two requests alike.
//
// It seeds N products into a fresh data directory, starts `modshop serve`,
// waits until search has indexed the catalog, reads the catalog back (slugs,
// title words, categories, list cursors), then drives three open-loop phases
// at constant arrival rates: random product pages, random two-word searches
// (words drawn from the seeded titles) and random list pages (random
// category, sort and cursor). After start, after each phase and 20 s after
// the last it samples the process's VmRSS and VmHWM (/proc/PID/status), its
// anonymous memory (/proc/PID/smaps_rollup), the Go heap and the read
// caches' estimated bytes (/metrics). HeapSys is the heap the Go runtime has
// not returned to the OS; GoSys all the Go runtime holds. Anon above GoSys
// is memory the pure-Go SQLite driver allocates outside the Go heap (its page
// caches).
//
//	make build && cd docs/bench/varied && go run . -bin ../../../bin/modshop -n 10000
//
// Per phase it also reports the server's CPU per request (utime+stime from
// /proc/PID/stat) and its own. With -pprof (a binary built by
// pprofhook/build.sh) it takes a CPU profile of each phase into -out. With
// -closed it then runs a closed loop, `wrk -t2 -c64` per endpoint with a Lua
// script that picks a random path per request from a file of paths, and
// reports each as a share of the same process's /healthz rate.
//
// Every MODSHOP_* variable in the environment reaches the server, so
// MODSHOP_DATABASE_URL=postgres://... measures on PostgreSQL (use an empty
// database or schema: the program seeds it).
//
// Purchases (purchase.go): the phase "purchase" (-phases ...,purchase) starts
// -purchase-rate whole guest purchases per second (open loop), and
// -purchase-closed N runs N buyers in a closed loop for -closed (or -d). A
// purchase is modshop's cart, item, checkout and order, each item a random
// SKU of a pool of -purchase-skus in-stock SKUs topped up with stock first
// (through the admin API, as the bootstrap admin the harness configures).
//
// Medusa (medusa.go): with -medusa URL -medusa-seed FILE the same loads run
// against a running Medusa v2 store API instead of a modshop the harness
// starts: product pages, searches and list pages of /store/products, and a
// guest purchase (cart, line item, address, shipping method, payment
// collection and session, complete). -export FILE writes the catalog read
// back from modshop for Medusa's seed (sidebyside/seed.ts), -results FILE
// appends one line per measured load, and -table FILE prints those lines as
// one side-by-side table; docs/bench/sidebyside/run.sh runs it all.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var opts struct {
	phases, pprof, out string
	closed             time.Duration

	purchaseClosed, purchaseSKUs               int
	purchaseRate                               float64
	medusa, medusaSeed, export, results, table string
	pid                                        int
}

func main() {
	bin := flag.String("bin", "bin/modshop", "the modshop binary")
	n := flag.Int("n", 10_000, "products to seed")
	dur := flag.Duration("d", 20*time.Second, "length of each load phase")
	productRate := flag.Int("product-rate", 1000, "random product pages per second")
	searchRate := flag.Int("search-rate", 500, "random two-word searches per second")
	listRate := flag.Int("list-rate", 500, "random list pages per second")
	after := flag.Duration("after", 20*time.Second, "wait after the last phase before the last sample")
	keep := flag.Bool("keep", false, "keep the data directory")
	flag.StringVar(&opts.phases, "phases", "product,search,list", "open-loop phases to run, in order (product, search, list)")
	flag.StringVar(&opts.pprof, "pprof", "", "address the server serves pprof on (MODSHOP_BENCH_PPROF; needs a binary from pprofhook/build.sh): a CPU profile per phase goes to -out")
	flag.StringVar(&opts.out, "out", "", "directory for CPU profiles and the path files of the closed loop (default: a temporary one)")
	flag.DurationVar(&opts.closed, "closed", 0, "length of each closed-loop wrk run (0: no closed loop)")
	flag.Float64Var(&opts.purchaseRate, "purchase-rate", 20, "whole guest purchases started per second in the phase \"purchase\" (may be below 1)")
	flag.IntVar(&opts.purchaseClosed, "purchase-closed", 0, "buyers of a closed loop of purchases, for -closed (or -d if -closed is 0); 0: none")
	flag.IntVar(&opts.purchaseSKUs, "purchase-skus", 2000, "how many random in-stock SKUs (Medusa: variants) purchases pick from")
	flag.StringVar(&opts.medusa, "medusa", "", "base URL of a running Medusa v2 to load instead of starting modshop (needs -medusa-seed)")
	flag.StringVar(&opts.medusaSeed, "medusa-seed", "", "the ids docs/bench/sidebyside/seed.ts wrote (publishable key, region, shipping option)")
	flag.IntVar(&opts.pid, "pid", 0, "with -medusa: the process whose memory and CPU to sample")
	flag.StringVar(&opts.export, "export", "", "write the catalog read back from modshop as JSON to this file (for Medusa's seed)")
	flag.StringVar(&opts.results, "results", "", "append one tab-separated line per measured load to this file")
	flag.StringVar(&opts.table, "table", "", "print the lines of a -results file as a side-by-side table and exit")
	flag.Parse()
	if opts.table != "" {
		if err := printTable(opts.table); err != nil {
			fmt.Fprintln(os.Stderr, "varied:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bin, *n, *dur, *productRate, *searchRate, *listRate, *after, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "varied:", err)
		os.Exit(1)
	}
}

func run(bin string, n int, dur time.Duration, productRate, searchRate, listRate int, after time.Duration, keep bool) error {
	fmt.Printf("machine: %d cores, %s; load average %s\n", numCPU(), cpuModel(), loadavg())
	if opts.medusa != "" {
		t, cat, err := medusaTarget()
		if err != nil {
			return err
		}
		return drive(t, cat, dur, productRate, searchRate, listRate, after)
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "modshop-varied-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(), "MODSHOP_DATA_DIR="+filepath.Join(dir, "data"),
		"MODSHOP_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port), "MODSHOP_LOG_LEVEL=warn",
		// the back-office account that tops up the purchases' stock
		"MODSHOP_BOOTSTRAP_ADMIN_EMAIL="+benchAdminEmail, "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD="+benchAdminPassword)
	if opts.pprof != "" {
		env = append(env, "MODSHOP_BENCH_PPROF="+opts.pprof)
	}
	if opts.out == "" {
		opts.out = filepath.Join(dir, "out")
	}
	if err := os.MkdirAll(opts.out, 0o755); err != nil {
		return err
	}

	start := time.Now()
	seed := exec.Command(bin, "seed", "--products", strconv.Itoa(n))
	seed.Env, seed.Stdout, seed.Stderr = env, io.Discard, os.Stderr
	if err := seed.Run(); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d products in %s\n", n, time.Since(start).Round(time.Millisecond))

	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	serve := exec.Command(bin, "serve")
	serve.Env, serve.Stdout, serve.Stderr = env, logf, logf
	if err := serve.Start(); err != nil {
		return err
	}
	defer func() { _ = serve.Process.Signal(os.Interrupt); _ = serve.Wait() }()
	t := &target{shop: "modshop", base: base, health: "/healthz", pid: serve.Process.Pid, c: newClient()}
	if err := waitReady(t.c, base); err != nil {
		return err
	}
	fmt.Printf("ready and indexed after %s\n", time.Since(start).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	return drive(t, nil, dur, productRate, searchRate, listRate, after)
}

// drive reads the catalog back (unless given), then runs the open-loop
// phases, the closed loops and the purchases, sampling memory between them.
func drive(t *target, cat *catalog, dur time.Duration, productRate, searchRate, listRate int, after time.Duration) error {
	if opts.out == "" {
		dir, err := os.MkdirTemp("", "varied-out-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		opts.out = dir
	}
	fmt.Printf("\n%-34s %8s %8s %8s %9s %9s %9s %9s\n", "moment", "VmRSS", "VmHWM", "Anon", "HeapInuse", "HeapSys", "GoSys", "Caches")
	sample(t, "after indexing (idle)")
	if cat == nil {
		var err error
		if cat, err = readCatalog(t.c, t.base); err != nil {
			return err
		}
	}
	fmt.Printf("catalog: %d products, %d title words, %d categories, %d list pages, %d SKUs to buy (reading it: %s)\n",
		len(cat.products), len(cat.words), len(cat.categories), len(cat.cursors), len(cat.skus), loadavg())
	sample(t, "after reading the catalog")
	if opts.export != "" {
		if err := writeJSON(opts.export, cat.export); err != nil {
			return err
		}
		fmt.Printf("catalog of %d products written to %s\n", len(cat.export), opts.export)
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var mu sync.Mutex
	pick := func(f func(r *rand.Rand) string) func() string {
		return func() string { mu.Lock(); defer mu.Unlock(); return f(rng) }
	}
	get := func(path func() string) func(*steps) error {
		return func(*steps) error { return t.get(path()) }
	}
	skus := pick(func(r *rand.Rand) string { return cat.skus[r.IntN(len(cat.skus))] })
	type phase struct {
		key, name string
		rate      float64
		do        func(*steps) error
	}
	all := []phase{
		{"product", "random product pages", float64(productRate), get(pick(func(r *rand.Rand) string {
			return cat.products[r.IntN(len(cat.products))]
		}))},
		{"search", "random two-word searches", float64(searchRate), get(pick(func(r *rand.Rand) string {
			return cat.search(cat.words[r.IntN(len(cat.words))] + " " + cat.words[r.IntN(len(cat.words))])
		}))},
		{"list", "random list pages", float64(listRate), get(pick(func(r *rand.Rand) string {
			return cat.cursors[r.IntN(len(cat.cursors))]
		}))},
		{"purchase", "whole guest purchases", opts.purchaseRate, func(st *steps) error { return t.purchase(skus(), st) }},
	}
	var phases []phase
	for key := range strings.SplitSeq(opts.phases, ",") {
		if key = strings.TrimSpace(key); key == "" {
			continue
		}
		i := slices.IndexFunc(all, func(p phase) bool { return p.key == key })
		if i < 0 {
			return fmt.Errorf("unknown phase %q", key)
		}
		phases = append(phases, all[i])
	}
	if slices.ContainsFunc(phases, func(p phase) bool { return p.key == "purchase" }) || opts.purchaseClosed > 0 {
		if len(cat.skus) == 0 {
			return errors.New("purchases: no SKU in stock to buy")
		}
		if t.shop == "modshop" {
			if err := topUp(t, cat.skus, 1_000_000); err != nil {
				return err
			}
		}
	}
	// A few unmeasured requests of each load first, one at a time: Medusa
	// (Node.js) compiles its hot paths on first use, and both shops' pools
	// and caches fill.
	warm := time.Now()
	for _, ph := range all {
		inOpen := slices.ContainsFunc(phases, func(p phase) bool { return p.key == ph.key })
		n := 0
		switch {
		case ph.key == "purchase" && (inOpen || opts.purchaseClosed > 0):
			n = 3
		case ph.key != "purchase" && (inOpen || opts.closed > 0):
			n = 20
		}
		for range n {
			_ = ph.do(&steps{})
		}
	}
	fmt.Printf("warm-up: %s\n", time.Since(warm).Round(time.Millisecond))
	var results []string
	for _, ph := range phases {
		var prof sync.WaitGroup
		if opts.pprof != "" {
			secs := max(1, int(dur.Seconds())-4)
			prof.Go(func() {
				time.Sleep(2 * time.Second) // past the start of the phase
				if err := saveProfile(opts.pprof, secs, filepath.Join(opts.out, "cpu-"+ph.key+".pprof")); err != nil {
					fmt.Fprintln(os.Stderr, "varied: profile:", err)
				}
			})
		}
		cpu0, self0, pg0 := procCPU(t.pid), procCPU(os.Getpid()), pgCPU()
		t0 := time.Now()
		res := load(ph.rate, dur, ph.do)
		wall := time.Since(t0)
		cpu, self, pg := procCPU(t.pid)-cpu0, procCPU(os.Getpid())-self0, pgCPU()-pg0
		prof.Wait()
		per := func(d time.Duration) string {
			if res.ok == 0 {
				return "-"
			}
			return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000/float64(res.ok))
		}
		results = append(results, fmt.Sprintf("%-26s %5g/s for %s: sent %d, ok %d (%.1f/s), failed %d, dropped %d (in flight > 256); p50 %s p99 %s max %s; server CPU %.2f cores, %s cpu-ms/req; load generator %.2f cores; load average %s",
			ph.name, ph.rate, dur, res.sent, res.ok, float64(res.ok)/wall.Seconds(), res.failed, res.dropped, res.q(0.5), res.q(0.99), res.q(1),
			cpu.Seconds()/wall.Seconds(), per(cpu), self.Seconds()/wall.Seconds(), loadavg()))
		if ph.key == "purchase" {
			results = append(results, res.steps.lines()...)
		}
		// The rate is what was answered per second of the phase: the
		// offered rate unless the shop failed, dropped or lagged behind.
		record(t.shop, ph.name, fmt.Sprintf("open %g/s", ph.rate), float64(res.ok)/dur.Seconds(), res.q(0.5), res.q(0.99), res.failed+res.dropped,
			perOp(cpu, res.ok), perOp(pg, res.ok))
		sample(t, "after "+ph.name)
	}
	if opts.closed > 0 {
		if err := closedLoop(t, cat, rng); err != nil {
			return err
		}
		sample(t, "after the closed loop")
	}
	if opts.purchaseClosed > 0 {
		d := cmp.Or(opts.closed, dur)
		cpu0, pg0 := procCPU(t.pid), pgCPU()
		res, wall := purchaseLoop(t, skus, opts.purchaseClosed, d)
		cpu, pg := procCPU(t.pid)-cpu0, pgCPU()-pg0
		line := fmt.Sprintf("%-26s %d buyers for %s: ok %d (%.1f/s), failed %d; p50 %s p99 %s max %s; server CPU %.2f cores; load average %s",
			"whole guest purchases", opts.purchaseClosed, d, res.ok, float64(res.ok)/wall.Seconds(), res.failed, res.q(0.5), res.q(0.99), res.q(1),
			cpu.Seconds()/wall.Seconds(), loadavg())
		fmt.Println(line)
		closedResults = append(closedResults, line)
		closedResults = append(closedResults, res.steps.lines()...)
		record(t.shop, "whole guest purchases", fmt.Sprintf("closed, %d buyers", opts.purchaseClosed), float64(res.ok)/wall.Seconds(), res.q(0.5), res.q(0.99), res.failed,
			perOp(cpu, res.ok), perOp(pg, res.ok))
		sample(t, "after the purchases")
	}
	time.Sleep(after)
	sample(t, fmt.Sprintf("%s after the last phase", after))
	fmt.Println("\nopen loop (latency from each request's scheduled moment):")
	for _, r := range results {
		fmt.Println("  " + r)
	}
	if len(closedResults) > 0 {
		fmt.Println("\nclosed loop (wrk -t2 -c64; purchases: that many buyers, each starting its next purchase when the last ended):")
		for _, r := range closedResults {
			fmt.Println("  " + r)
		}
	}
	return nil
}

var closedResults []string

// closedLoop writes a file of paths per endpoint and runs wrk on each with a
// script that sends a random line of the file per request. /healthz runs
// through the same script (a file of one line), so the per-request cost of
// the Lua script is the same on both sides of each share.
func closedLoop(t *target, cat *catalog, rng *rand.Rand) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("-closed needs wrk (apt-get install wrk)")
	}
	script := filepath.Join(opts.out, "paths.lua")
	if err := os.WriteFile(script, []byte(luaPaths), 0o644); err != nil {
		return err
	}
	var searches []string
	for range 100_000 {
		searches = append(searches, cat.search(cat.words[rng.IntN(len(cat.words))]+" "+cat.words[rng.IntN(len(cat.words))]))
	}
	runs := []struct {
		name  string
		paths []string
	}{
		{"healthz", []string{t.health}},
		{"random product pages", cat.products},
		{"random two-word searches", searches},
		{"random list pages", cat.cursors},
		{"healthz again", []string{t.health}},
	}
	var health float64
	for _, r := range runs {
		file := filepath.Join(opts.out, "paths-"+strings.ReplaceAll(r.name, " ", "-")+".txt")
		if err := os.WriteFile(file, []byte(strings.Join(r.paths, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		args := []string{"-t2", "-c64", "-d" + opts.closed.String(), "--timeout", "10s", "--latency", "-s", script}
		for k, v := range t.header {
			args = append(args, "-H", k+": "+v)
		}
		cpu0, pg0 := procCPU(t.pid), pgCPU()
		out, err := exec.Command("wrk", append(args, t.base, "--", file)...).CombinedOutput()
		cpu, pg := procCPU(t.pid)-cpu0, pgCPU()-pg0
		if err != nil {
			return fmt.Errorf("wrk %s: %w: %s", r.name, err, out)
		}
		rps, p50, p99, non2xx := wrkField(out, "Requests/sec:", 1), wrkField(out, "50%", 1), wrkField(out, "99%", 1), wrkField(out, "Non-2xx", 4)
		timeouts := strings.TrimSuffix(wrkField(out, "Socket", 9), ",")
		f, _ := strconv.ParseFloat(rps, 64)
		if r.name == "healthz" {
			health = f
		}
		share := "-"
		if health > 0 {
			share = fmt.Sprintf("%.1f%%", 100*f/health)
		}
		cpuPer := "-"
		if f > 0 {
			cpuPer = fmt.Sprintf("%.3f", cpu.Seconds()*1000/(f*opts.closed.Seconds()))
		}
		non2xx, timeouts = cmp.Or(non2xx, "0"), cmp.Or(timeouts, "0")
		line := fmt.Sprintf("%-26s %9s req/s  share of %s %6s  p50 %8s  p99 %8s  non-2xx %s  timeouts %s  server %s cpu-ms/req  load average %s",
			r.name, rps, t.health, share, p50, p99, non2xx, timeouts, cpuPer, loadavg())
		fmt.Println(line)
		closedResults = append(closedResults, line)
		if !strings.HasPrefix(r.name, "healthz") {
			n1, _ := strconv.ParseInt(non2xx, 10, 64)
			n2, _ := strconv.ParseInt(timeouts, 10, 64)
			n := int64(f * opts.closed.Seconds())
			record(t.shop, r.name, "closed, wrk -c64", f, wrkDuration(p50), wrkDuration(p99), n1+n2, perOp(cpu, n), perOp(pg, n))
		}
	}
	return nil
}

// luaPaths is a wrk script: `wrk ... -s paths.lua URL -- FILE` sends, per
// request, a random line of FILE as the path.
const luaPaths = `local paths = {}
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
`

// wrkField returns the field'th word after the first line of wrk's output
// that starts with prefix.
func wrkField(out []byte, prefix string, field int) string {
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > field && f[0] == prefix {
			return f[field]
		}
	}
	return ""
}

// saveProfile fetches a CPU profile of secs seconds from the pprof server.
func saveProfile(addr string, secs int, file string) error {
	c := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	fmt.Printf("CPU profile: %s\n", file)
	return f.Close()
}

// procCPU is the user+system CPU time a process has used (/proc/PID/stat,
// fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// pgCPU is the CPU time all PostgreSQL processes of the machine have used
// (on a shared machine, including what others make them do), with that of
// their exited children (cutime+cstime: a backend that ends adds its time
// to the postmaster's), so connections closing during a phase do not take
// their time out of the sum.
func pgCPU() time.Duration {
	var sum time.Duration
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "postgres" {
			sum += procCPU(pid) + childCPU(pid)
		}
	}
	return sum
}

// childCPU is the CPU time of a process's waited-for children
// (/proc/PID/stat fields 16 and 17).
func childCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s) // f[0] is field 3
	if len(f) < 15 {
		return 0
	}
	cu, _ := strconv.ParseInt(f[13], 10, 64)
	cs, _ := strconv.ParseInt(f[14], 10, 64)
	return time.Duration(cu+cs) * 10 * time.Millisecond
}

func perOp(cpu time.Duration, n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func getJSON(c *http.Client, u string, v any) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// waitReady waits for /readyz, then until the outboxes are empty and the
// number of products search lists (the published ones: fewer than n) has
// stayed the same for ten seconds (the outboxes empty out before search has
// indexed what it received).
func waitReady(c *http.Client, base string) error {
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	last, same := -1, 0
	for time.Now().Before(deadline) {
		var s struct{ Total int }
		if err := getJSON(c, base+"/v1/search?limit=1", &s); err == nil && s.Total > 0 && outboxDepth(c, base) == 0 {
			if s.Total == last {
				same++
			} else {
				same = 0
			}
			if same == 10 {
				fmt.Printf("search lists %d products\n", s.Total)
				return nil
			}
			last = s.Total
		}
		time.Sleep(time.Second)
	}
	return errors.New("search did not index the catalog in 15 minutes")
}

func metrics(c *http.Client, base string) map[string]float64 {
	m := map[string]float64{}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		f, _ := strconv.ParseFloat(strings.TrimSpace(val), 64)
		m[name] += f
	}
	return m
}

func outboxDepth(c *http.Client, base string) float64 {
	m := metrics(c, base)
	if _, ok := m["modshop_outbox_depth"]; !ok {
		return -1
	}
	return m["modshop_outbox_depth"]
}

type catalog struct {
	words, categories []string
	products          []string              // product page paths
	cursors           []string              // list page paths: first pages and pages behind cursors
	search            func(q string) string // the path of a search for q
	skus              []string              // what a purchase puts in its cart: modshop SKUs, Medusa variant ids
	export            []exportProduct       // the published catalog, for Medusa's seed
}

// exportProduct is a published product as -export writes it, the input of
// docs/bench/sidebyside/seed.ts.
type exportProduct struct {
	Slug        string          `json:"slug"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Variants    []exportVariant `json:"variants"`
}

type exportVariant struct {
	SKU        string            `json:"sku"`
	Title      string            `json:"title"`
	Price      int64             `json:"price"` // cents, EUR
	Attributes map[string]string `json:"attributes"`
	Available  int64             `json:"-"`
}

// addWords adds a title's words of three letters or more to words.
func addWords(words map[string]bool, title string) {
	for w := range strings.FieldsSeq(strings.ToLower(title)) {
		w = strings.Trim(w, ".,;:!?()\"'")
		if len(w) >= 3 {
			words[w] = true
		}
	}
}

// readCatalog walks the product list to the end (slugs, title words and
// in-stock SKUs), and for every category (and none) and sort the first up
// to 25 pages of 20.
func readCatalog(c *http.Client, base string) (*catalog, error) {
	cat := &catalog{search: func(q string) string { return "/v1/search?q=" + url.QueryEscape(q) }}
	words := map[string]bool{}
	type page struct {
		Items []struct {
			Slug, Title, Description string
			Variants                 []struct {
				SKU        string `json:"sku"`
				Title      string `json:"title"`
				Price      struct{ Amount int64 }
				Attributes map[string]string `json:"attributes"`
				Available  int64             `json:"available"`
			}
		}
		NextCursor *string `json:"next_cursor"`
	}
	var inStock []string
	next := ""
	for {
		var p page
		u := base + "/v1/products?limit=100&sort=title"
		if next != "" {
			u += "&cursor=" + url.QueryEscape(next)
		}
		if err := getJSON(c, u, &p); err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			cat.products = append(cat.products, "/v1/products/"+it.Slug)
			addWords(words, it.Title)
			e := exportProduct{Slug: it.Slug, Title: it.Title, Description: it.Description}
			for _, v := range it.Variants {
				e.Variants = append(e.Variants, exportVariant{SKU: v.SKU, Title: v.Title, Price: v.Price.Amount, Attributes: v.Attributes})
				if v.Available > 0 {
					inStock = append(inStock, v.SKU)
				}
			}
			cat.export = append(cat.export, e)
		}
		if p.NextCursor == nil || *p.NextCursor == "" {
			break
		}
		next = *p.NextCursor
	}
	for w := range words {
		cat.words = append(cat.words, w)
	}
	slices.Sort(cat.words)
	rand.Shuffle(len(inStock), func(i, j int) { inStock[i], inStock[j] = inStock[j], inStock[i] })
	cat.skus = inStock[:min(len(inStock), opts.purchaseSKUs)]
	var cs struct {
		Items []struct{ Slug string }
	}
	if err := getJSON(c, base+"/v1/categories", &cs); err != nil {
		return nil, err
	}
	cat.categories = append(cat.categories, "")
	for _, it := range cs.Items {
		cat.categories = append(cat.categories, it.Slug)
	}
	for _, category := range cat.categories {
		for _, sort := range []string{"newest", "price_asc", "price_desc", "title"} {
			path := "/v1/products?limit=20&sort=" + sort
			if category != "" {
				path += "&category=" + url.QueryEscape(category)
			}
			cur := path
			for range 25 {
				cat.cursors = append(cat.cursors, cur)
				var p page
				if err := getJSON(c, base+cur, &p); err != nil {
					return nil, err
				}
				if p.NextCursor == nil || *p.NextCursor == "" {
					break
				}
				cur = path + "&cursor=" + url.QueryEscape(*p.NextCursor)
			}
		}
	}
	if len(cat.products) == 0 || len(cat.words) == 0 {
		return nil, errors.New("the catalog is empty")
	}
	return cat, nil
}

type result struct {
	sent, ok, failed, dropped int64
	lat                       []time.Duration
	steps                     *steps
}

func (r *result) q(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p * float64(len(r.lat)-1))
	return r.lat[i].Round(10 * time.Microsecond)
}

// load starts do rate times per second for d, each at its scheduled moment
// whatever the answers before it (open loop). Latency is measured from the
// scheduled moment, so a late send counts against the server. At most 256
// are in flight: beyond that one is dropped and counted.
func load(rate float64, d time.Duration, do func(*steps) error) *result {
	res := &result{steps: &steps{}}
	var mu sync.Mutex
	var inflight atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		res.sent++
		if inflight.Load() >= 256 {
			res.dropped++
			continue
		}
		inflight.Add(1)
		wg.Go(func() {
			defer inflight.Add(-1)
			err := do(res.steps)
			lat := time.Since(at)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				res.ok++
				res.lat = append(res.lat, lat)
			} else {
				res.failed++
				res.steps.fail(err)
			}
		})
	}
	wg.Wait()
	slices.Sort(res.lat)
	return res
}

func sample(t *target, moment string) {
	status := procKB(fmt.Sprintf("/proc/%d/status", t.pid))
	rollup := procKB(fmt.Sprintf("/proc/%d/smaps_rollup", t.pid))
	mb := func(kb int64) string { return fmt.Sprintf("%.1f", float64(kb)/1024) }
	if t.shop != "modshop" { // no Go runtime, no /metrics
		fmt.Printf("%-34s %8s %8s %8s %9s %9s %9s %9s  (MB)\n", moment, mb(status["VmRSS"]), mb(status["VmHWM"]), mb(rollup["Anonymous"]), "-", "-", "-", "-")
		return
	}
	m := metrics(t.c, t.base)
	bmb := func(b float64) string { return fmt.Sprintf("%.1f", b/(1<<20)) }
	fmt.Printf("%-34s %8s %8s %8s %9s %9s %9s %9s  (MB)\n", moment, mb(status["VmRSS"]), mb(status["VmHWM"]), mb(rollup["Anonymous"]),
		bmb(m["go_memstats_heap_inuse_bytes"]), bmb(m["go_memstats_heap_sys_bytes"]-m["go_memstats_heap_released_bytes"]), bmb(m["go_memstats_sys_bytes"]),
		bmb(m["modshop_catalog_cache_bytes"]+m["modshop_search_cache_bytes"]))
}

// procKB reads the "Name: N kB" lines of a /proc file.
func procKB(path string) map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 2 && f[1] == "kB" {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			out[name] = v
		}
	}
	return out
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			_, v, _ := strings.Cut(line, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
