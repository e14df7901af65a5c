// Command bench measures what Strait costs per proxied request next to nginx
// and HAProxy, on the same machine, in the same run, against the same
// backends.
//
// It installs its prerequisites (nginx, HAProxy, wrk, h2load) when they are
// missing, builds Strait from this checkout, starts an nginx backend, a
// WebSocket echo backend, an nginx reverse proxy configured like
// ingress-nginx, HAProxy configured to match, and Strait fed equivalent
// Kubernetes manifests, then drives each proxy through a list of scenarios
// (HTTP/1.1 closed and open loop, HTTP/2 over TLS, new TLS connections,
// WebSocket) in alternating rounds and reports the median throughput,
// latency, CPU time and (for Strait) allocations per request of each.
//
// Usage:
//
//	go run ./bench [-scenarios all] [-duration 5s] [-rounds 3] [-proxies nginx,haproxy,strait]
//	               [-rate N] [-strait-bin PATH] [-out docs/benchmarks.md]
//	go run ./bench -list
//
// -scenarios takes names and shell patterns, e.g. 'h1-c16-*,ws-*'; the
// open-loop scenario brings in the closed-loop run its rate derives from
// unless -rate fixes the rate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// warmup is run, unmeasured, before every measured run so that both
	// proxies start each measurement with warm caches, open upstream
	// connections and (for Strait) a settled Go heap.
	warmup = 2 * time.Second
	// benchHost is the virtual host both proxies route; requests without it
	// would hit nginx's default server or Strait's catch-all instead.
	benchHost = "bench.local"
	// proxyCPU and loadCPU keep the proxy under test alone on one core while
	// wrk and the backend share the other, so the proxy's CPU time is not
	// diluted by, or charged for, work that is not its own.
	proxyCPU = 0
	loadCPU  = 1
)

// allProxies lists the proxies the harness knows, in their default order.
var allProxies = []string{"nginx", "haproxy", "strait"}

// options are the command-line settings of one run.
type options struct {
	duration     time.Duration
	rounds       int
	out          string
	proxies      []string
	scenarioSpec string     // the -scenarios flag as given
	scenarios    []scenario // what it selects, in run order
	rate         float64    // fixed open-loop rate; 0 derives it from nginx
	list         bool       // only list the scenarios
	straitBin    string     // prebuilt Strait to measure; empty builds ./cmd/strait
	straitLua    bool       // a minimal Lua plugin on Strait's routes
}

