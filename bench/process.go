package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a long-running child (an nginx master, HAProxy, Strait, the
// WebSocket echo backend) that must be stopped on every exit path of the
// harness.
type process struct {
	name string
	cmd  *exec.Cmd
	logs []string      // files where the child says why it failed, output first
	done chan struct{} // closed once the child has been reaped
	err  error         // result of Wait; valid once done is closed
}

// startProcess starts argv with its stdout and stderr in outLog; extraLogs
// are other files it writes diagnostics to (nginx's error_log), quoted along
// with outLog when it fails. The child leads its
// own process group so that Stop reaches nginx's workers too and so that the
// terminal's Ctrl-C reaches only the harness, which then stops children in
// order. Pdeathsig is a safety net for when the harness itself is killed
// with SIGKILL and cannot clean up.
func startProcess(name, outLog string, argv []string, extraLogs ...string) (*process, error) {
	f, err := os.Create(outLog)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	recordGroup(cmd.Process.Pid)
	p := &process{name: name, cmd: cmd, logs: append([]string{outLog}, extraLogs...), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the child's process ID. taskset and env exec their command, so this
// is the nginx master's or Strait's own PID, the root whose CPU is measured.
func (p *process) PID() int { return p.cmd.Process.Pid }

// exited reports whether the child has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the child's whole process group: SIGTERM first (nginx's fast
// shutdown, Go's default exit), SIGKILL if that takes over five seconds. It
// does not take a context because it must also run after an interrupt.
func (p *process) Stop() {
	pgid := p.PID()
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	}
	// A worker can outlive its master; the group still names it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// exitError describes a child that ended early, with the end of its logs,
// which is where nginx and Strait say why.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited early (%v)%s", p.name, p.err, p.logTails())
}

// logTails quotes the last lines of each of the child's non-empty logs.
func (p *process) logTails() string {
	var b strings.Builder
	for _, l := range p.logs {
		if fi, err := os.Stat(l); err == nil && fi.Size() == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n--- last lines of %s:\n%s", l, logTail(l, 20))
	}
	return b.String()
}

// logTail returns the last n lines of a log file, or a note if unreadable.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitReady polls url with the given Host until it answers 200, p exits or
// timeout passes. Keep-alives are off so the probe leaves no idle connection
// open on the proxy during the measurement; a fresh Transport also ignores
// HTTP_PROXY, which must never see loopback benchmark traffic.
func waitReady(ctx context.Context, p *process, url, host string, timeout time.Duration) error {
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		if p.exited() {
			return p.exitError()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Host = host
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 on %s (Host: %s) within %v; last: %s%s",
				p.name, url, host, timeout, last, p.logTails())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct free loopback ports. All listeners stay open
// until every port is chosen so the kernel cannot hand out one twice.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// runOutput runs a short command and returns its combined output, with that
// output in the error when it fails, since tools print their reasons there.
func runOutput(ctx context.Context, dir string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	// wrk must not keep loading a port after the harness is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// groupsFileName is the file in each run's temp directory listing the
// process groups that run started, one PID per line, for sweepStale.
const groupsFileName = "pgids"

// groupsFile is this run's groupsFileName path, set once the temp directory
// exists; empty means do not record.
var groupsFile string

// recordGroup notes a started process group in groupsFile. Failing to is
// not worth failing the run over: it only weakens a later sweepStale.
func recordGroup(pgid int) {
	if groupsFile == "" {
		return
	}
	f, err := os.OpenFile(groupsFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%d\n", pgid)
}

// sweepStale kills what earlier runs left behind. A harness killed with
// SIGKILL runs no cleanup, and although Pdeathsig then kills each nginx
// master, nginx workers outlive their master and would keep listening. A
// group is swept only if its leader is gone or a zombie, so the processes
// of a harness that is still running are never touched, and only the
// processes the harness starts (nginx, haproxy, strait and this binary as
// echo backend) are, so a reused PGID cannot hit anything else.
func sweepStale(w io.Writer) {
	files, _ := filepath.Glob(filepath.Join(os.TempDir(), "strait-bench-*", groupsFileName))
	if len(files) == 0 {
		return
	}
	all, err := readAllProcStats()
	if err != nil {
		return
	}
	alive := make(map[int]bool)
	for _, s := range all {
		alive[s.PID] = s.State != 'Z'
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		groups := make(map[int]bool)
		for _, f := range strings.Fields(string(b)) {
			if g, err := strconv.Atoi(f); err == nil && !alive[g] {
				groups[g] = true
			}
		}
		for _, s := range all {
			if groups[s.PGRP] && s.State != 'Z' && (s.Comm == "nginx" || s.Comm == "haproxy" || s.Comm == "strait" || s.Comm == "bench") {
				logf(w, "killing pid %d (%s) left over by an earlier run (%s)", s.PID, s.Comm, file)
				_ = syscall.Kill(s.PID, syscall.SIGKILL)
			}
		}
		os.Remove(file)
	}
}

// runStdout runs a command and returns its standard output alone, so that a
// child's warnings on stderr cannot corrupt the JSON it prints; stderr goes
// into the error when the command fails.
func runStdout(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
