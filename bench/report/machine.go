package report

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine is what the figures were measured on.
type Machine struct {
	CPU       string
	Cores     int
	MemoryGiB float64
	Go        string // e.g. go1.26.8 linux/amd64
	Commit    string // short sha, "+ uncommitted changes" when dirty
	Date      time.Time
	LoadStart string // 1-minute load average when the runs started
	LoadEnd   string
}

// Probe reads the machine facts; a fact it cannot read says "unknown".
func Probe(ctx context.Context, root string) Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Go: "unknown", Commit: "unknown", Date: time.Now().UTC(), LoadStart: LoadAvg()}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64); err == nil {
			m.MemoryGiB = kb / (1 << 20)
		}
	}
	if v, err := output(ctx, root, "go", "env", "GOVERSION", "GOOS", "GOARCH"); err == nil {
		f := strings.Fields(v)
		if len(f) == 3 {
			m.Go = f[0] + " " + f[1] + "/" + f[2]
		}
	}
	if v, err := output(ctx, root, "git", "rev-parse", "--short=12", "HEAD"); err == nil {
		m.Commit = v
		if st, err := output(ctx, root, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
			m.Commit += " + uncommitted changes"
		}
	}
	return m
}

// LoadAvg is the 1-minute load average, the best available hint of how many
// other people were using the shared machine.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func (m Machine) String() string {
	mem := "unknown"
	if m.MemoryGiB > 0 {
		mem = fmt.Sprintf("%.1f GiB", m.MemoryGiB)
	}
	return fmt.Sprintf("%s, %d cores, %s memory, %s", m.CPU, m.Cores, mem, m.Go)
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func output(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(b)), nil
}
