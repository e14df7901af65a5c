package main

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestDemo builds the binary and runs `strait demo` as a user would, from a
// directory without the source tree (so the embedded quickstart is used),
// then checks plain HTTP, HTTPS with SNI and HTTP/2, a WebSocket, and a
// clean exit on SIGTERM.
func TestDemo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "strait")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	httpPort, httpsPort, healthPort := freePort(t), freePort(t), freePort(t)
	cmd := exec.Command(bin, "demo",
		"--http-port", strconv.Itoa(httpPort), "--https-port", strconv.Itoa(httpsPort),
		"--healthz-port", strconv.Itoa(healthPort), "--bind-address", "127.0.0.1")
	cmd.Dir = t.TempDir()
	out, err := os.Create(filepath.Join(t.TempDir(), "demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			log, _ := os.ReadFile(out.Name())
			t.Logf("demo output:\n%s", log)
		}
	}()
	waitHealthy(t, healthPort)

	// Plain HTTP to the example host reaches an echo backend.
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/hello", nil)
	req.Host = "demo.strait.local"
	echo := getEcho(t, http.DefaultClient, req)
	if echo.Backend != "echo-a" || echo.Host != "demo.strait.local" {
		t.Errorf("plain HTTP reached %+v", echo)
	}

	// HTTPS negotiates h2 and presents the example certificate for the SNI
	// name.
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{ServerName: "demo.strait.local", InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	req, _ = http.NewRequest("GET", "https://127.0.0.1:"+strconv.Itoa(httpsPort)+"/b/x", nil)
	req.Host = "demo.strait.local"
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("HTTPS protocol %s, want HTTP/2", resp.Proto)
	}
	if cn := resp.TLS.PeerCertificates[0].Subject.CommonName; cn != "demo.strait.local" {
		t.Errorf("certificate CN %q, want demo.strait.local", cn)
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Echo-Backend") != "echo-b" {
		t.Errorf("HTTPS /b/x: %d from %q", resp.StatusCode, resp.Header.Get("X-Echo-Backend"))
	}

	// A WebSocket echoes.
	h := http.Header{"Host": {"demo.strait.local"}}
	ws, _, err := websocket.DefaultDialer.Dial("ws://127.0.0.1:"+strconv.Itoa(httpPort)+"/", h)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "ping" {
		t.Errorf("websocket echo %q, %v", msg, err)
	}
	ws.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("demo exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("demo did not exit within 15 s of SIGTERM")
	}
}

type echoReply struct {
	Backend string `json:"backend"`
	Host    string `json:"host"`
}

func getEcho(t *testing.T, c *http.Client, req *http.Request) echoReply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e echoReply
	if resp.StatusCode != 200 || json.Unmarshal(body, &e) != nil {
		t.Fatalf("%s: %d %s", req.URL, resp.StatusCode, body)
	}
	return e
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHealthy(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("demo not healthy within 10 s")
}
