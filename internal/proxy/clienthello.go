package proxy

import "errors"

// errNotTLS means the first bytes are not a TLS handshake; the connection is
// left to the TLS server, which answers it as it would any bad client.
var errNotTLS = errors.New("not a TLS ClientHello")

// maxHelloBytes bounds what is read while looking for the server name: a
// ClientHello with many extensions (post-quantum key shares) is a few KiB.
const maxHelloBytes = 16 << 10

// clientHelloSNI returns the server name of the TLS ClientHello at the
// start of b. need > 0 means b holds too little yet: at least need bytes
// in all are required. It reads only the fields it must skip to reach the
// server_name extension, and never trusts a length beyond what b holds.
func clientHelloSNI(b []byte) (sni string, need int, err error) {
	// Records: type(1)=22 handshake, version(2), length(2). A ClientHello
	// may span several records; gather the handshake bytes first.
	var hs []byte
	off := 0
	for {
		if len(b) < off+5 {
			return "", off + 5, nil
		}
		if b[off] != 22 || b[off+1] != 3 {
			return "", 0, errNotTLS
		}
		n := int(b[off+3])<<8 | int(b[off+4])
		if n == 0 || n > 1<<14 {
			return "", 0, errNotTLS
		}
		if len(b) < off+5+n {
			return "", off + 5 + n, nil
		}
		hs = append(hs, b[off+5:off+5+n]...)
		off += 5 + n
		if len(hs) >= 4 {
			if hs[0] != 1 { // client_hello
				return "", 0, errNotTLS
			}
			total := 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
			if total > maxHelloBytes {
				return "", 0, errNotTLS
			}
			if len(hs) >= total {
				hs = hs[4:total]
				break
			}
		}
		if off >= maxHelloBytes {
			return "", 0, errNotTLS
		}
	}
	r := reader(hs)
	// client_version(2), random(32), session_id<1>, cipher_suites<2>,
	// compression_methods<1>, extensions<2>.
	if !r.skip(34) || !r.skipVec(1) || !r.skipVec(2) || !r.skipVec(1) {
		return "", 0, errNotTLS
	}
	if len(r) == 0 {
		return "", 0, nil // no extensions: no server name
	}
	exts, ok := r.vec(2)
	if !ok {
		return "", 0, errNotTLS
	}
	for len(exts) > 0 {
		typ, ok1 := exts.u16()
		data, ok2 := exts.vec(2)
		if !ok1 || !ok2 {
			return "", 0, errNotTLS
		}
		if typ != 0 { // server_name
			continue
		}
		list, ok := data.vec(2)
		if !ok {
			return "", 0, errNotTLS
		}
		for len(list) > 0 {
			kind, ok1 := list.u8()
			name, ok2 := list.vec(2)
			if !ok1 || !ok2 {
				return "", 0, errNotTLS
			}
			if kind == 0 { // host_name
				return string(name), 0, nil
			}
		}
		return "", 0, nil
	}
	return "", 0, nil
}

// reader consumes a byte string from the front.
type reader []byte

func (r *reader) skip(n int) bool {
	if len(*r) < n {
		return false
	}
	*r = (*r)[n:]
	return true
}

func (r *reader) u8() (int, bool) {
	if len(*r) < 1 {
		return 0, false
	}
	v := int((*r)[0])
	*r = (*r)[1:]
	return v, true
}

func (r *reader) u16() (int, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := int((*r)[0])<<8 | int((*r)[1])
	*r = (*r)[2:]
	return v, true
}

// vec reads a vector with a lenBytes-byte length prefix.
func (r *reader) vec(lenBytes int) (reader, bool) {
	var n int
	var ok bool
	if lenBytes == 1 {
		n, ok = r.u8()
	} else {
		n, ok = r.u16()
	}
	if !ok || len(*r) < n {
		return nil, false
	}
	v := (*r)[:n]
	*r = (*r)[n:]
	return v, true
}

func (r *reader) skipVec(lenBytes int) bool {
	_, ok := r.vec(lenBytes)
	return ok
}
