package admission

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Timeouts of the webhook's HTTPS server. The API server gives a webhook
// at most 30 s (timeoutSeconds), and sends small bodies at once.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 90 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Server is the webhook's HTTPS listener and server.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen opens addr; Serve serves h there over TLS with the certificate of
// certs.
func Listen(addr string, certs *CertFiles, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Server{ln: ln, srv: &http.Server{
		Handler: h,
		TLSConfig: &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: certs.GetCertificate,
		},
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Failed handshakes (an API server that does not trust the
		// certificate) are worth seeing.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelInfo),
	}}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown or Close; it then returns nil.
func (s *Server) Serve() error {
	if err := s.srv.ServeTLS(s.ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits, until ctx ends, for the reviews in
// flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Close closes the listener and every connection.
func (s *Server) Close() error {
	err := s.srv.Close()
	// Close does not close a listener Serve never saw.
	_ = s.ln.Close()
	return err
}
