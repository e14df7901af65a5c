package kubesim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Timing of the containers kubesim runs.
const (
	// readyTimeout bounds the wait for a new echo server to listen;
	// past it the container stays not ready until it restarts.
	readyTimeout = 30 * time.Second
	// stopGrace is how long a process has to exit after SIGTERM before it
	// is killed. echo-basic exits at once.
	stopGrace = 2 * time.Second
	// maxRestartDelay caps the back-off between restarts of a container
	// whose process exits, which doubles from one second.
	maxRestartDelay = 10 * time.Second
)

// container is one container of a Pod: its resolved configuration and, for
// an echo-basic image, its process. The state fields are guarded by the
// podRuntime's mu.
type container struct {
	name    string
	image   string
	echo    bool     // runs echo-basic
	env     []string // resolved environment (echo only)
	primary int      // loopback port that answers once the server is up
	log     *containerLog

	proc       *proc     // nil when not running
	startedAt  time.Time // zero until first started
	ready      bool
	restarts   int32
	lastExit   *corev1.ContainerStateTerminated
	restartAt  time.Time
	failReason string // set when the container can never start
	failMsg    string
}

func (c *container) running() bool { return !c.startedAt.IsZero() && (c.proc != nil || !c.echo) }

// isEchoImage reports whether image is the conformance suite's echo
// server, whatever its registry and tag: ".../echo-basic:v1.5.1".
func isEchoImage(image string) bool {
	name, _, _ := strings.Cut(image, "@") // digest
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i] // tag (a colon before the last slash is a registry's port)
	}
	return path.Base(name) == "echo-basic"
}

// echoPort is an environment variable naming a port echo-basic listens on,
// and the port it uses when the variable is unset.
type echoPort struct {
	env  string
	port int
}

// echoPorts returns the port variables of echo-basic's modes: HTTP (HTTP,
// h2c, HTTPS), gRPC (HTTP, HTTPS) and TCP (plain, TLS).
func echoPorts() []echoPort {
	return []echoPort{{"HTTP_PORT", 3000}, {"H2C_PORT", 3001}, {"HTTPS_PORT", 8443}, {"TCP_PORT", 3000}, {"TLS_PORT", 8443}}
}

// prepare writes the Pod's volumes and resolves each container's
// environment, and for echo containers sets up the port forwarding. When
// something the Pod needs does not exist yet (a Secret, a ConfigMap), it
// returns the reason and message the container statuses show meanwhile.
func (rt *podRuntime) prepare(ctx context.Context, pod *corev1.Pod) (_ []*container, reason, msg string, err error) {
	vols, missing, err := rt.sim.writeVolumes(ctx, pod, filepath.Join(rt.dir, "volumes"))
	if err != nil {
		return nil, "", "", err
	}
	if missing != "" {
		return nil, "ContainerCreating", missing, nil
	}
	var containers []*container
	for _, sc := range pod.Spec.Containers {
		c := &container{name: sc.Name, image: sc.Image, echo: isEchoImage(sc.Image), log: rt.logs[sc.Name]}
		containers = append(containers, c)
		if !c.echo {
			continue
		}
		env, missing, err := rt.sim.containerEnv(ctx, pod, rt.ip, sc, vols)
		if err != nil {
			return nil, "", "", err
		}
		if missing != "" {
			return nil, "CreateContainerConfigError", missing, nil
		}
		if env, err = rt.forwardEchoPorts(env); err != nil {
			c.failReason, c.failMsg = "CreateContainerError", err.Error()
			continue
		}
		c.env = env
		port, _ := strconv.Atoi(lookupEnv(env, "HTTP_PORT"))
		if lookupEnv(env, "TCP_ECHO_SERVER") != "" {
			port, _ = strconv.Atoi(lookupEnv(env, "TCP_PORT"))
		}
		c.primary = port
	}
	return containers, "", "", nil
}

