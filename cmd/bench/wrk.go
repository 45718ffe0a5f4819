package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkScript counts the responses whose status is not 200 in each wrk thread
// and prints one JSON line of results when the run ends. wrk itself counts
// only statuses of 400 and above as errors, so without it a redirect to the
// sign-in page would pass for a launch.
const wrkScript = `
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  firstNon200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    if firstNon200 == 0 then
      firstNon200 = status
    end
  end
end

function done(summary, latency, requests)
  local non200Total = 0
  local firstStatus = 0
  for _, thread in ipairs(threads) do
    non200Total = non200Total + thread:get("non200")
    if firstStatus == 0 then
      firstStatus = thread:get("firstNon200")
    end
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationMicros":%d,"non200":%d,"firstNon200Status":%d,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeoutErrors":%d,' ..
    '"p50Micros":%d,"p99Micros":%d}\n',
    summary.requests, summary.duration, non200Total, firstStatus, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
end
`

// wrkResult is the JSON line wrkScript prints.
type wrkResult struct {
	Requests       int64 `json:"requests"`
	DurationMicros int64 `json:"durationMicros"`
	Non200         int64 `json:"non200"`
	FirstNon200    int   `json:"firstNon200Status"` // 0 when every status was 200
	ConnectErrors  int64 `json:"connectErrors"`
	ReadErrors     int64 `json:"readErrors"`
	WriteErrors    int64 `json:"writeErrors"`
	TimeoutErrors  int64 `json:"timeoutErrors"`
	P50Micros      int64 `json:"p50Micros"`
	P99Micros      int64 `json:"p99Micros"`
}

// socketErrors returns the requests that failed without a response.
func (r wrkResult) socketErrors() int64 {
	return r.ConnectErrors + r.ReadErrors + r.WriteErrors + r.TimeoutErrors
}

// wrk runs the wrk load generator with the counting script.
type wrk struct {
	path    string
	script  string // path of the Lua script
	threads int
}

// newWrk finds wrk on PATH and writes the script into dir.
func newWrk(dir string, threads int) (*wrk, error) {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return nil, fmt.Errorf("wrk is not installed (on Debian: apt-get install wrk): %w",
			err)
	}
	script := filepath.Join(dir, "count-non200.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return nil, err
	}
	return &wrk{path: path, script: script, threads: threads}, nil
}

// version returns wrk's version line.
func (w *wrk) version() string {
	// wrk -v prints its version and usage, then exits with status 1.
	output, _ := exec.Command(w.path, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(output), "\n")
	return strings.TrimSpace(line)
}

// run loads target for d with the given connections, each sending cookie.
// It returns wrk's results and the CPU time wrk used.
func (w *wrk) run(
	ctx context.Context, target, cookie string, connections int, d time.Duration,
) (wrkResult, time.Duration, error) {
	threads := min(w.threads, connections)
	seconds := strconv.Itoa(int(d / time.Second))
	cmd := exec.CommandContext(ctx, w.path,
		"-t", strconv.Itoa(threads),
		"-c", strconv.Itoa(connections),
		"-d", seconds+"s",
		"--timeout", "10s",
		"-s", w.script,
		"-H", "Cookie: "+cookie,
		target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	output, err := cmd.Output()
	if err != nil {
		return wrkResult{}, 0, fmt.Errorf("wrk: %w\n%s%s", err, output, stderr.Bytes())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	result, err := parseWrkOutput(output)
	return result, cpu, err
}

// parseWrkOutput finds the script's JSON line in wrk's output.
func parseWrkOutput(output []byte) (wrkResult, error) {
	scanner := bufio.NewScanner(bytes.NewReader(output))
	for scanner.Scan() {
		line := bytes.TrimSpace(scanner.Bytes())
		if !bytes.HasPrefix(line, []byte(`{"requests"`)) {
			continue
		}
		var result wrkResult
		if err := json.Unmarshal(line, &result); err != nil {
			return wrkResult{}, fmt.Errorf("wrk result line %q: %w", line, err)
		}
		return result, nil
	}
	return wrkResult{}, errors.New("wrk output has no result line:\n" + string(output))
}
