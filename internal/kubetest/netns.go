package kubetest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// NetnsEnv is the environment variable that RunInNetns sets to "1" for the
// copy of the test binary it starts inside a private network namespace. Its
// presence tells RunInNetns that it is running inside the namespace.
const NetnsEnv = "STRAIT_NETNS"

// PodCIDR is the address range that RunInNetns makes local inside the
// namespace: any address in it can be bound and reached from the namespace,
// so tests use addresses from it for backends (the API server rejects
// loopback addresses in EndpointSlices).
const PodCIDR = "10.244.0.0/16"

// GatewayCIDR is a second range that RunInNetns makes local inside the
// namespace, kept apart from PodCIDR: the pool a Gateway controller under
// test hands Gateway addresses out of, so that each Gateway has an address
// of its own that the proxy can bind (port 80 for several Gateways at
// once) and the tests can dial.
const GatewayCIDR = "172.30.0.0/24"

// RunInNetns runs the tests of a package inside a private network namespace.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(kubetest.RunInNetns(m)) }
//
// Outside the namespace it starts the test binary again, with the same
// arguments, under unshare(1) in new network and PID namespaces (as root;
// otherwise also in a new user namespace, as unshare -r does), passes its
// output through and returns its exit status. Inside, it brings up the
// loopback interface, makes PodCIDR and GatewayCIDR local and then returns
// m.Run(). The namespace has no interface but lo, so no test traffic can
// leave the machine, and because the test binary is the first process of
// the PID namespace, every process the tests start (etcd, kube-apiserver,
// backends) is killed by the kernel when the test binary exits, however it
// exits.
//
// If unshare or ip is missing or fails, RunInNetns prints why and returns a
// non-zero status: the tests fail, they are never skipped.
func RunInNetns(m *testing.M) int {
	if os.Getenv(NetnsEnv) == "1" {
		if err := setUpNetns(); err != nil {
			fmt.Fprintf(os.Stderr, "kubetest: setting up the network namespace: %v\n", err)
			return 1
		}
		return m.Run()
	}
	code, err := reexecInNetns()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubetest: running the tests in a private network namespace: %v\n", err)
		fmt.Fprintln(os.Stderr, "kubetest: the tests need unshare (util-linux) and ip (iproute2), and permission to create namespaces")
		return 1
	}
	return code
}

// reexecInNetns runs the current test binary under unshare with NetnsEnv set
// and returns its exit status.
func reexecInNetns() (int, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, err
	}
	// ip is run by the child; look for it now to fail before forking.
	if _, err := exec.LookPath("ip"); err != nil {
		return 0, err
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	// --kill-child makes the kernel kill the test binary if unshare dies;
	// with --pid, that in turn kills everything the tests started.
	args := []string{"--net", "--pid", "--kill-child"}
	if os.Geteuid() != 0 {
		args = append(args, "--map-root-user")
	}
	args = append(args, "--")
	args = append(args, exe)
	args = append(args, os.Args[1:]...)
	cmd := exec.Command(unshare, args...)
	cmd.Stdin = os.Stdin
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), NetnsEnv+"=1")
	// Kill unshare (and so the tests) if this process dies. Pdeathsig
	// follows the thread that started the child, so keep this goroutine on
	// its thread until the child exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	// Forward termination signals to the test binary, unshare's child: it
	// runs the tests and decides what to do with them (on SIGQUIT, print
	// its goroutines).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				signalChild(cmd.Process.Pid, s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(os.Stderr, "kubetest: test binary in the network namespace killed by %v\n", ws.Signal())
			return 1, nil
		}
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// signalChild sends sig to the first child of process pid (the test binary
// that unshare forked), or to pid itself if it has none yet.
func signalChild(pid int, sig syscall.Signal) {
	target := pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if c, err := strconv.Atoi(f[0]); err == nil {
				target = c
			}
		}
	}
	_ = syscall.Kill(target, sig)
}

// setUpNetns brings lo up and makes PodCIDR and GatewayCIDR local, after
// checking that the process is in a namespace of its own: one with no
// interface but lo.
func setUpNetns() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("%s=1 but interface %s exists: not in a private network namespace, refusing to change routes", NetnsEnv, ifc.Name)
		}
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		// replace rather than add, so that a test binary started by a test
		// inside the namespace can set it up again.
		{"route", "replace", "local", PodCIDR, "dev", "lo", "table", "local"},
		{"route", "replace", "local", GatewayCIDR, "dev", "lo", "table", "local"},
	} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %v: %v: %s", args, err, out)
		}
	}
	return nil
}
