package server

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/straitgw/strait/internal/admission"
	"github.com/straitgw/strait/internal/metrics"
)

// WebhookConfig configures the validating admission webhook, with
// ingress-nginx's flag names.
type WebhookConfig struct {
	// Listen is the HTTPS address (--validating-webhook), e.g. ":8443";
	// empty turns the webhook off.
	Listen string
	// CertFile and KeyFile are the PEM serving certificate and its key
	// (--validating-webhook-certificate, --validating-webhook-key); both
	// are required with Listen, and read again when they change.
	CertFile, KeyFile string
}

// check validates the flags; standalone is --manifests mode.
func (w WebhookConfig) check(standalone bool) error {
	if w.Listen == "" {
		return nil
	}
	if standalone {
		return fmt.Errorf("--validating-webhook needs cluster mode: with --manifests there is no API server to send reviews")
	}
	if w.CertFile == "" || w.KeyFile == "" {
		return fmt.Errorf("--validating-webhook needs --validating-webhook-certificate and --validating-webhook-key (PEM files of the serving certificate and its key)")
	}
	if _, _, err := net.SplitHostPort(w.Listen); err != nil {
		return fmt.Errorf("--validating-webhook %q: want [host]:port, e.g. :8443: %w", w.Listen, err)
	}
	return nil
}

// load reads the certificate files, nil when the webhook is off.
func (w WebhookConfig) load(log *slog.Logger) (*admission.CertFiles, error) {
	if w.Listen == "" {
		return nil, nil
	}
	certs, err := admission.LoadCertFiles(w.CertFile, w.KeyFile, log)
	if err != nil {
		return nil, fmt.Errorf("--validating-webhook-certificate, --validating-webhook-key: %w", err)
	}
	return certs, nil
}

// webhook opens the webhook's listener. Reviews are decided against the
// snapshot of the controller's latest generation, with its class,
// namespace and translation settings.
func (c *cluster) webhook(cfg Config, certs *admission.CertFiles, m *metrics.Set) (*admission.Server, error) {
	v := &admission.Validator{
		Current: func() admission.State {
			g := c.ctrl.Current()
			return admission.State{Snapshot: g.Snapshot, Problems: g.Problems}
		},
		Classes:   cfg.Classes,
		Watches:   c.src.Watches,
		Translate: cfg.Translate,
		Metrics:   m,
		Log:       cfg.Log,
	}
	srv, err := admission.Listen(cfg.Webhook.Listen, certs, v.Handler(), cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("--validating-webhook: %w", err)
	}
	cfg.Log.Info("validating webhook listening", "address", srv.Addr(), "path", admission.Path)
	return srv, nil
}