func main() {
	if ok, err := runSubcommand(os.Args[1:], os.Stdout); ok {
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// parseFlags reads and validates the command line.
func parseFlags(args []string) (options, error) {
	var o options
	var proxies string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured duration of each run (whole seconds)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each round measures every proxy once, order alternating")
	fs.StringVar(&o.scenarioSpec, "scenarios", "all", "comma-separated scenario names or shell patterns (e.g. 'h1-c16-*,ws-*'), or all; see -list")
	fs.Float64Var(&o.rate, "rate", 0, "fixed rate in requests/s for the open-loop scenario (default: half of nginx's median in its closed-loop reference)")
	fs.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	fs.StringVar(&o.out, "out", "", "also write a Markdown report to this path (e.g. docs/benchmarks.md)")
	fs.BoolVar(&o.straitLua, "strait-lua-plugin", false, "put a minimal Lua plugin (one request header set in rewrite) on Strait's routes: run once with and once without to measure what a plugin costs (the other proxies are unchanged)")
	fs.StringVar(&o.straitBin, "strait-bin", "", "measure this prebuilt Strait binary instead of building ./cmd/strait (e.g. to compare two builds)")
	fs.StringVar(&proxies, "proxies", strings.Join(allProxies, ","), "comma-separated proxies to measure ("+strings.Join(allProxies, ", ")+")")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	// wrk only takes whole seconds; refuse rather than silently round.
	if o.duration < time.Second || o.duration%time.Second != 0 {
		return o, fmt.Errorf("-duration must be a whole number of seconds ≥ 1s, got %v", o.duration)
	}
	if o.straitBin != "" {
		abs, err := filepath.Abs(o.straitBin)
		if err != nil {
			return o, err
		}
		o.straitBin = abs
	}
	if o.rate < 0 {
		return o, fmt.Errorf("-rate must be ≥ 0, got %v", o.rate)
	}
	var err error
	if o.scenarios, err = selectScenarios(allScenarios(o.duration), o.scenarioSpec, o.rate > 0); err != nil {
		return o, err
	}
	if o.rate > 0 {
		for i := range o.scenarios {
			if o.scenarios[i].kind == openH1 {
				o.scenarios[i].rate = o.rate
			}
		}
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("-rounds must be ≥ 1, got %d", o.rounds)
	}
	for _, p := range strings.Split(proxies, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(allProxies, p) {
			return o, fmt.Errorf("-proxies: unknown proxy %q (known: %s)", p, strings.Join(allProxies, ", "))
		}
		if !slices.Contains(o.proxies, p) {
			o.proxies = append(o.proxies, p)
		}
	}
	if o.rate == 0 && hasKind(o.scenarios, openH1) && !slices.Contains(o.proxies, "nginx") {
		return o, errors.New("the open-loop scenario takes its rate from nginx: add nginx to -proxies or give -rate")
	}
	return o, nil
}

// reproduceCommand is the command line that repeats this run, written into
// the report so readers can rerun exactly what produced the numbers.
func (o options) reproduceCommand() string {
	cmd := fmt.Sprintf("go run ./bench -duration %v -rounds %d", o.duration, o.rounds)
	if o.scenarioSpec != "all" {
		cmd += " -scenarios " + o.scenarioSpec
	}
	if o.rate > 0 {
		cmd += " -rate " + strconv.FormatFloat(o.rate, 'f', -1, 64)
	}
	if !slices.Equal(o.proxies, allProxies) {
		cmd += " -proxies " + strings.Join(o.proxies, ",")
	}
	if o.straitLua {
		cmd += " -strait-lua-plugin"
	}
	if o.straitBin != "" {
		cmd += " -strait-bin " + o.straitBin
	}
	if o.out != "" {
		cmd += " -out " + o.out
	}
	return cmd
}

// run is main without os.Exit, so that every deferred cleanup (process
// stops, temp directory removal) runs on success, error and interrupt alike.
func run(args []string) (err error) {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	if opts.list {
		for _, sc := range opts.scenarios {
			fmt.Printf("%-20s %s\n", sc.name, sc.description)
		}
		return nil
	}
	// Ctrl-C, SIGTERM (e.g. from make or CI) and SIGHUP cancel ctx; every
	// blocking step watches it, so run returns and its defers stop the
	// children. The servers sit in their own process groups and never see
	// the terminal's signals themselves.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// Whatever step an interrupt cut short, say so rather than quoting that
	// step's "context canceled" or killed-child error.
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = errors.New("interrupted")
		}
	}()

	if runtime.NumCPU() < 2 {
		return fmt.Errorf("need at least 2 CPUs to pin the proxy and the load generator apart, have %d", runtime.NumCPU())
	}
	tools, err := ensureTools(ctx, os.Stderr)
	if err != nil {
		return err
	}
	root, err := repoRoot(ctx, tools.goBin)
	if err != nil {
		return err
	}
	clk, err := clockTicks(ctx, tools.getconf)
	if err != nil {
		return err
	}

	sweepStale(os.Stderr)
	tmp, err := os.MkdirTemp("", "strait-bench-")
	if err != nil {
		return err
	}
	groupsFile = filepath.Join(tmp, groupsFileName)
	// Keep the logs and configs of a failed run: they are what explains it.
	// An interrupted run explains nothing, so it cleans up like a good one.
	succeeded := false
	defer func() {
		if succeeded || ctx.Err() != nil {
			os.RemoveAll(tmp)
		} else {
			fmt.Fprintf(os.Stderr, "bench: logs and configs kept in %s\n", tmp)
		}
	}()

	targets, err := startAll(ctx, opts, tools, root, tmp)
	// Stop whatever did start, even when a later start failed; proxies
	// before the backend they depend on, so none logs upstream errors.
	defer func() {
		for _, t := range slices.Backward(targets) {
			t.proc.Stop()
		}
	}()
	if err != nil {
		return err
	}

	gen, err := newGenerators(tools, tmp)
	if err != nil {
		return err
	}
	scens, ms, err := runRounds(ctx, opts.rounds, opts.scenarios, targets.proxies(), gen, clk, os.Stderr)
	if err != nil {
		return err
	}

	results := summarizeAll(scens, opts.proxies, ms)
	fmt.Print(resultTables(results))
	if opts.out != "" {
		info := collectMachineInfo(ctx, tools, root, opts)
		if err := writeReport(opts.out, renderReport(info, opts, results, ms)); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", opts.out)
	}
	succeeded = true
	return nil
}

