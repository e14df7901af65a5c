package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// The bench binary doubles as its own Go load generators and WebSocket echo
// backend: the harness re-executes itself with one of these subcommands
// under taskset, so that they run pinned to the load core like wrk and
// h2load, and their CPU is never mixed with the harness's.
const (
	cmdOpenLoop  = "loadgen-open"
	cmdTLSConn   = "loadgen-tls-connect"
	cmdWebSocket = "loadgen-websocket"
	cmdWSEcho    = "websocket-echo"
)

// loadgenConfig is the command line of one Go load generator run.
type loadgenConfig struct {
	addr        string        // host:port to connect to
	host        string        // Host header, TLS server name
	path        string        // request path
	connections int           // concurrent connections
	duration    time.Duration // how long to send
	rate        float64       // open loop: requests per second over all connections
	size        int           // WebSocket: message size in bytes
}

// args renders c as the subcommand's flags, the inverse of parseLoadgenFlags.
func (c loadgenConfig) args() []string {
	return []string{
		"-addr", c.addr, "-host", c.host, "-path", c.path,
		"-connections", strconv.Itoa(c.connections), "-duration", c.duration.String(),
		"-rate", strconv.FormatFloat(c.rate, 'f', -1, 64), "-size", strconv.Itoa(c.size),
	}
}

// parseLoadgenFlags reads a load generator's command line.
func parseLoadgenFlags(name string, args []string) (loadgenConfig, error) {
	var c loadgenConfig
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "", "host:port to connect to")
	fs.StringVar(&c.host, "host", benchHost, "Host header and TLS server name")
	fs.StringVar(&c.path, "path", "/", "request path")
	fs.IntVar(&c.connections, "connections", 16, "concurrent connections")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "how long to send")
	fs.Float64Var(&c.rate, "rate", 0, "open loop: requests per second, all connections together")
	fs.IntVar(&c.size, "size", 64, "WebSocket message size in bytes")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.addr == "":
		return c, errors.New("-addr is required")
	case c.connections < 1:
		return c, fmt.Errorf("-connections must be ≥ 1, got %d", c.connections)
	case c.duration <= 0:
		return c, fmt.Errorf("-duration must be positive, got %v", c.duration)
	case name == cmdOpenLoop && c.rate <= 0:
		return c, fmt.Errorf("-rate must be positive, got %v", c.rate)
	}
	return c, nil
}

// runSubcommand runs args as one of the subcommands above and reports
// whether args named one. A load generator prints its loadResult as JSON on
// stdout; the echo server runs until it is signalled.
func runSubcommand(args []string, stdout io.Writer) (bool, error) {
	if len(args) == 0 {
		return false, nil
	}
	ctx := context.Background()
	name := args[0]
	var gen func(context.Context, loadgenConfig) (loadResult, error)
	switch name {
	case cmdWSEcho:
		addr := ""
		if len(args) > 1 {
			addr = args[1]
		}
		return true, serveWebSocketEcho(addr)
	case cmdOpenLoop:
		gen = runOpenLoop
	case cmdTLSConn:
		gen = runTLSConnect
	case cmdWebSocket:
		gen = runWebSocketLoad
	default:
		return false, nil
	}
	cfg, err := parseLoadgenFlags(name, args[1:])
	if err != nil {
		return true, err
	}
	res, err := gen(ctx, cfg)
	if err != nil {
		return true, err
	}
	return true, json.NewEncoder(stdout).Encode(res)
}

// selfGenerator runs the Go load generators as children of the harness,
// pinned to cpu.
type selfGenerator struct {
	exe, taskset string
	cpu          int
}

// run runs one subcommand and decodes the loadResult it prints.
func (g selfGenerator) run(ctx context.Context, sub string, cfg loadgenConfig) (loadResult, error) {
	argv := append([]string{g.taskset, "-c", strconv.Itoa(g.cpu), g.exe, sub}, cfg.args()...)
	out, err := runStdout(ctx, argv...)
	if err != nil {
		return loadResult{}, err
	}
	var res loadResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return res, fmt.Errorf("%s printed %q: %w", sub, out, err)
	}
	return res, nil
}

// selfExecutable is the path of the running bench binary, for re-executing
// it as a load generator.
func selfExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the bench binary to run its load generators: %w", err)
	}
	return exe, nil
}