// forwardEchoPorts gives each port of echo-basic's a loopback port of its
// own, forwarded from the Pod's address and the port the container
// expects, and returns env with the port variables pointing at the
// loopback ports.
func (rt *podRuntime) forwardEchoPorts(env []string) ([]string, error) {
	if lookupEnv(env, "UDP_ECHO_SERVER") != "" {
		return nil, fmt.Errorf("kubesim does not forward UDP (UDP_ECHO_SERVER)")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, ep := range echoPorts() {
		podPort := ep.port
		if v := lookupEnv(env, ep.env); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p <= 0 || p > 65535 {
				return nil, fmt.Errorf("%s=%q is not a port", ep.env, v)
			}
			podPort = p
		}
		if _, ok := rt.ports[podPort]; !ok {
			host, err := rt.sim.hostPort.allocate()
			if err != nil {
				return nil, err
			}
			rt.ports[podPort] = host
		}
		if rt.fwd[podPort] == nil {
			f, err := listenForward(net.JoinHostPort(rt.ip.String(), strconv.Itoa(podPort)), "127.0.0.1:"+strconv.Itoa(rt.ports[podPort]))
			if err != nil {
				return nil, err
			}
			rt.fwd[podPort] = f
		}
		env = append(env, ep.env+"="+strconv.Itoa(rt.ports[podPort]))
	}
	return env, nil
}

// start starts c: runs echo-basic, or for any other image just records it
// as running and ready. The caller holds rt.mu.
func (rt *podRuntime) start(c *container) {
	if !c.echo {
		c.startedAt, c.ready = now(), true
		return
	}
	p, err := startProc(rt.sim.opts.EchoBasic, c.env, rt.dir, c.log)
	if err != nil {
		rt.exited(c, nil, err)
		return
	}
	c.proc, c.startedAt, c.ready = p, now(), false
	if c.restarts > 0 {
		rt.sim.opts.Logf("kubesim: pod %s: container %s restarted (%d)", rt.key, c.name, c.restarts)
	}
	go rt.watch(c, p)
}

// watch waits for c's server to listen, marks c ready, then waits for the
// process to exit.
func (rt *podRuntime) watch(c *container, p *proc) {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(c.primary), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			rt.mu.Lock()
			if c.proc == p {
				c.ready = true
			}
			rt.mu.Unlock()
			rt.sim.queue.Add(rt.key)
			break
		}
		select {
		case <-p.done:
			deadline = time.Time{}
		case <-time.After(20 * time.Millisecond):
		}
	}
	<-p.done
	rt.mu.Lock()
	rt.exited(c, p, p.err)
	rt.mu.Unlock()
	rt.sim.queue.Add(rt.key)
}

// exited records that c's process p ended (or, p nil, could not start) and
// schedules a restart. The caller holds rt.mu.
func (rt *podRuntime) exited(c *container, p *proc, err error) {
	if c.proc != p {
		return
	}
	c.proc, c.ready = nil, false
	if rt.stopped {
		return
	}
	code, reason, msg := int32(0), "Completed", ""
	if err != nil {
		code, reason, msg = 1, "Error", err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = int32(ee.ExitCode())
		}
	}
	c.lastExit = &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, Message: msg,
		StartedAt: metav1.NewTime(c.startedAt), FinishedAt: metav1.NewTime(now()),
	}
	delay := time.Second << min(c.restarts, 4)
	c.restartAt = time.Now().Add(min(delay, maxRestartDelay))
	c.restarts++
	rt.sim.opts.Logf("kubesim: pod %s: container %s exited: %v; end of its output:\n%s",
		rt.key, c.name, err, c.log.render(logQuery{tailLines: 10}))
}

// proc is a running container process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and its output is in the log
	err  error         // cmd.Wait's result, once done is closed
}

// startProc runs path with env (and nothing of the test's environment) in
// dir, its output going to log line by line. The process is killed if the
// thread that started it exits, which happens only when the process has
// exited or the test process dies.
func startProc(path string, env []string, dir string, log *containerLog) (*proc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stdout, stderr := &lineWriter{log: log}, &lineWriter{log: log}
	p := &proc{cmd: exec.Command(path), done: make(chan struct{})}
	p.cmd.Env, p.cmd.Dir, p.cmd.Stdout, p.cmd.Stderr = env, dir, stdout, stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig follows the thread that forked the process: keep this
		// goroutine on its thread for the process's lifetime.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		stdout.flush()
		stderr.flush()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop sends SIGTERM, then SIGKILL after stopGrace, and waits for the
// process to exit.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// lookupEnv returns the value of the last definition of name in env
// ("NAME=value" entries), as exec and the kubelet resolve duplicates.
func lookupEnv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}