// runningSet is every process the harness started, the backend included, so
// that one deferred loop can stop them all.
type runningSet []*target

// proxies returns the targets under test, leaving out the backend.
func (s runningSet) proxies() []*target {
	var out []*target
	for _, t := range s {
		if !t.backend {
			out = append(out, t)
		}
	}
	return out
}

// startAll builds Strait (when asked for) and starts the backends and every
// requested proxy, each checked to answer 200 before it is returned. Strait
// is built first so a compile error fails the run before anything starts.
// The returned set holds everything started so far, also on error.
func startAll(ctx context.Context, opts options, tools toolPaths, root, tmp string) (runningSet, error) {
	var set runningSet
	straitBin := opts.straitBin
	if straitBin == "" && slices.Contains(opts.proxies, "strait") {
		var err error
		straitBin, err = buildStrait(ctx, tools.goBin, root, tmp)
		if err != nil {
			return set, fmt.Errorf("%w\nto benchmark the others meanwhile, run with -proxies nginx,haproxy", err)
		}
	}
	exe, err := selfExecutable()
	if err != nil {
		return set, err
	}
	cert, err := newBenchCert(benchHost)
	if err != nil {
		return set, err
	}
	certDir := filepath.Join(tmp, "tls")
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		return set, err
	}
	certFile, keyFile := filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem")
	if err := os.WriteFile(certFile, cert.certPEM, 0o644); err != nil {
		return set, err
	}
	if err := os.WriteFile(keyFile, cert.keyPEM, 0o600); err != nil {
		return set, err
	}
	ports, err := freePorts(9)
	if err != nil {
		return set, err
	}
	backendPort, wsPort := ports[0], ports[1]

	// nginx's workers run as an unprivileged user and must reach the
	// bodies: let others traverse (not list) the private temp directory.
	if err := os.Chmod(tmp, 0o711); err != nil {
		return set, err
	}
	www := filepath.Join(tmp, "www")
	if err := writeBodies(www); err != nil {
		return set, err
	}
	backend, err := startNginx(ctx, tools, "backend", filepath.Join(tmp, "backend"), backendConf(backendPort, www), loadCPU)
	if err != nil {
		return set, err
	}
	set = append(set, &target{name: "backend", url: localURL(backendPort), proc: backend, backend: true})
	if err := waitReady(ctx, backend, localURL(backendPort), benchHost, 10*time.Second); err != nil {
		return set, err
	}
	// The echo server is this binary, pinned to the load core like the
	// nginx backend and, like it, limited to one core's worth of threads.
	wsAddr := fmt.Sprintf("127.0.0.1:%d", wsPort)
	echo, err := startProcess("websocket echo", filepath.Join(tmp, "websocket-echo.log"),
		[]string{tools.taskset, "-c", strconv.Itoa(loadCPU), "env", "GOMAXPROCS=1", exe, cmdWSEcho, wsAddr})
	if err != nil {
		return set, err
	}
	set = append(set, &target{name: "websocket echo", url: localURL(wsPort), proc: echo, backend: true})
	if err := waitReady(ctx, echo, localURL(wsPort)+strings.TrimPrefix(wsPath, "/"), benchHost, 10*time.Second); err != nil {
		return set, err
	}

	for _, name := range opts.proxies {
		var t *target
		switch name {
		case "nginx":
			p, err := startNginx(ctx, tools, "nginx", filepath.Join(tmp, "nginx"), proxyConf(nginxProxyPorts{
				http: ports[2], https: ports[3], backend: backendPort, wsEcho: wsPort, certFile: certFile, keyFile: keyFile,
			}), proxyCPU)
			if err != nil {
				return set, err
			}
			t = &target{name: name, url: localURL(ports[2]), tlsAddr: localAddr(ports[3]), proc: p}
		case "haproxy":
			p, err := startHAProxy(ctx, tools, filepath.Join(tmp, "haproxy"), haproxyPorts{
				http: ports[4], https: ports[5], backend: backendPort, wsEcho: wsPort,
			}, cert, proxyCPU)
			if err != nil {
				return set, err
			}
			t = &target{name: name, url: localURL(ports[4]), tlsAddr: localAddr(ports[5]), proc: p}
		case "strait":
			sp := straitPorts{http: ports[6], https: ports[7], healthz: ports[8], backend: backendPort, wsEcho: wsPort, luaPlugin: opts.straitLua}
			p, err := startStrait(tools, straitBin, filepath.Join(tmp, "strait"), sp, cert, proxyCPU)
			if err != nil {
				return set, err
			}
			t = &target{name: name, url: localURL(sp.http), tlsAddr: localAddr(sp.https),
				metricsURL: localURL(sp.healthz) + "metrics", proc: p}
		}
		set = append(set, t)
		if err := waitReady(ctx, t.proc, t.url, benchHost, 10*time.Second); err != nil {
			return set, err
		}
		// The WebSocket route answers plain GETs too (see wsEchoHandler).
		if err := waitReady(ctx, t.proc, t.url+strings.TrimPrefix(wsPath, "/"), benchHost, 10*time.Second); err != nil {
			return set, err
		}
		if err := checkTLS(ctx, t.tlsAddr, cert, 10*time.Second); err != nil {
			return set, fmt.Errorf("%s: %w", t.name, err)
		}
		fmt.Fprintf(os.Stderr, "bench: %s ready on %s and %s (pid %d)\n", t.name, t.url, t.tlsAddr, t.proc.PID())
	}
	return set, nil
}

// newGenerators sets up the load generators: wrk with its percentile script
// written into tmp, h2load with its log file there, and this binary's own.
func newGenerators(tools toolPaths, tmp string) (generators, error) {
	exe, err := selfExecutable()
	if err != nil {
		return generators{}, err
	}
	script := filepath.Join(tmp, "percentiles.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return generators{}, err
	}
	return generators{
		wrk:  wrk{bin: tools.wrk, taskset: tools.taskset, cpu: loadCPU, script: script},
		h2:   h2load{bin: tools.h2load, taskset: tools.taskset, cpu: loadCPU, logFile: filepath.Join(tmp, "h2load.log")},
		self: selfGenerator{exe: exe, taskset: tools.taskset, cpu: loadCPU},
	}, nil
}

// localAddr is the loopback host:port of a port.
func localAddr(port int) string {
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// localURL is the loopback URL of a port; every server here binds 127.0.0.1
// only, so no benchmark traffic can leave the machine.
func localURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/", port)
}

// logf prints one progress line; progress goes to stderr so stdout carries
// only the result table and can be piped.
func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "bench: "+format+"\n", args...)
}
