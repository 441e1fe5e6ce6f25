package loadbench

import (
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// report is what Run prints: the medians of the runs, the ratios the
// performance goals are stated in, and the list figures.
type report struct {
	o            Options
	date         time.Time
	slapdVersion string
	addDiff      string // checkSameAdd's finding; "" when the adds match
	floorAddDiff string // the same for the floor's add
	runs         []runResult
	list         *listResult
}

func (r *report) write(w io.Writer) {
	level := r.o.LogLevel
	if level == "" {
		level = "info, as shipped"
	}
	fmt.Fprintf(w, "scimbench %s: n=%d c=%d, medians of %d run(s); %d CPUs; %s; bridge log level %s\n\n",
		r.date.Format("2006-01-02 15:04"), r.o.N, r.o.C, len(r.runs), runtime.NumCPU(), r.slapdVersion, level)
	bridge, direct, floor := r.medians()
	r.writeMain(w, bridge, direct)
	fmt.Fprintln(w)
	r.writeRatios(w, bridge, direct)
	fmt.Fprintln(w)
	if r.o.Floor {
		r.writeFloor(w, bridge, direct, floor)
		fmt.Fprintln(w)
	}
	peak := bridge[phases[len(phases)-1]].Peak
	fmt.Fprintf(w, "Bridge peak RSS (VmHWM) after the phases: %.1f MB.\n", mb(peak))
	if r.addDiff == "" {
		fmt.Fprintln(w, "The direct add writes the same attributes and values as the bridge's.")
	} else {
		fmt.Fprintf(w, "WARNING: the direct add differs from the bridge's: %s.\n", r.addDiff)
	}
	if r.o.Floor && r.floorAddDiff != "" {
		fmt.Fprintf(w, "WARNING: the direct add differs from the floor's: %s.\n", r.floorAddDiff)
	}
	if r.list != nil {
		fmt.Fprintln(w)
		r.writeList(w)
	}
}

// medians is the median of each figure over the runs, by phase.
func (r *report) medians() (bridge, direct, floor map[string]Figures) {
	bridge, direct, floor = map[string]Figures{}, map[string]Figures{}, map[string]Figures{}
	for _, p := range phases {
		var bs, ds, fs []Figures
		for _, run := range r.runs {
			bs, ds, fs = append(bs, run.bridge[p]), append(ds, run.direct[p]), append(fs, run.floor[p])
		}
		bridge[p], direct[p], floor[p] = medianFigures(bs), medianFigures(ds), medianFigures(fs)
	}
	return bridge, direct, floor
}

func (r *report) writeMain(w io.Writer, bridge, direct map[string]Figures) {
	row(w, "phase", "bridge ops/s", "direct ops/s", "bridge ÷ direct", "bridge CPU µs/req",
		"slapd CPU µs/req via bridge", "slapd CPU µs/op direct", "LDAP ops/req", "p50 ms", "p99 ms", "bridge RSS MB")
	row(w, "---", "---:", "---:", "---:", "---:", "---:", "---:", "---", "---:", "---:", "---:")
	for _, p := range phases {
		b, d := bridge[p], direct[p]
		row(w, p, thousands(b.OpsPerSec), thousands(d.OpsPerSec), ratio(b.OpsPerSec, d.OpsPerSec),
			thousands(b.ServerCPU), thousands(b.SlapdCPU), thousands(d.SlapdCPU), opsText(b.LDAPOps),
			fmt.Sprintf("%.2f", ms(b.P50)), fmt.Sprintf("%.2f", ms(b.P99)), fmt.Sprintf("%.1f", mb(b.RSS)))
	}
}

func (r *report) writeRatios(w io.Writer, bridge, direct map[string]Figures) {
	row(w, "phase", "bridge CPU ÷ slapd direct", "slapd via bridge ÷ slapd direct", "p99 ÷ p50",
		"direct LDAP ops/change", "direct p50 ms", "direct p99 ms", "client CPU µs/req bridge / direct")
	row(w, "---", "---:", "---:", "---:", "---", "---:", "---:", "---:")
	for _, p := range phases {
		b, d := bridge[p], direct[p]
		row(w, p, ratio(b.ServerCPU, d.SlapdCPU), ratio(b.SlapdCPU, d.SlapdCPU), ratio(float64(b.P99), float64(b.P50)),
			opsText(d.LDAPOps), fmt.Sprintf("%.2f", ms(d.P50)), fmt.Sprintf("%.2f", ms(d.P99)),
			thousands(b.ClientCPU)+" / "+thousands(d.ClientCPU))
	}
}

// cpuGoal is issue 13's goal for the bridge's CPU per request in units of
// slapd's CPU for the direct change, by phase; the floor table sets the
// floor's own ratio beside it.
var cpuGoal = map[string]string{"create": "≤ 0.35", "get": "≤ 1.20", "patch": "≤ 0.35", "delete": "≤ 0.35"}

// writeFloor is the floor's table: its own figures, and the two ratios that
// place the bridge between the floor and slapd.
func (r *report) writeFloor(w io.Writer, bridge, direct, floor map[string]Figures) {
	fmt.Fprintln(w, "The floor: the same requests to a minimal server on the same libraries (echo, go-ldap, encoding/json).")
	fmt.Fprintln(w)
	row(w, "phase", "floor ops/s", "floor CPU µs/req", "slapd CPU µs/req via floor", "floor LDAP ops/req", "floor p50 ms",
		"floor p99 ms", "floor RSS MB", "bridge CPU ÷ floor CPU", "floor CPU ÷ slapd direct", "goal: bridge CPU ÷ slapd direct",
		"client CPU µs/req floor")
	row(w, "---", "---:", "---:", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:")
	for _, p := range phases {
		f, b, d := floor[p], bridge[p], direct[p]
		row(w, p, thousands(f.OpsPerSec), thousands(f.ServerCPU), thousands(f.SlapdCPU), opsText(f.LDAPOps),
			fmt.Sprintf("%.2f", ms(f.P50)), fmt.Sprintf("%.2f", ms(f.P99)), fmt.Sprintf("%.1f", mb(f.RSS)),
			ratio(b.ServerCPU, f.ServerCPU), ratio(f.ServerCPU, d.SlapdCPU), cpuGoal[p], thousands(f.ClientCPU))
	}
}

func (r *report) writeList(w io.Writer) {
	l := r.list
	how := "with slapadd -q (slapd stopped, loaded, started again)"
	if l.online {
		how = fmt.Sprintf("with LDAP adds on %d connections", r.o.C)
	}
	fmt.Fprintf(w, "%s users loaded %s in %.1f s. Each request measured %d times, after one unmeasured request.\n\n",
		thousands(float64(l.loaded)), how, l.loadTime.Seconds(), r.o.ListReps)
	row(w, "request", "p50 ms", "max ms", "bridge CPU ms/req", "slapd CPU ms/req", "LDAP ops/req", "bridge peak RSS MB")
	row(w, "---", "---:", "---:", "---:", "---:", "---", "---:")
	for _, x := range l.rows {
		row(w, "`"+x.path+"`", thousands(ms(x.P50)), thousands(ms(x.P99)), fmt.Sprintf("%.1f", x.ServerCPU/1000),
			fmt.Sprintf("%.1f", x.SlapdCPU/1000), opsText(x.LDAPOps), fmt.Sprintf("%.1f", mb(x.Peak)))
	}
}

func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
}

// opsText is e.g. "3.00 (search 2.00, add 1.00)".
func opsText(ops map[string]float64) string {
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, ops[k]))
	}
	return fmt.Sprintf("%.2f (%s)", sum(ops), strings.Join(parts, ", "))
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// thousands rounds x to an integer and groups its digits: 12,345.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

var slapdVersionRE = regexp.MustCompile(`slapd [0-9][^ ]*`)

// slapdVersion is e.g. "slapd 2.5.13+dfsg-5", from `slapd -VV`.
func slapdVersion() string {
	bin, err := slapd.Binary()
	if err != nil {
		return "slapd (not found)"
	}
	out, _ := exec.Command(bin, "-VV").CombinedOutput()
	if v := slapdVersionRE.Find(out); v != nil {
		return string(v)
	}
	return "slapd (version unknown)"
}
