package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat. Linux reports them
// in USER_HZ, which is 100 on every architecture Go supports.
const userHZ = 100

// processCPU returns the user plus system CPU time the process has used,
// read from /proc/PID/stat, at a resolution of 10 ms.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// The command name in field 2 may contain spaces and parentheses, so
	// the fields are counted from the last ')'. utime and stime are
	// fields 14 and 15 of proc(5).
	const firstField = 3
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, fmt.Errorf("read CPU time: /proc/%d/stat is malformed", pid)
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 15-firstField+1 {
		return 0, fmt.Errorf("read CPU time: /proc/%d/stat is malformed", pid)
	}
	var ticks int64
	for _, index := range []int{14 - firstField, 15 - firstField} {
		n, err := strconv.ParseInt(fields[index], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read CPU time: /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// processRSS returns the resident set size of the process, in bytes, from
// the VmRSS line of /proc/PID/status.
func processRSS(pid int) (int64, error) {
	kilobytes, err := procKilobytes(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	return kilobytes * 1024, nil
}

// procKilobytes returns the value of the "NAME: N kB" line of a /proc file.
func procKilobytes(path, name string) (int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()

	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		value, found := strings.CutPrefix(scanner.Text(), name)
		if !found {
			continue
		}
		number := strings.TrimSuffix(strings.TrimSpace(value), " kB")
		return strconv.ParseInt(strings.TrimSpace(number), 10, 64)
	}
	if err := scanner.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s has no %s line", path, name)
}

// Machine describes the computer a report was measured on.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryMiB int64  `json:"memoryMiB"`
	GoVersion string `json:"goVersion"`
	Kernel    string `json:"kernel"`
	Wrk       string `json:"wrk"`
}

func describeMachine(wrkVersion string) Machine {
	m := Machine{
		CPUs:      runtime.NumCPU(),
		CPUModel:  cpuModel(),
		GoVersion: runtime.Version(),
		Wrk:       wrkVersion,
	}
	if kilobytes, err := procKilobytes("/proc/meminfo", "MemTotal:"); err == nil {
		m.MemoryMiB = kilobytes / 1024
	}
	if release, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(release))
	}
	return m
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		key, value, found := strings.Cut(line, ":")
		if found && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}
