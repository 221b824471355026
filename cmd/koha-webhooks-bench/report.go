package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// machineInfo describes where the benchmark ran.
type machineInfo struct {
	cpus     int
	cpuModel string
	memory   string
	mariadb  string
	goTool   string
}

func readMachineInfo(ctx context.Context, db *sql.DB) machineInfo {
	m := machineInfo{cpus: runtime.NumCPU(), cpuModel: "unknown", memory: "unknown", mariadb: serverVersion(ctx, db), goTool: runtime.Version()}
	if v := firstField("/proc/cpuinfo", "model name"); v != "" {
		m.cpuModel = v
	}
	if v := firstField("/proc/meminfo", "MemTotal"); v != "" {
		m.memory = v
	}
	return m
}

// firstField returns the value of the first "name: value" line of a /proc
// file, or "".
func firstField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == name {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// print writes the report.
func (r *results) print(w io.Writer) {
	o, p := r.opts, r.plan
	counts := o.mix.counts(o.notices)
	fmt.Fprintf(w, "\nkoha-webhooks benchmark\n=======================\n")
	fmt.Fprintf(w, "machine      %d CPUs (%s), %s RAM, MariaDB %s, %s\n", r.machine.cpus, r.machine.cpuModel, r.machine.memory, r.machine.mariadb, r.machine.goTool)
	fmt.Fprintf(w, "program      koha-webhooks %s\n", r.program)
	fmt.Fprintf(w, "notices      %d pending: hold %d, checkout %d, digest %d (%d-%d checkouts each), checkin %d, cancel %d\n",
		o.notices, counts[shapeHold], counts[shapeCheckout], counts[shapeDigest], o.digestMin, o.digestMax, counts[shapeCheckin], counts[shapeCancel])
	fmt.Fprintf(w, "library      %d patrons, %d biblios, %d items, %d loans, %d returned loans, %d holds, %d cancelled holds; %d sent history rows\n",
		p.patrons, p.biblios, p.items, p.loans, p.returned, p.holds, p.cancels, p.history)
	fmt.Fprintf(w, "settings     format %s, batch %d, concurrency %d; data generated in %s\n", o.format, o.batch, o.concurrency, r.generateTime.Round(time.Millisecond))
	fmt.Fprintf(w, "load         %.0f%% of the CPUs were busy in the last second before the pass (the benchmark waits up to -wait-idle for under 10%%)\n", 100*r.busyBefore)
	r.printPass(w)
	r.printFloor(w)
}

func (r *results) printPass(w io.Writer) {
	o, pass := r.opts, r.pass
	batches := (o.notices + o.batch - 1) / o.batch
	fmt.Fprintf(w, "\nkoha-webhooks run (one pass, child process)\n")
	if pass.profiled {
		fmt.Fprintf(w, "  profiled     under perf record: wall time and peak RSS include perf's overhead\n")
	}
	fmt.Fprintf(w, "  wall time    %s (process start to exit), CPU %s user + %s system\n", pass.wall.Round(time.Millisecond), pass.userCPU.Round(time.Millisecond), pass.sysCPU.Round(time.Millisecond))
	fmt.Fprintf(w, "  throughput   %.0f notices/s end to end\n", perSecond(o.notices, pass.wall))
	fmt.Fprintf(w, "  peak RSS     %.1f MiB (ru_maxrss of the child)\n", float64(pass.maxRSS)/1024)
	fmt.Fprintf(w, "  bytes sent   %.1f MiB of request bodies, %.0f bytes per notice on average\n", mib(r.bytesSent), float64(r.bytesSent)/float64(o.notices))
	fmt.Fprintf(w, "  time to response  p50 %s, p99 %s: from process start until the notice's POST got its response (first_attempt_at)\n",
		ms(percentile(r.toResponse, 50)), ms(percentile(r.toResponse, 99)))
	fmt.Fprintf(w, "  time to recorded  p50 %s, p99 %s: from process start until the notice's outcome was written (delivered_at)\n",
		ms(percentile(r.toRecorded, 50)), ms(percentile(r.toRecorded, 99)))
	tl := r.passTimeline
	fmt.Fprintf(w, "  timeline     %s to the first POST response (start-up, the scan past the history, the first batch's claim, load and build),\n"+
		"               %s between a batch's first and last POST response, summed over batches,\n"+
		"               %s from a batch's outcomes being written to the next batch's first response, summed: no POST in flight,\n"+
		"               %s from the last outcome to exit\n",
		tl.firstResponse.Round(time.Millisecond), tl.delivering.Round(time.Millisecond), tl.between.Round(time.Millisecond), tl.afterLast.Round(time.Millisecond))
	fmt.Fprintf(w, "  per-POST latency  not observable from outside the program; see the POST floor below for bare POSTs\n")
	fmt.Fprintf(w, "  CPU          %s\n", r.passCPU)
	printWarning(w, "  ", r.passCPU.busyElsewhere())
	r.printStatements(w, batches)
	fmt.Fprintf(w, "  log          %s\n", strings.TrimSpace(pass.summary))
	fmt.Fprintf(w, "  warnings     %d WARN or ERROR lines in the pass's log\n", r.logWarnings)
	printCheck(w, "  correctness  ", r.passProblems, fmt.Sprintf("all %d notices sent, each POSTed once (receiver accepted %d), history untouched", o.notices, r.accepted))
}

// printStatements writes the pass's statement counts: exact from the proxy
// when it ran, and the server-wide counters, which include other clients.
func (r *results) printStatements(w io.Writer, batches int) {
	n := r.opts.notices
	if r.proxied != nil {
		total := statementTotal(r.proxied)
		fmt.Fprintf(w, "  SQL          %d statements for %d batches (%.1f per batch, %.3f per notice), counted by the proxy: %s\n",
			total, batches, float64(total)/float64(batches), float64(total)/float64(n), formatCounts(r.proxied))
	}
	st := r.statements
	if st["Com_delete"] > 0 {
		fmt.Fprintf(w, "  WARNING      another client ran %d DELETEs during the pass, which runs none: the server-wide counts below include its statements\n", st["Com_delete"])
	}
	total := globalTotal(st)
	label := "  SQL          "
	if r.proxied != nil {
		label = "  server-wide  "
	}
	fmt.Fprintf(w, "%s%d statements (SELECT %d, INSERT %d, UPDATE %d, DELETE %d, INSERT…SELECT %d; COMMIT %d) in SHOW GLOBAL STATUS,\n"+
		"               which counts every client of the server: %.1f per batch if koha-webhooks was the only one\n",
		label, total, st["Com_select"], st["Com_insert"], st["Com_update"], st["Com_delete"], st["Com_insert_select"], st["Com_commit"],
		float64(total)/float64(batches))
}

// globalTotal sums the server-wide counters of statements that read or
// write rows.
func globalTotal(st map[string]int64) int64 {
	return st["Com_select"] + st["Com_insert"] + st["Com_update"] + st["Com_delete"] + st["Com_insert_select"]
}

func printWarning(w io.Writer, indent, warning string) {
	if warning != "" {
		fmt.Fprintf(w, "%sWARNING: %s\n", indent, warning)
	}
}

func printCheck(w io.Writer, label string, problems []string, ok string) {
	if len(problems) == 0 {
		fmt.Fprintf(w, "%sOK: %s\n", label, ok)
		return
	}
	for _, p := range problems {
		fmt.Fprintf(w, "%sFAILED: %s\n", label, p)
	}
}

func (r *results) printFloor(w io.Writer) {
	o, s, p := r.opts, r.sql, r.post
	n := float64(o.notices)
	sqlPer := s.total.Seconds() / n
	postPer := p.total.Seconds() / n
	serial := 1 / (sqlPer + postPer)
	overlapped := 1 / max(sqlPer, postPer)
	achieved := perSecond(o.notices, r.pass.wall)

	fmt.Fprintf(w, "\nfloor (same data, same machine, after the pass)\n")
	fmt.Fprintf(w, "  SQL alone    %s for %d batches (%.0f notices/s): scan %s, claim %s, load %s, record %s\n",
		s.total.Round(time.Millisecond), s.batches, n/s.total.Seconds(), s.scan.Round(time.Millisecond), s.claim.Round(time.Millisecond),
		s.load.Round(time.Millisecond), s.record.Round(time.Millisecond))
	fmt.Fprintf(w, "               the pass's statements through its own queue and records packages, one goroutine, no parsing, payloads or HTTP\n")
	fmt.Fprintf(w, "               load by table: %s\n", formatDurations(s.loadByTable))
	fmt.Fprintf(w, "               (authorised_values, the last statement, also covers assembling the bundles)\n")
	fmt.Fprintf(w, "               CPU %s\n", r.sqlCPU)
	printWarning(w, "               ", r.sqlCPU.busyElsewhere())
	if s.proxied {
		fmt.Fprintf(w, "               %d statements, %.1f per batch, counted by the proxy: %s\n", statementTotal(s.statements), float64(statementTotal(s.statements))/float64(max(s.batches, 1)), formatCounts(s.statements))
	} else {
		fmt.Fprintf(w, "               %d statements server-wide, %.1f per batch if it was the only client\n", globalTotal(s.statements), float64(globalTotal(s.statements))/float64(max(s.batches, 1)))
	}
	printCheck(w, "               ", r.sqlProblems, "every notice claimed, loaded in full and recorded sent")
	fmt.Fprintf(w, "  POST alone   %s for %d POSTs of the archived payloads, %.1f MiB (%.0f notices/s) at concurrency %d\n",
		p.total.Round(time.Millisecond), p.posts, mib(p.bytes), float64(p.posts)/p.total.Seconds(), o.concurrency)
	fmt.Fprintf(w, "               per-POST latency p50 %s, p99 %s (client side, request written to response read)\n",
		ms(percentile(p.latencies, 50)), ms(percentile(p.latencies, 99)))
	fmt.Fprintf(w, "               CPU of both POST floors, archive reading included: %s\n", r.postCPU)
	printWarning(w, "               ", r.postCPU.busyElsewhere())
	d := r.postDiscard
	fmt.Fprintf(w, "  POST, bare   %s to a receiver that only reads the body (%.0f notices/s), p50 %s, p99 %s: the test receiver's own\n"+
		"               work (token check, JSON parse for message_id) is the difference; it shares the CPUs with the pass\n",
		d.total.Round(time.Millisecond), float64(d.posts)/d.total.Seconds(), ms(percentile(d.latencies, 50)), ms(percentile(d.latencies, 99)))
	fmt.Fprintf(w, "  floor        %.0f notices/s = 1 / (SQL time + POST time per notice)\n", serial)
	fmt.Fprintf(w, "               The SQL and the POSTs need the same CPUs, so the floor adds their times. A pass that overlapped them\n"+
		"               perfectly on enough CPUs could reach the overlapped bound, 1 / max(SQL, POST time) = %.0f notices/s.\n", overlapped)
	fmt.Fprintf(w, "  koha-webhooks reaches %.0f%% of the floor (%.0f of %.0f notices/s) and %.0f%% of the overlapped bound\n",
		100*achieved/serial, achieved, serial, 100*achieved/overlapped)
}

// formatDurations lists durations as "items 1.2s, biblio 0.8s, …", largest
// first.
func formatDurations(m map[string]time.Duration) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + m[k].Round(time.Millisecond).String()
	}
	return strings.Join(parts, ", ")
}
