package admission_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// TestReviewContactsNothing: Ingresses whose annotations name URLs of a
// listener and paths of a file are reviewed, allowed and refused, and
// nothing connects to the listener or opens the file (watched with
// inotify, which sees every open by any process).
func TestReviewContactsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			_ = c.Close()
		}
	}()
	defer ln.Close()
	url := "http://" + ln.Addr().String()

	dir := t.TempDir()
	bait := filepath.Join(dir, "htpasswd")
	must(t, os.WriteFile(bait, []byte("user:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600))
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_OPEN|syscall.IN_ACCESS); err != nil {
		t.Fatal(err)
	}

	v := validator(world(), nil)
	for i, ann := range [][]string{
		{"auth-url", url + "/auth", "auth-signin", url + "/signin", "auth-response-headers", "X-User"},
		{"mirror-target", url + "/mirror$request_uri"},
		{"auth-url", url + "/auth", "auth-type", "basic", "auth-secret-type", "auth-file", "auth-secret", bait},
		{"auth-tls-secret", bait, "proxy-ssl-secret", bait, "auth-file", bait},
		{"configuration-snippet", "auth_basic_user_file " + bait + ";", "server-snippet", "mirror " + url + ";"},
		{"permanent-redirect", url + "/moved", "default-backend", url},
	} {
		ing := ingress("bait", "strait", "bait.test", "/", "web", ann...)
		resp, err := v.Review(request(t, admissionv1.Create, ing))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("review %d: allowed %v, warnings %q, result %+v", i, resp.Allowed, resp.Warnings, resp.Result)
	}

	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections to the address the annotations name", n)
	}
	buf := make([]byte, 4096)
	n, err := syscall.Read(fd, buf)
	if !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("the file the annotations name was opened or read (inotify read %d bytes, %v)", n, err)
	}
}
