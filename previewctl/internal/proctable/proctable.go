// Package proctable reads Linux's process table for tests that must prove
// no emulator outlived its sandbox (after Close, a restart, or kill -9).
package proctable

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process is one live process.
type Process struct {
	PID  int
	PPID int
	Args []string
	// Cwd is its working directory ("" when it cannot be read).
	Cwd string
}

// List returns the live processes (zombies are dead: only their parent has
// not reaped them yet, so they are left out).
func List() ([]Process, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("read the process table: %w", err)
	}
	var out []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue // gone meanwhile, or a kernel thread
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name in stat is parenthesised and may hold spaces:
		// the fields after the last ')' are state, ppid, ...
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		out = append(out, Process{PID: pid, PPID: ppid, Cwd: cwd,
			Args: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")})
	}
	return out, nil
}

// IsEmulator reports whether p is AWS's Lambda Runtime Interface Emulator.
func (p Process) IsEmulator() bool {
	return len(p.Args) > 0 && filepath.Base(p.Args[0]) == "aws-lambda-rie"
}

// OfSandbox reports whether p belongs to the sandbox whose data directory
// is dir: an emulator serving a function from it, a function's bootstrap or
// a run's Terraform provider (executables under it), or a run's tofu
// (working in it).
func (p Process) OfSandbox(dir string) bool {
	under := func(path string) bool { return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator)) }
	switch {
	case p.IsEmulator():
		return under(p.Args[len(p.Args)-1])
	case len(p.Args) > 0 && under(p.Args[0]):
		return true
	}
	return p.Cwd != "" && under(p.Cwd)
}

// Orphans are the processes of the sandbox at dir that do not descend
// from the live process root: what a killed sandbox left behind.
func Orphans(dir string, root int) ([]Process, error) {
	procs, err := List()
	if err != nil {
		return nil, err
	}
	parent := map[int]int{}
	for _, p := range procs {
		parent[p.PID] = p.PPID
	}
	descends := func(pid int) bool {
		for i := 0; pid > 1 && i < 128; i++ {
			if pid == root {
				return true
			}
			pid = parent[pid]
		}
		return false
	}
	var out []Process
	for _, p := range procs {
		if p.OfSandbox(dir) && !descends(p.PID) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Emulators returns the PIDs of live emulators whose bootstrap (their last
// argument) lives under dir: the emulators of one sandbox data directory.
func Emulators(dir string) ([]int, error) {
	procs, err := List()
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, p := range procs {
		if p.IsEmulator() && strings.HasPrefix(p.Args[len(p.Args)-1], dir) {
			pids = append(pids, p.PID)
		}
	}
	return pids, nil
}
