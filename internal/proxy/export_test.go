package proxy

// HandOffAll makes p's HTTP/1 engine hand every route over to the net/http
// handler, so that tests can run through the hand-over path. The current
// model is compiled again with it.
func HandOffAll(p *Proxy) {
	p.applyMu.Lock()
	p.handoffAll = true
	p.applyMu.Unlock()
	p.Apply(p.Model())
}
