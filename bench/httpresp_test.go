package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		status  int
		closing bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, false},
		{"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, false},
		{"connection close", "HTTP/1.1 200 OK\r\nconnection: Close\r\nContent-Length: 2\r\n\r\nok", 200, true},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n", 200, false},
		{"no body on 204", "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 204, false},
		{"404", "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnot", 404, false},
		{"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 200, true},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", 200, false},
		{"until close", "HTTP/1.1 200 OK\r\n\r\nall of it", 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A second response follows: reading the first must stop exactly
			// at its end, or keep-alive would read garbage.
			next := "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
			in := tt.in
			if !tt.closing {
				in += next
			}
			br := bufio.NewReader(strings.NewReader(in))
			status, closing, err := readResponse(br)
			if err != nil || status != tt.status || closing != tt.closing {
				t.Fatalf("readResponse = %d, %v, %v; want %d, %v", status, closing, err, tt.status, tt.closing)
			}
			if !tt.closing {
				if status, _, err := readResponse(br); err != nil || status != 201 {
					t.Errorf("next response: %d, %v", status, err)
				}
			}
		})
	}
}

func TestReadResponseRejectsGarbage(t *testing.T) {
	for _, in := range []string{
		"", "SSH-2.0-OpenSSH\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
	} {
		if _, _, err := readResponse(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("readResponse(%q) succeeded", in)
		}
	}
}
