package kubesim

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// maxLogLines is how many lines of output a container keeps; older lines
// are dropped. The mirror tests read at most the last half minute.
const maxLogLines = 20000

// logLine is one line of a container's output.
type logLine struct {
	at   time.Time
	text string // without the newline
}

// containerLog is a container's output, line by line, as a kubelet keeps
// it. It outlives restarts of the container's process.
type containerLog struct {
	mu    sync.Mutex
	lines []logLine
}

func (l *containerLog) add(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) >= maxLogLines {
		l.lines = append(l.lines[:0], l.lines[len(l.lines)-maxLogLines/2:]...)
	}
	l.lines = append(l.lines, logLine{at: time.Now(), text: text})
}

// logQuery is what a pods/log request asks for: the query parameters the
// API server passes to the kubelet.
type logQuery struct {
	since      time.Time // zero: from the start
	tailLines  int       // < 0: all
	limitBytes int       // <= 0: no limit
	timestamps bool
}

// render writes the lines q selects, each prefixed by its time in
// RFC 3339 with nanoseconds when q.timestamps is set, as the kubelet does.
func (l *containerLog) render(q logQuery) []byte {
	l.mu.Lock()
	lines := l.lines
	if !q.since.IsZero() {
		i := 0
		for i < len(lines) && lines[i].at.Before(q.since) {
			i++
		}
		lines = lines[i:]
	}
	if q.tailLines >= 0 && len(lines) > q.tailLines {
		lines = lines[len(lines)-q.tailLines:]
	}
	var b bytes.Buffer
	for _, ln := range lines {
		if q.timestamps {
			b.WriteString(ln.at.UTC().Format(time.RFC3339Nano))
			b.WriteByte(' ')
		}
		b.WriteString(ln.text)
		b.WriteByte('\n')
	}
	l.mu.Unlock()
	if q.limitBytes > 0 && b.Len() > q.limitBytes {
		b.Truncate(q.limitBytes)
	}
	return b.Bytes()
}

// lineWriter splits what a process writes into lines for a containerLog.
// A process's stdout and stderr each have one; exec writes to each from a
// single goroutine.
type lineWriter struct {
	log     *containerLog
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			return n, nil
		}
		w.log.add(string(append(w.partial, p[:i]...)))
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
}

// flush adds a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.log.add(string(w.partial))
		w.partial = nil
	}
}

// parseLogQuery reads the query parameters of a /containerLogs request.
func parseLogQuery(r *http.Request, now time.Time) (logQuery, error) {
	v := r.URL.Query()
	q := logQuery{tailLines: -1}
	if s := v.Get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, fmt.Errorf("sinceTime: %w", err)
		}
		q.since = t
	}
	if s := v.Get("sinceSeconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, fmt.Errorf("sinceSeconds: %q is not a number of seconds", s)
		}
		q.since = now.Add(-time.Duration(n) * time.Second)
	}
	if s := v.Get("tailLines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, fmt.Errorf("tailLines: %q is not a number of lines", s)
		}
		q.tailLines = n
	}
	if s := v.Get("limitBytes"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return q, fmt.Errorf("limitBytes: %q is not a positive number", s)
		}
		q.limitBytes = n
	}
	q.timestamps = v.Get("timestamps") == "true"
	if v.Get("previous") == "true" {
		return q, errors.New("previous: kubesim keeps one log per container across restarts")
	}
	return q, nil
}

// kubeletServer is the Node's kubelet API: /healthz and /containerLogs.
type kubeletServer struct {
	srv *http.Server
	ln  net.Listener
}

// startKubelet serves the kubelet API on addr over TLS with a new
// self-signed certificate for ip. lookup finds a container's log (nil if
// there is no such container).
func startKubelet(addr string, ip netip.Addr, lookup func(namespace, pod, container string) *containerLog) (*kubeletServer, error) {
	cert, err := selfSignedCert(ip)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		q, err := parseLogQuery(r, time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ns, pod, ctr := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
		l := lookup(ns, pod, ctr)
		if l == nil {
			http.Error(w, fmt.Sprintf("container %q of pod %s/%s is not running on this node", ctr, ns, pod), http.StatusNotFound)
			return
		}
		// follow=true is answered like a plain read: what has been
		// written so far, then the end of the stream.
		w.Header().Set("Content-Type", "text/plain")
		w.Write(l.render(q))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kubesim: kubelet API: %w", err)
	}
	k := &kubeletServer{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		},
	}
	go k.srv.ServeTLS(ln, "", "")
	return k, nil
}

func (k *kubeletServer) close() { k.srv.Close() }

// selfSignedCert returns a new certificate and key for ip, valid for a
// year.
func selfSignedCert(ip netip.Addr) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "kubesim"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IP(ip.AsSlice())},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
