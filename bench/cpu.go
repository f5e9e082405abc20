package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"usermerge/store"
)

// cpuClock reads the CPU time the database has spent so far on this run's
// work, so that a step's cost can be told apart from the noise of other
// processes on a shared machine: for SQLite the process's own CPU time
// (the database runs inside it); for PostgreSQL the CPU time of the server
// processes serving this run's connections (found by application_name),
// read from /proc when the server runs on this machine. ok is false when it
// cannot be read.
type cpuClock func(ctx context.Context) (d time.Duration, ok bool)

func newCPUClock(db *store.DB, app string) cpuClock {
	if db.Dialect() != "postgres" {
		return func(context.Context) (time.Duration, bool) {
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				return 0, false
			}
			return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
		}
	}
	return func(ctx context.Context) (time.Duration, bool) {
		rows, err := db.SQL().QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, app)
		if err != nil {
			return 0, false
		}
		defer rows.Close()
		var total time.Duration
		n := 0
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				return 0, false
			}
			d, ok := procCPU(pid)
			if !ok {
				return 0, false
			}
			total += d
			n++
		}
		return total, rows.Err() == nil && n > 0
	}
}

// procCPU reads a process's user and system time from /proc/PID/stat
// (fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+st) * 10 * time.Millisecond, true
}

// timer measures one step: wall time, and CPU time where it can be read.
type timer struct {
	clock cpuClock
	start time.Time
	cpu0  time.Duration
	cpuOK bool
}

func startTimer(ctx context.Context, c cpuClock) *timer {
	t := &timer{clock: c}
	t.cpu0, t.cpuOK = c(ctx)
	t.start = time.Now()
	return t
}

// stop returns the wall time and the CPU time (0 when unknown).
func (t *timer) stop(ctx context.Context) (wall, cpu time.Duration) {
	wall = time.Since(t.start)
	if c, ok := t.clock(ctx); ok && t.cpuOK && c >= t.cpu0 {
		cpu = c - t.cpu0
	}
	return wall, cpu
}
