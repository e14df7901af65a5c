package proxy

// HandOffAll makes p's HTTP/1 engine hand every route over to the net/http
// handler, so that tests can run through the hand-over path.
func HandOffAll(p *Proxy) { p.handoffAll = true }
