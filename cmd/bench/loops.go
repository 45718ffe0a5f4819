package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// runSignIns measures whole sign-ins on a server of its own: the given
// number of workers each sign in with a new browser, again and again, for
// opts.signInDuration.
func runSignIns(
	ctx context.Context, opts options, binary string, progress io.Writer,
) (result *SignInResult, err error) {
	s, err := startStack(ctx, binary, 0, opts.serverEnv)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, s.close()) }()

	transport := newLoadTransport(2 * opts.signInWorkers)
	defer transport.CloseIdleConnections()
	var browserConnections atomic.Int64
	dial := transport.DialContext
	transport.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		if address == s.auth0Address {
			browserConnections.Add(1)
		}
		return dial(ctx, network, address)
	}
	cpuBefore, err := processCPU(s.app.pid())
	if err != nil {
		return nil, err
	}
	connectionsBefore := s.auth0Connections.Load()

	var (
		mu        sync.Mutex
		durations []time.Duration
		failures  int64
		firstErr  error
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(opts.signInDuration)
	for range opts.signInWorkers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				began := time.Now()
				err := newBrowser(transport).signIn(ctx, s.app.baseURL)
				took := time.Since(began)

				mu.Lock()
				if err != nil {
					failures++
					firstErr = cmpOr(firstErr, err)
				} else {
					durations = append(durations, took)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuAfter, err := processCPU(s.app.pid())
	if err != nil {
		return nil, err
	}

	result = &SignInResult{
		Workers:   opts.signInWorkers,
		Duration:  elapsed,
		SignIns:   int64(len(durations)),
		Failures:  failures,
		PerSecond: float64(len(durations)) / elapsed.Seconds(),
		P50:       percentile(durations, 50),
		P99:       percentile(durations, 99),
	}
	if firstErr != nil {
		result.FirstError = firstErr.Error()
	}
	if total := result.SignIns + failures; total > 0 {
		result.CPUPerSignIn = (cpuAfter - cpuBefore) / time.Duration(total)
		accepted := s.auth0Connections.Load() - connectionsBefore
		serverConnections := accepted - browserConnections.Load()
		result.ServerAuth0ConnectionsPerSignIn = float64(serverConnections) / float64(total)
	}
	fmt.Fprintf(progress, "bench: %d sign-in workers: %.0f sign-ins/s, p50 %v, %d failed\n",
		result.Workers, result.PerSecond, result.P50, result.Failures)
	return result, nil
}

// runMemoryCheck reads the server's resident memory after opts.rssWarmup
// launches and again after opts.rssLaunches more, on a server of its own
// with no added PureWeb latency.
func runMemoryCheck(
	ctx context.Context, opts options, binary string, progress io.Writer,
) (result *MemoryResult, err error) {
	s, err := startStack(ctx, binary, 0, opts.serverEnv)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, s.close()) }()

	cookie, err := signInOnce(ctx, s.app.baseURL)
	if err != nil {
		return nil, err
	}
	transport := newLoadTransport(opts.rssWorkers)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	target := s.app.baseURL + "/launch"

	result = &MemoryResult{
		Warmup:   opts.rssWarmup,
		Launches: opts.rssLaunches,
		Workers:  opts.rssWorkers,
	}
	warmup, err := launchLoop(ctx, client, target, cookie, opts.rssWarmup, opts.rssWorkers)
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if result.Before, err = processRSS(s.app.pid()); err != nil {
		return nil, err
	}
	measured, err := launchLoop(ctx, client, target, cookie, opts.rssLaunches, opts.rssWorkers)
	if err != nil {
		return nil, err
	}
	if result.After, err = processRSS(s.app.pid()); err != nil {
		return nil, err
	}
	result.Non200 = warmup.non200 + measured.non200
	result.Failed = warmup.failed + measured.failed

	fmt.Fprintf(progress, "bench: RSS %.1f MiB after %d launches, %.1f MiB after %d more\n",
		mebibytes(result.Before), result.Warmup, mebibytes(result.After), result.Launches)
	return result, nil
}

// loopCounts are the outcomes of a launchLoop.
type loopCounts struct {
	non200 int64 // responses other than 200
	failed int64 // requests without a response
}

// launchLoop sends n GET requests for target with cookie from the given
// number of workers and counts the failures.
func launchLoop(
	ctx context.Context, client *http.Client, target, cookie string, n, workers int,
) (loopCounts, error) {
	var (
		remaining      atomic.Int64
		non200, failed atomic.Int64
		wg             sync.WaitGroup
	)
	remaining.Store(int64(n))
	for range workers {
		wg.Go(func() {
			for remaining.Add(-1) >= 0 && ctx.Err() == nil {
				status, err := get(ctx, client, target, cookie)
				switch {
				case err != nil:
					failed.Add(1)
				case status != http.StatusOK:
					non200.Add(1)
				}
			}
		})
	}
	wg.Wait()
	counts := loopCounts{non200: non200.Load(), failed: failed.Load()}
	return counts, context.Cause(ctx)
}

// get sends one GET with the cookie and reads the whole response.
func get(ctx context.Context, client *http.Client, target, cookie string) (int, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	request.Header.Set("Cookie", cookie)
	response, err := client.Do(request)
	if err != nil {
		return 0, err
	}
	defer response.Body.Close()
	_, err = io.Copy(io.Discard, io.LimitReader(response.Body, maxPageBytes))
	return response.StatusCode, err
}

// newLoadTransport returns a transport that keeps enough idle connections
// for the given number of concurrent requests to each host.
func newLoadTransport(connections int) *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 2 * connections
	transport.MaxIdleConnsPerHost = connections
	return transport
}

// percentile returns the p-th percentile of durations by the nearest-rank
// method, or 0 for an empty list. It sorts durations.
func percentile(durations []time.Duration, p int) time.Duration {
	if len(durations) == 0 {
		return 0
	}
	slices.Sort(durations)
	rank := (p*len(durations) + 99) / 100
	return durations[max(rank, 1)-1]
}

// cmpOr returns first unless it is nil, and then second.
func cmpOr(first, second error) error {
	if first != nil {
		return first
	}
	return second
}

func mebibytes(bytes int64) float64 {
	return float64(bytes) / (1 << 20)
}
