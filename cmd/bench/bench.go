package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"
)

// benchmark builds the server unless opts names a binary, then runs the
// wrk cells, the sign-in measurement and the memory check that opts
// selects.
func benchmark(ctx context.Context, opts options, progress io.Writer) (*Report, error) {
	dir, err := os.MkdirTemp("", "launchgate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	load, err := newWrk(dir, opts.wrkThreads)
	if err != nil && len(opts.cells) > 0 {
		return nil, err
	}
	binary := opts.appBinary
	if binary == "" {
		fmt.Fprintln(progress, "bench: building the server")
		if binary, err = buildServer(ctx, dir); err != nil {
			return nil, err
		}
	}

	report := &Report{
		Started:  time.Now().UTC(),
		Duration: opts.duration,
		Runs:     opts.runs,
		Warmup:   opts.warmup,

		ServerEnv: opts.serverEnv,
	}
	wrkVersion := ""
	if load != nil {
		wrkVersion = load.version()
	}
	report.Machine = describeMachine(wrkVersion)

	for _, latency := range latencies(opts.cells) {
		group, err := runGroup(ctx, opts, binary, load, latency, progress)
		if err != nil {
			return nil, fmt.Errorf("cells at %v added latency: %w", latency, err)
		}
		report.Groups = append(report.Groups, group)
	}
	if opts.signInDuration > 0 {
		report.SignIn, err = runSignIns(ctx, opts, binary, progress)
		if err != nil {
			return nil, fmt.Errorf("sign-in measurement: %w", err)
		}
	}
	if opts.rssLaunches > 0 {
		report.Memory, err = runMemoryCheck(ctx, opts, binary, progress)
		if err != nil {
			return nil, fmt.Errorf("memory check: %w", err)
		}
	}
	return report, nil
}

// latencies returns the distinct latencies of cells in their first order.
func latencies(cells []cell) []time.Duration {
	var list []time.Duration
	for _, c := range cells {
		if !slices.Contains(list, c.Latency) {
			list = append(list, c.Latency)
		}
	}
	return list
}

// runGroup measures every cell with the given latency on one server
// process. The runs are interleaved (each cell once, then each cell again)
// so that a burst of noise on the machine spreads over the cells.
func runGroup(
	ctx context.Context, opts options, binary string, load *wrk,
	latency time.Duration, progress io.Writer,
) (group GroupResult, err error) {
	s, err := startStack(ctx, binary, latency, opts.serverEnv)
	if err != nil {
		return GroupResult{}, err
	}
	defer func() { err = errors.Join(err, s.close()) }()

	cookie, err := signInOnce(ctx, s.app.baseURL)
	if err != nil {
		return GroupResult{}, err
	}
	target := s.app.baseURL + "/launch"
	var cells []cell
	for _, c := range opts.cells {
		if c.Latency == latency {
			cells = append(cells, c)
		}
	}
	if opts.warmup > 0 {
		connections := slices.MaxFunc(cells, func(a, b cell) int {
			return a.Connections - b.Connections
		}).Connections
		if _, _, err := load.run(ctx, target, cookie, connections, opts.warmup); err != nil {
			return GroupResult{}, fmt.Errorf("warm-up: %w", err)
		}
	}

	group = GroupResult{Latency: latency}
	if group.RSSBefore, err = processRSS(s.app.pid()); err != nil {
		return GroupResult{}, err
	}
	runs := make([][]RunResult, len(cells))
	for run := range opts.runs {
		for i, c := range cells {
			// A fresh sign-in per run: wrk replays one cookie and ignores
			// the Set-Cookie with which the server refreshes a session's
			// last-seen time each minute, so an older cookie would make
			// every request save the session, which no browser causes.
			cookie, err := signInOnce(ctx, s.app.baseURL)
			if err != nil {
				return GroupResult{}, err
			}
			result, err := measureRun(ctx, s, load, target, cookie, c, opts.duration)
			if err != nil {
				return GroupResult{}, fmt.Errorf("cell %v: %w", c, err)
			}
			fmt.Fprintf(progress, "bench: %v added latency, %d connections, run %d of %d: "+
				"%.0f launches/s, p50 %v, %d not 200%s\n", c.Latency, c.Connections,
				run+1, opts.runs, result.LaunchesPerSecond, result.P50, result.Non200,
				firstStatusNote(result.FirstNon200))
			runs[i] = append(runs[i], result)
		}
	}
	if group.RSSAfter, err = processRSS(s.app.pid()); err != nil {
		return GroupResult{}, err
	}
	for i, c := range cells {
		group.Cells = append(group.Cells, summarize(c, runs[i]))
	}
	return group, nil
}

// measureRun runs wrk once and reads the CPU time of the server, of this
// process (the emulators) and of wrk, and the PureWeb emulator's call counts.
func measureRun(
	ctx context.Context, s *stack, load *wrk, target, cookie string, c cell,
	d time.Duration,
) (RunResult, error) {
	s.settle()
	callsBefore := s.pureWeb.Stats()
	connectionsBefore := s.pureWebConnections.Load()
	serverBefore, err := processCPU(s.app.pid())
	if err != nil {
		return RunResult{}, err
	}
	emulatorsBefore, err := processCPU(os.Getpid())
	if err != nil {
		return RunResult{}, err
	}

	result, wrkCPU, err := load.run(ctx, target, cookie, c.Connections, d)
	if err != nil {
		return RunResult{}, err
	}
	s.settle()
	serverAfter, err := processCPU(s.app.pid())
	if err != nil {
		return RunResult{}, err
	}
	emulatorsAfter, err := processCPU(os.Getpid())
	if err != nil {
		return RunResult{}, err
	}
	calls := s.pureWeb.Stats().Sub(callsBefore)
	connections := s.pureWebConnections.Load() - connectionsBefore

	run := RunResult{
		Launches:     result.Requests,
		P50:          time.Duration(result.P50Micros) * time.Microsecond,
		P99:          time.Duration(result.P99Micros) * time.Microsecond,
		Non200:       result.Non200,
		FirstNon200:  result.FirstNon200,
		SocketErrors: result.socketErrors(),

		NewPureWebConnections: connections,
	}
	if result.DurationMicros > 0 {
		run.LaunchesPerSecond = float64(result.Requests) / (float64(result.DurationMicros) / 1e6)
	}
	if result.Requests > 0 {
		launches := float64(result.Requests)
		run.PureWebCallsPerLaunch = float64(calls.Total()) / launches
		run.AdminTokenCallsPerLaunch = float64(calls.AdminToken) / launches
		perLaunch := func(cpu time.Duration) time.Duration {
			return cpu / time.Duration(result.Requests)
		}
		run.CPUPerLaunch = perLaunch(serverAfter - serverBefore)
		run.EmulatorCPUPerLaunch = perLaunch(emulatorsAfter - emulatorsBefore)
		run.WrkCPUPerLaunch = perLaunch(wrkCPU)
	}
	return run, nil
}

// firstStatusNote describes the first status other than 200, if any.
func firstStatusNote(status int) string {
	if status == 0 {
		return ""
	}
	return fmt.Sprintf(" (the first was %d)", status)
}

// signInOnce signs in with a new browser, checks that the session opens the
// launch page, and returns the browser's Cookie header.
func signInOnce(ctx context.Context, appURL string) (string, error) {
	b := newBrowser(http.DefaultTransport)
	if err := b.signIn(ctx, appURL); err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	if _, err := b.page(ctx, appURL+"/launch"); err != nil {
		return "", fmt.Errorf("first launch after sign-in: %w", err)
	}
	return b.cookieHeader(appURL + "/launch")
}
