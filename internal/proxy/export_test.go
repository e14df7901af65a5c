package proxy

import (
	"log"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

// HandOffAll makes p's HTTP/1 engine hand every route over to the net/http
// handler, so that tests can run through the hand-over path. The current
// model is compiled again with it.
func HandOffAll(p *Proxy) {
	p.applyMu.Lock()
	p.handoffAll = true
	p.applyMu.Unlock()
	p.Apply(p.Model())
}

// SetHandOffErrorLog starts s's net/http side, which serves the
// connections the engine hands over, with l as its error log instead of
// none, so that tests see the panics net/http recovers. It must be called
// before s serves.
func SetHandOffErrorLog(s *H1Server, l *log.Logger) {
	s.startFull()
	s.full.srv.ErrorLog = l
}

// SetOutlier replaces p's passive health settings; tests that count
// answers from failing endpoints turn ejection off with a zero Outlier.
func SetOutlier(p *Proxy, o upstream.Outlier) { p.registry.SetOutlier(o) }

// SetBreaker replaces p's circuit-breaker settings.
func SetBreaker(p *Proxy, b upstream.Breaker) { p.registry.SetBreaker(b) }
