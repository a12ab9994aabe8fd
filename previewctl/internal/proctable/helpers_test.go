package proctable

import (
	"strconv"
	"strings"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

func sleepMS(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }

func containsState(stat, state string) bool {
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:])
	return len(f) > 0 && f[0] == state
}
