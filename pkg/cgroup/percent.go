package cgroup

import "time"

// CPUPercent is the CPU used between two readings as a percentage of one CPU (100 = one
// core busy), the figure the stats API reports.
func CPUPercent(before, after *Stats, elapsed time.Duration) float64 {
	if before == nil || after == nil || elapsed <= 0 || after.CPUUsageUsec < before.CPUUsageUsec {
		return 0
	}
	return float64(after.CPUUsageUsec-before.CPUUsageUsec) / float64(elapsed.Microseconds()) * 100
}

// MemoryPercent is usage as a percentage of the limit, or of total when there is none
// (Docker divides by the host's memory then).
func MemoryPercent(s *Stats, total uint64) float64 {
	l := s.MemoryLimit
	if l == 0 || (total != 0 && l > total) {
		l = total
	}
	if l == 0 {
		return 0
	}
	return float64(s.MemoryUsage) / float64(l) * 100
}
