package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/controller"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/translate/gatewayapi"
)

// gwBind is one listening socket of the Gateway API listeners: an address
// and port, the Gateway it belongs to ("" when shared by every Gateway
// without addresses of its own) and whether it terminates TLS.
type gwBind struct {
	addr    string
	gateway string
	tls     bool
}

// gwServing is an open Gateway listener and its server.
type gwServing struct {
	srv  *http.Server
	done chan struct{}
}

// gatewayListeners opens and closes the Gateway API listeners as the
// generations' Gateways come and go. Listeners are state that outlives a
// generation: one that stays is never reopened, so its connections never
// notice a change.
type gatewayListeners struct {
	proxy *proxy.Proxy
	log   *slog.Logger
	// bind is the address Gateways without addresses share.
	bind string
	// httpPort, httpsPort and healthzPort are those of Strait's own
	// listeners on bind.
	httpPort, httpsPort, healthzPort int

	mu     sync.Mutex
	open   map[gwBind]*gwServing
	failed map[gwBind]string
	closed bool
}

func newGatewayListeners(p *proxy.Proxy, log *slog.Logger, bind string) *gatewayListeners {
	return &gatewayListeners{proxy: p, log: log, bind: bind, open: map[gwBind]*gwServing{}, failed: map[gwBind]string{}}
}

// wanted lists the sockets the Gateways of m need.
func (gl *gatewayListeners) wanted(m *model.Model) map[gwBind]bool {
	out := map[gwBind]bool{}
	for _, g := range m.Gateways {
		for _, l := range g.Listeners {
			port := strconv.Itoa(int(l.Port))
			if len(g.Addresses) == 0 {
				out[gwBind{addr: net.JoinHostPort(gl.bind, port), tls: l.TLS}] = true
				continue
			}
			for _, a := range g.Addresses {
				out[gwBind{addr: net.JoinHostPort(a, port), gateway: g.Name, tls: l.TLS}] = true
			}
		}
	}
	return out
}

// reconcile opens the listeners m needs and closes the others. A listener
// that cannot be opened is logged once; the others serve.
func (gl *gatewayListeners) reconcile(m *model.Model) {
	gl.mu.Lock()
	defer gl.mu.Unlock()
	if gl.closed {
		return
	}
	want := gl.wanted(m)
	for b, s := range gl.open {
		if !want[b] {
			delete(gl.open, b)
			go func() {
				_ = s.srv.Close()
				<-s.done
			}()
			gl.log.Info("Gateway listener closed", "address", b.addr, "gateway", b.gateway)
		}
	}
	for b := range gl.failed {
		if !want[b] {
			delete(gl.failed, b)
		}
	}
	binds := make([]gwBind, 0, len(want))
	for b := range want {
		binds = append(binds, b)
	}
	// Sorted, so that of two listeners that cannot both be opened the
	// same one wins each time.
	slices.SortFunc(binds, func(a, b gwBind) int {
		return cmp.Or(strings.Compare(a.addr, b.addr), strings.Compare(a.gateway, b.gateway), boolCompare(a.tls, b.tls))
	})
	for _, b := range binds {
		if gl.open[b] != nil {
			continue
		}
		if err := gl.listen(b); err != "" {
			if gl.failed[b] != err {
				gl.log.Error("Gateway listener not opened", "address", b.addr, "gateway", b.gateway, "error", err)
			}
			gl.failed[b] = err
			continue
		}
		delete(gl.failed, b)
	}
}

// listen opens one listener and serves it; it returns why it could not.
func (gl *gatewayListeners) listen(b gwBind) string {
	host, portText, _ := net.SplitHostPort(b.addr)
	port, _ := strconv.Atoi(portText)
	if b.gateway == "" {
		// Strait's own listeners serve the Gateway listeners of their
		// port (proxy/gwshared.go), when the protocols agree.
		switch {
		case port == gl.httpPort && !b.tls, port == gl.httpsPort && b.tls:
			return ""
		case port == gl.httpPort:
			return "port " + portText + " is Strait's plain HTTP listener (--http-port); an HTTPS listener cannot share it"
		case port == gl.httpsPort:
			return "port " + portText + " is Strait's HTTPS listener (--https-port); a plain HTTP listener cannot share it"
		case port == gl.healthzPort:
			return "port " + portText + " is Strait's health port (--healthz-port)"
		}
	}
	for ob := range gl.open {
		// One socket per address and port: listeners of different
		// protocols on one shared port cannot both be served.
		if ob.addr == b.addr {
			return "address " + b.addr + " is already served for another protocol"
		}
	}
	ln, err := proxy.Listen(net.JoinHostPort(host, portText))
	if err != nil {
		return err.Error()
	}
	srv := gl.proxy.GatewayServer(ln, b.gateway, b.tls)
	s := &gwServing{srv: srv, done: make(chan struct{})}
	gl.open[b] = s
	go func() {
		defer close(s.done)
		if err := proxy.Serve(srv, ln); err != nil {
			gl.log.Error("Gateway listener stopped", "address", b.addr, "error", err)
		}
	}()
	gl.log.Info("Gateway listener opened", "address", b.addr, "gateway", b.gateway, "tls", b.tls)
	return ""
}

// failures returns why listeners could not be opened, by address.
func (gl *gatewayListeners) failures() map[string]string {
	gl.mu.Lock()
	defer gl.mu.Unlock()
	out := make(map[string]string, len(gl.failed))
	for b, err := range gl.failed {
		out[b.addr] = err
	}
	return out
}

// shutdown stops every listener gracefully (in-flight requests finish,
// HTTP/2 connections get a GOAWAY) and opens no more.
func (gl *gatewayListeners) shutdown(ctx context.Context) {
	gl.mu.Lock()
	gl.closed = true
	open := gl.open
	gl.open = map[gwBind]*gwServing{}
	gl.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.srv.Shutdown(ctx); err != nil {
				_ = s.srv.Close()
			}
			<-s.done
		}()
	}
	wg.Wait()
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// gatewayAPI returns the Gateway API translation settings, nil when the
// Gateway API is left out.
func gatewayAPI(cfg GatewayConfig) (*controller.GatewayAPI, error) {
	if cfg.ControllerName == "" {
		if cfg.AddressPool != "" {
			return nil, fmt.Errorf("--gateway-address-pool needs --gateway-controller-name")
		}
		return nil, nil
	}
	gw := &controller.GatewayAPI{Options: gatewayapi.Options{
		RouteKinds:     gatewayapi.RouteKinds(),
		Features:       gatewayapi.SupportedFeatures(),
		ControllerName: gatewayv1.GatewayController(cfg.ControllerName),
	}}
	if cfg.AddressPool != "" {
		pool, err := controller.NewAddressPool(cfg.AddressPool)
		if err != nil {
			return nil, fmt.Errorf("--gateway-address-pool: %w", err)
		}
		gw.Pool = pool
	}
	return gw, nil
}
