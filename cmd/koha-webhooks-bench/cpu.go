package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/stat and /proc/<pid>/stat.
// NOTE: it is 100 on every mainstream Linux build; Go has no portable
// sysconf(_SC_CLK_TCK) to confirm it.
const clockTicks = 100

// cpuSample is a reading of the CPU time counters the report splits.
type cpuSample struct {
	at          time.Time
	machineBusy float64 // seconds, all CPUs, everything but idle and iowait
	machineIdle float64 // seconds, idle and iowait
	iowait      float64
	mariadb     float64 // seconds used by the MariaDB server process, when found
	self        float64 // seconds used by this process (receiver, proxy, floors)
}

// cpuSampler reads the counters of this machine, the MariaDB server and
// this process.
type cpuSampler struct {
	mariadbPID int // 0 when the server's process was not found
}

// newCPUSampler finds the MariaDB server's process through @@pid_file. On a
// server elsewhere or an unreadable pid file, MariaDB's time counts as other.
func newCPUSampler(ctx context.Context, db *sql.DB) *cpuSampler {
	s := &cpuSampler{}
	var pidFile string
	if err := db.QueryRowContext(ctx, "SELECT @@pid_file").Scan(&pidFile); err != nil {
		return s
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return s
	}
	s.mariadbPID, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	return s
}

func (s *cpuSampler) sample() cpuSample {
	c := cpuSample{at: time.Now()}
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		fields := strings.Fields(line)
		for i, f := range fields[1:] {
			v, _ := strconv.ParseFloat(f, 64)
			v /= clockTicks
			switch i {
			case 3: // idle
				c.machineIdle += v
			case 4: // iowait
				c.machineIdle += v
				c.iowait = v
			case 8, 9: // guest time is already part of user time
			default:
				c.machineBusy += v
			}
		}
	}
	if s.mariadbPID > 0 {
		c.mariadb = processCPU(s.mariadbPID)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return c
}

// processCPU returns utime+stime of a process in seconds, 0 when unreadable.
func processCPU(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces, so fields are counted from the
	// last ')'.
	text := string(data)
	fields := strings.Fields(text[strings.LastIndexByte(text, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / clockTicks
}

// cpuUse is the split of the machine's CPU time over a window.
type cpuUse struct {
	wall                           time.Duration
	capacity                       float64 // CPU seconds available: wall × CPUs
	busy, iowait                   float64
	program, mariadb, bench, other float64
}

// between splits the CPU time from a to b. program is the child's CPU
// time from its rusage.
func between(a, b cpuSample, program float64) cpuUse {
	u := cpuUse{wall: b.at.Sub(a.at), busy: b.machineBusy - a.machineBusy, iowait: b.iowait - a.iowait,
		program: program, mariadb: b.mariadb - a.mariadb, bench: b.self - a.self}
	u.capacity = u.busy + (b.machineIdle - a.machineIdle)
	u.other = max(u.busy-u.program-u.mariadb-u.bench, 0)
	return u
}

func (u cpuUse) String() string {
	return fmt.Sprintf("%.1f of %.1f CPU-s busy: koha-webhooks %.1f, MariaDB %.1f, the benchmark process (receiver, proxy, floor clients) %.1f, other processes %.1f; iowait %.1f",
		u.busy, u.capacity, u.program, u.mariadb, u.bench, u.other, u.iowait)
}

// busyElsewhere returns a warning when other processes used more than a
// tenth of the CPU capacity, and "" otherwise. MariaDB's time for other
// clients counts as MariaDB, so the check can miss their load.
func (u cpuUse) busyElsewhere() string {
	if u.capacity <= 0 || u.other <= u.capacity/10 {
		return ""
	}
	return fmt.Sprintf("other processes used %.0f%% of the CPUs during this measurement: repeat the run on an idle machine", 100*u.other/u.capacity)
}

// waitForIdle waits, up to limit, for a second in which less than a tenth
// of the CPU capacity was busy, and returns the busy share of the last
// second it watched.
func (s *cpuSampler) waitForIdle(ctx context.Context, limit time.Duration) float64 {
	deadline := time.Now().Add(limit)
	prev := s.sample()
	for {
		select {
		case <-ctx.Done():
			return -1
		case <-time.After(time.Second):
		}
		cur := s.sample()
		u := between(prev, cur, 0)
		share := u.busy / max(u.capacity, 1e-9)
		if share < 0.10 || time.Now().After(deadline) {
			return share
		}
		prev = cur
	}
}
