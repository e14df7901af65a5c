package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/straitgw/strait/internal/admission"
	"github.com/straitgw/strait/internal/metrics"
	luaplugin "github.com/straitgw/strait/internal/plugin/lua"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/proxy/upstream"
	"github.com/straitgw/strait/internal/server"
)

// serveFlags are the flags shared by serve and demo. Names and meanings
// follow ingress-nginx's controller flags.
type serveFlags struct {
	cfg       server.Config
	logLevel  string
	metricsOn bool
}

func (f *serveFlags) register(fs *pflag.FlagSet, httpPort, httpsPort int) {
	fs.StringVar(&f.cfg.Manifests, "manifests", "", "directory of Kubernetes YAML manifests to serve (standalone mode, no cluster); watched for changes")
	k := &f.cfg.Kube
	fs.StringVar(&k.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster configuration, then $KUBECONFIG)")
	fs.StringVar(&k.WatchNamespace, "watch-namespace", "", "watch only this namespace (default all)")
	fs.StringVar(&k.WatchNamespaceSelector, "watch-namespace-selector", "", "watch only namespaces whose labels match this selector")
	fs.StringVar(&k.ConfigMap, "configmap", "", "namespace/name of the controller ConfigMap")
	fs.StringVar(&f.cfg.Translate.DefaultCertificate, "default-ssl-certificate", "", "namespace/name of the kubernetes.io/tls Secret served when no other certificate matches (default: generated, self-signed)")
	fs.StringVar(&k.PublishService, "publish-service", "", "namespace/name of the Service whose addresses are written to Ingress status")
	fs.StringVar(&k.PublishStatusAddress, "publish-status-address", "", "comma-separated addresses written to Ingress status, instead of --publish-service")
	fs.BoolVar(&k.UpdateStatus, "update-status", true, "write the published addresses to the status of served Ingresses (leader only)")
	fs.BoolVar(&k.UpdateStatusOnShutdown, "update-status-on-shutdown", true, "clear those addresses when the leader shuts down")
	fs.StringVar(&k.ElectionID, "election-id", "strait-leader", "name of the Lease used to elect the replica that writes status and events")
	fs.StringVar(&f.cfg.BindAddress, "bind-address", "", "address the HTTP and HTTPS listeners bind (default all)")
	fs.IntVar(&f.cfg.HTTPPort, "http-port", httpPort, "port for plain HTTP")
	fs.IntVar(&f.cfg.HTTPSPort, "https-port", httpsPort, "port for HTTPS (HTTP/2 and HTTP/1.1 by ALPN)")
	fs.IntVar(&f.cfg.HealthzPort, "healthz-port", 10254, "port serving /healthz, /metrics and /debug/model")
	fs.StringVar(&f.cfg.Classes.ControllerClass, "controller-class", "strait.dev/ingress-controller", "IngressClass spec.controller value this controller owns")
	fs.StringVar(&f.cfg.Classes.IngressClass, "ingress-class", "strait", "class name accepted in the kubernetes.io/ingress.class annotation")
	fs.BoolVar(&f.cfg.Classes.IngressClassByName, "ingress-class-by-name", false, "also serve the IngressClass named by --ingress-class, whatever its controller")
	fs.BoolVar(&f.cfg.Classes.WatchWithoutClass, "watch-ingress-without-class", false, "also serve Ingresses that name no class")
	fs.BoolVar(&f.cfg.Translate.EnableSSLPassthrough, "enable-ssl-passthrough", false, "honour the ssl-passthrough annotation: TLS connections for its hosts are passed, unterminated, to their Service")
	fs.StringVar(&f.cfg.Gateway.ControllerName, "gateway-controller-name", "strait.dev/gateway-controller", "GatewayClass spec.controllerName whose Gateways, HTTPRoutes and GRPCRoutes are served; empty leaves the Gateway API out (it is also left out when its CRDs are not installed)")
	fs.StringVar(&f.cfg.Gateway.AddressPool, "gateway-address-pool", "", "CIDR from which each Gateway gets an address of its own, bound by its listeners and written to its status (the range must be routed to this host); default: Gateways share --bind-address and report the --publish-service addresses")
	fs.StringVar(&f.cfg.Translate.DefaultBackendService, "default-backend-service", "", "namespace/name of the Service answering unmatched requests (default: built-in 404)")
	fs.DurationVar(&f.cfg.ShutdownDelay, "shutdown-delay", 5*time.Second, "on SIGTERM/SIGQUIT, how long to keep serving with readiness failing before closing the listeners (replaces a preStop sleep; 0 closes at once)")
	fs.DurationVar(&f.cfg.ShutdownGracePeriod, "shutdown-grace-period", 10*time.Second, "how long in-flight requests may take to finish on shutdown")
	fs.StringVar(&f.cfg.Plugins.Dir, "plugins-dir", "", "directory of Lua plugins, each <name>/main.lua, watched for changes (see docs/plugins.md); empty: Lua plugins come from ConfigMaps only")
	fs.DurationVar(&f.cfg.Plugins.Budget, "plugin-budget", luaplugin.DefaultBudget, "longest one call of a Lua plugin's phase function may run; beyond, its request gets a 500")
	o := &upstream.Outlier{}
	f.cfg.Outlier = o
	fs.IntVar(&o.ConsecutiveFailures, "outlier-consecutive-failures", upstream.DefaultConsecutiveFailures, "eject an endpoint after this many failures in a row (connect errors, resets, timeouts, 502/503/504 responses); 0 disables passive health checking")
	fs.DurationVar(&o.BaseEjectionTime, "outlier-base-ejection-time", upstream.DefaultBaseEjectionTime, "an ejection lasts this long times the number of recent ejections of the endpoint")
	fs.DurationVar(&o.MaxEjectionTime, "outlier-max-ejection-time", upstream.DefaultMaxEjectionTime, "cap on the ejection time (0: no cap)")
	fs.IntVar(&o.MaxEjectionPercent, "outlier-max-ejection-percent", upstream.DefaultMaxEjectionPercent, "most endpoints of a backend ejected at once, in per cent (at least one may be; the last in service never is)")
	br := &upstream.Breaker{}
	f.cfg.Breaker = br
	fs.IntVar(&br.MaxRequests, "backend-max-requests", upstream.DefaultBackendMaxRequests, "most requests in flight to one backend (0: no limit)")
	fs.IntVar(&br.MaxPending, "backend-max-pending", upstream.DefaultBackendMaxPending, "most requests waiting, up to the connect timeout, for one of those; beyond, Strait answers 503 at once")
	l := &f.cfg.ClientLimits
	fs.DurationVar(&l.PressureHeaderTimeout, "pressure-header-timeout", proxy.DefaultPressureHeaderTimeout, "while more than three quarters of max-worker-connections are open, connections that have not sent a request head (TLS handshake included) within this time are closed")
	fs.DurationVar(&l.SendTimeout, "client-send-timeout", proxy.DefaultClientSendTimeout, "longest a write to a client may block before the connection is closed (nginx's send_timeout)")
	fs.IntVar(&l.HTTP2MaxResets, "http2-max-resets", proxy.DefaultHTTP2MaxResets, "most HTTP/2 stream resets a client may send on one connection at once, and per second sustained, before it is closed with GOAWAY (rapid reset)")
	fs.IntVar(&l.HTTP2MaxContinuations, "http2-max-continuations", proxy.DefaultHTTP2MaxContinuations, "most CONTINUATION frames in one HTTP/2 header block before the connection is closed with GOAWAY")
	mc := &f.cfg.Metrics
	fs.BoolVar(&f.metricsOn, "enable-metrics", true, "count requests per Ingress path on /metrics, under ingress-nginx's metric names (nginx_ingress_controller_requests and others); the control-plane metrics are always on")
	fs.BoolVar(&mc.Requests.PerHost, "metrics-per-host", true, "label request metrics with the Ingress host; without, series of different hosts are one")
	fs.BoolVar(&mc.Requests.StatusClasses, "report-status-classes", false, "label request metrics with status classes (2xx, 4xx) instead of codes")
	fs.Float64SliceVar(&mc.Requests.TimeBuckets, "time-buckets", metrics.DefaultTimeBuckets(), "bucket bounds in seconds of the request and upstream duration histograms")
	fs.Float64SliceVar(&mc.Requests.LengthBuckets, "length-buckets", metrics.DefaultLengthBuckets(), "bucket bounds in bytes of the request size histogram")
	fs.Float64SliceVar(&mc.Requests.SizeBuckets, "size-buckets", metrics.DefaultSizeBuckets(), "bucket bounds in bytes of the response size histogram")
	fs.BoolVar(&f.cfg.Profiling, "profiling", true, "serve Go profiles under /debug/pprof on the health port")
	fs.BoolVar(&f.cfg.LiveView, "enable-live-view", true, "serve the read-only live view of hosts, routes, backends, certificates and problems on the health port (/live/, JSON at /live/api)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// config returns the server configuration the flags describe.
func (f *serveFlags) config() server.Config {
	c := f.cfg
	c.Metrics.Disabled = !f.metricsOn
	return c
}

func (f *serveFlags) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, err
	}
	l := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	slog.SetDefault(l)
	return l, nil
}

func serveCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Ingresses of a cluster, or of a manifests directory with --manifests",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			log, err := f.logger()
			if err != nil {
				return err
			}
			f.cfg.Log = log
			// ingress-nginx writes its access log to /dev/stdout; the
			// ConfigMap's disable-access-log turns it off.
			f.cfg.AccessLog = os.Stdout
			srv, err := server.New(f.config())
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			tuneRuntime(ctx)
			return srv.Run(ctx)
		},
	}
	f.register(cmd.Flags(), 80, 443)
	registerWebhook(cmd.Flags(), &f.cfg.Webhook)
	return cmd
}

// registerWebhook adds the validating webhook's flags, ingress-nginx's
// names. Unlike ingress-nginx, the certificate files have no default: the
// webhook is off unless asked for, and then says which file is missing.
func registerWebhook(fs *pflag.FlagSet, w *server.WebhookConfig) {
	fs.StringVar(&w.Listen, "validating-webhook", "", "address of the validating admission webhook for Ingresses, e.g. :8443 (HTTPS, path "+admission.Path+"); empty: off")
	fs.StringVar(&w.CertFile, "validating-webhook-certificate", "", "PEM certificate the validating webhook serves (read again when it changes); required with --validating-webhook")
	fs.StringVar(&w.KeyFile, "validating-webhook-key", "", "PEM private key of that certificate; required with --validating-webhook")
}
