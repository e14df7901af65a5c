package proxy

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"
)

// clientHello returns the bytes crypto/tls sends first for a handshake
// naming sni.
func clientHello(t testing.TB, sni string) []byte {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		_ = c.Handshake()
	}()
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := b.Read(buf)
		out = append(out, buf[:n]...)
		if _, need, perr := clientHelloSNI(out); err != nil || perr != nil || need == 0 {
			break
		}
	}
	_ = b.Close()
	_ = a.Close()
	return out
}

func TestClientHelloSNI(t *testing.T) {
	hello := clientHello(t, "pass.example.com")
	for i := 0; i < len(hello); i++ {
		sni, need, err := clientHelloSNI(hello[:i])
		if err != nil || need <= i || sni != "" {
			t.Fatalf("prefix of %d bytes: sni %q need %d err %v, want more bytes asked for", i, sni, need, err)
		}
	}
	if sni, need, err := clientHelloSNI(hello); sni != "pass.example.com" || need != 0 || err != nil {
		t.Fatalf("whole hello: sni %q need %d err %v", sni, need, err)
	}

	// The same hello split over two records, as a client may send it.
	body := hello[5:]
	split := append([]byte{22, 3, 1, 0, 10}, body[:10]...)
	n := len(body) - 10
	split = append(split, 22, 3, 1, byte(n>>8), byte(n))
	split = append(split, body[10:]...)
	if sni, _, err := clientHelloSNI(split); sni != "pass.example.com" || err != nil {
		t.Errorf("hello over two records: sni %q err %v", sni, err)
	}

	// An IP address is not sent as a server name.
	if sni, need, err := clientHelloSNI(clientHello(t, "")); sni != "" || need != 0 || err != nil {
		t.Errorf("hello without SNI: sni %q need %d err %v", sni, need, err)
	}
	for _, bad := range []string{"GET / HTTP/1.1\r\n\r\n", "\x16\x03\x01\x00\x00", "\x16\x03\x01\x00\x04\x02\x00\x00\x00"} {
		if _, _, err := clientHelloSNI([]byte(bad)); !errors.Is(err, errNotTLS) {
			t.Errorf("%q: err %v, want errNotTLS", bad, err)
		}
	}
}

// FuzzClientHelloSNI feeds arbitrary bytes to the ClientHello reader, which
// sees whatever a client sends first: it must never panic nor ask for
// fewer bytes than it holds.
func FuzzClientHelloSNI(f *testing.F) {
	f.Add(clientHello(f, "a.example"))
	f.Add([]byte("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, need, err := clientHelloSNI(b)
		if err == nil && need != 0 && need <= len(b) {
			t.Fatalf("asks for %d bytes while holding %d", need, len(b))
		}
	})
}
