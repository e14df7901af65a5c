package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/server"
)

// TestWebhookFlagsChecked: the webhook's flags are checked before anything
// is connected or opened, each mistake with a message naming the flags.
func TestWebhookFlagsChecked(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, "webhook.test")
	certFile, keyFile := filepath.Join(dir, "cert"), filepath.Join(dir, "key")
	if err := os.WriteFile(certFile, []byte(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		manifests string
		hook      server.WebhookConfig
		says      string
	}{
		{"standalone", dir, server.WebhookConfig{Listen: ":8443", CertFile: certFile, KeyFile: keyFile}, "--validating-webhook needs cluster mode"},
		{"no certificate", "", server.WebhookConfig{Listen: ":8443", KeyFile: keyFile}, "needs --validating-webhook-certificate and --validating-webhook-key"},
		{"no key", "", server.WebhookConfig{Listen: ":8443", CertFile: certFile}, "needs --validating-webhook-certificate and --validating-webhook-key"},
		{"no port", "", server.WebhookConfig{Listen: "8443", CertFile: certFile, KeyFile: keyFile}, `--validating-webhook "8443": want [host]:port`},
		{"missing file", "", server.WebhookConfig{Listen: ":8443", CertFile: certFile, KeyFile: filepath.Join(dir, "nothere")}, "nothere"},
		{"key of another certificate", "", server.WebhookConfig{Listen: ":8443", CertFile: certFile, KeyFile: certFile}, "--validating-webhook-certificate, --validating-webhook-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.New(server.Config{Manifests: tc.manifests, Webhook: tc.hook, Kube: server.KubeConfig{Kubeconfig: filepath.Join(dir, "no-kubeconfig")}})
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v, want one saying %q", err, tc.says)
			}
		})
	}
}
