package cgroup

import (
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	if got := CPUPercent(&Stats{CPUUsageUsec: 1000}, &Stats{CPUUsageUsec: 501000}, time.Second); got != 50 {
		t.Errorf("CPUPercent = %v, want 50", got)
	}
	if got := CPUPercent(&Stats{CPUUsageUsec: 5}, &Stats{CPUUsageUsec: 1}, time.Second); got != 0 {
		t.Errorf("CPUPercent of a reset counter = %v, want 0", got)
	}
	if got := MemoryPercent(&Stats{MemoryUsage: 25, MemoryLimit: 100}, 1000); got != 25 {
		t.Errorf("MemoryPercent = %v, want 25", got)
	}
	if got := MemoryPercent(&Stats{MemoryUsage: 25}, 1000); got != 2.5 {
		t.Errorf("MemoryPercent without a limit = %v, want 2.5 of the host", got)
	}
}
