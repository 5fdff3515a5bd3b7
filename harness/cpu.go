package harness

import (
	"runtime"
	"syscall"
	"time"
)

// cpuMeter measures the share of the machine's CPU the process used.
type cpuMeter struct {
	wall time.Time
	cpu  time.Duration
}

func startCPU() cpuMeter { return cpuMeter{wall: time.Now(), cpu: processCPU()} }

// busy is the process's CPU time over the wall time of every core, 0..1.
func (m cpuMeter) busy() float64 {
	wall := time.Since(m.wall)
	if wall <= 0 {
		return 0
	}
	used := processCPU() - m.cpu
	return min(float64(used)/(float64(wall)*float64(runtime.NumCPU())), 1)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
