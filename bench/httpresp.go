package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// readResponse reads one HTTP/1.1 response from br, discarding its body, and
// returns its status code and whether the server will close the connection
// after it. The Go load generators use it instead of net/http's client so
// that they spend as little of the load core as wrk does per request: no
// header map, no body buffering. It handles the framings the backend and the
// proxies send: Content-Length, chunked, and a body delimited by close.
func readResponse(br *bufio.Reader) (status int, closing bool, err error) {
	line, err := readLine(br)
	if err != nil {
		return 0, false, err
	}
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	code, _, _ := strings.Cut(rest, " ")
	if status, err = strconv.Atoi(code); err != nil || status < 100 || status > 999 {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	closing = proto == "HTTP/1.0"
	length, chunked := int64(-1), false
	for {
		h, err := readLine(br)
		if err != nil {
			return status, true, err
		}
		if h == "" {
			break
		}
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return status, true, fmt.Errorf("malformed header line %q", h)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if length, err = strconv.ParseInt(value, 10, 64); err != nil || length < 0 {
				return status, true, fmt.Errorf("bad Content-Length %q", value)
			}
		case "transfer-encoding":
			chunked = strings.EqualFold(value, "chunked")
		case "connection":
			switch strings.ToLower(value) {
			case "close":
				closing = true
			case "keep-alive":
				closing = false
			}
		}
	}
	switch {
	case status < 200 || status == 204 || status == 304:
		// No body, whatever the headers say.
	case chunked:
		err = discardChunked(br)
	case length >= 0:
		_, err = br.Discard(int(length))
	default:
		_, err = io.Copy(io.Discard, br)
		closing = true
	}
	if err != nil {
		return status, true, fmt.Errorf("reading body: %w", err)
	}
	return status, closing, nil
}

// readLine reads one CRLF- (or LF-) terminated line without its terminator.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && line != "" {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// discardChunked skips a chunked body up to and including its trailers.
func discardChunked(br *bufio.Reader) error {
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for {
				t, err := readLine(br)
				if err != nil {
					return err
				}
				if t == "" {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(size)); err != nil {
			return err
		}
		if l, err := readLine(br); err != nil || l != "" {
			return fmt.Errorf("chunk not followed by CRLF")
		}
	}
}
