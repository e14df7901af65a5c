package scale

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// strait is a running Strait process.
type strait struct {
	b        *testing.B
	cmd      *exec.Cmd
	http     string
	healthz  string
	log      string
	exited   chan error
	started  time.Time
	readyIn  time.Duration
	client   *http.Client
	finished bool
}

func freeAddr(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// startStrait starts `strait serve` against the cluster and waits until
// /healthz reports ready, recording how long that took.
func startStrait(b *testing.B, kubeconfig string) *strait {
	b.Helper()
	s := &strait{b: b, http: freeAddr(b), healthz: freeAddr(b), exited: make(chan error, 1),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
	s.cmd = exec.Command(straitBin, "serve", "--kubeconfig", kubeconfig, "--shutdown-delay=0s",
		"--bind-address", "127.0.0.1", "--http-port", port(s.http), "--https-port", port(freeAddr(b)),
		"--healthz-port", port(s.healthz))
	s.cmd.Env = append(os.Environ(), "POD_NAMESPACE=default")
	s.log = filepath.Join(b.TempDir(), "strait.log")
	f, err := os.Create(s.log)
	if err != nil {
		b.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = f, f
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait(); f.Close() }()
	b.Cleanup(s.stop)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if code, _ := s.getURL("http://" + s.healthz + "/healthz"); code == 200 {
			s.readyIn = time.Since(s.started)
			return s
		}
		select {
		case err := <-s.exited:
			out, _ := os.ReadFile(s.log)
			b.Fatalf("strait exited before ready: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatal("strait not ready after 5 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *strait) stop() {
	if s.finished {
		return
	}
	s.finished = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *strait) getURL(url string) (int, error) {
	resp, err := s.client.Get(url)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// get sends GET path with Host host to the HTTP port.
func (s *strait) get(host, path string) int {
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+path, nil)
	req.Host = host
	resp, err := s.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitServes polls host until it answers 200 and returns when it did.
func (s *strait) waitServes(host, path string, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for {
		if s.get(host, path) == 200 {
			return time.Now(), true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(time.Millisecond)
	}
}

// metrics reads /metrics into name{labels} -> value.
func (s *strait) metrics() map[string]float64 {
	resp, err := s.client.Get("http://" + s.healthz + "/metrics")
	if err != nil {
		s.b.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
