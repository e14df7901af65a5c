package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// ioTimeout bounds every read and write of the Go load generators, so that a
// stalled proxy turns into counted errors rather than a hung benchmark.
const ioTimeout = 5 * time.Second

// openSchedule is the send plan of one connection in an open-loop run: the
// k-th request is due at start + offset + k·interval, for as long as that is
// before end.
type openSchedule struct {
	start    time.Time
	offset   time.Duration
	interval time.Duration
	end      time.Time
}

// due returns when request k is to be sent and whether it is still in the run.
func (s openSchedule) due(k int) (time.Time, bool) {
	t := s.start.Add(s.offset + time.Duration(k)*s.interval)
	return t, t.Before(s.end)
}

// openSchedules splits rate requests per second evenly over conns
// connections, staggering their start so that the sends of all connections
// together are evenly spaced too.
func openSchedules(start time.Time, d time.Duration, rate float64, conns int) []openSchedule {
	interval := time.Duration(float64(time.Second) * float64(conns) / rate)
	out := make([]openSchedule, conns)
	for i := range out {
		out[i] = openSchedule{
			start: start, interval: interval, end: start.Add(d),
			offset: interval * time.Duration(i) / time.Duration(conns),
		}
	}
	return out
}

// connResult is what one connection of a Go load generator saw.
type connResult struct {
	latencies    []time.Duration
	socketErrors uint64
	non2xx       uint64
}

// runOpenLoop sends HTTP/1.1 keep-alive GETs at a fixed total rate, whatever
// the answers' speed. Each latency is measured from when its request was due,
// not from when it could actually be sent: a request held back because the
// previous answer on its connection came late is charged that delay too. This
// is what keeps the figures free of coordinated omission, the flaw that lets a
// closed-loop tool like wrk pause its own clock exactly when the server
// stalls. A connection the server closes (nginx after 1000 requests) is
// reopened and the dial counted in the latency of the request that needed it.
func runOpenLoop(ctx context.Context, c loadgenConfig) (loadResult, error) {
	req := []byte(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", c.path, c.host))
	// Start a little later so that the goroutines are all waiting when the
	// first requests fall due.
	start := time.Now().Add(20 * time.Millisecond)
	scheds := openSchedules(start, c.duration, c.rate, c.connections)
	results := make([]connResult, len(scheds))
	var wg sync.WaitGroup
	for i, s := range scheds {
		wg.Go(func() { results[i] = openConn(ctx, c.addr, req, s) })
	}
	wg.Wait()
	return collectResults(results, time.Since(start)), nil
}

// openConn runs one connection's schedule.
func openConn(ctx context.Context, addr string, req []byte, s openSchedule) connResult {
	var r connResult
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	timer := time.NewTimer(0)
	<-timer.C
	for k := 0; ; k++ {
		due, ok := s.due(k)
		if !ok || ctx.Err() != nil {
			return r
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			<-timer.C
		}
		if conn == nil {
			var err error
			if conn, err = net.DialTimeout("tcp", addr, ioTimeout); err != nil {
				r.socketErrors++
				conn = nil
				continue
			}
			br = bufio.NewReaderSize(conn, 64<<10)
		}
		conn.SetDeadline(time.Now().Add(ioTimeout))
		status, closing, err := roundTrip(conn, br, req)
		if err != nil {
			r.socketErrors++
			conn.Close()
			conn = nil
			continue
		}
		r.latencies = append(r.latencies, time.Since(due))
		if status < 200 || status >= 400 {
			r.non2xx++
		}
		if closing {
			conn.Close()
			conn = nil
		}
	}
}

// roundTrip writes one request and reads its response.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (status int, closing bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return 0, true, err
	}
	return readResponse(br)
}
