package api

import "time"

// Top is GET /containers/top: ps -ef's titles and one row per process.
type Top struct {
	Titles    []string   `json:"titles"`
	Processes [][]string `json:"processes"`
}

// HistoryItem is one step of GET /images/history, newest first.
type HistoryItem struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
	Size      int64     `json:"size"`
	Tags      []string  `json:"tags,omitempty"`
}

// Change is one line of GET /containers/changes: kind A, C or D and the path.
type Change struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
}

// Event is one line of GET /events.
type Event struct {
	Type       string            `json:"type"`
	Action     string            `json:"action"`
	ID         string            `json:"id"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Time       time.Time         `json:"time"`
}

// UpdateRequest is the body of POST /containers/update: the fields set are changed.
type UpdateRequest struct {
	MemoryBytes *int64   `json:"memory_bytes,omitempty"`
	MemorySwap  *int64   `json:"memory_swap,omitempty"`
	CPUs        *float64 `json:"cpus,omitempty"`
	CPUShares   *int64   `json:"cpu_shares,omitempty"`
	CPUQuota    *int64   `json:"cpu_quota,omitempty"`
	CPUPeriod   *int64   `json:"cpu_period,omitempty"`
	CpusetCpus  *string  `json:"cpuset_cpus,omitempty"`
	PidsLimit   *int64   `json:"pids_limit,omitempty"`
	Restart     *string  `json:"restart,omitempty"`
}

// UpdateResult answers POST /containers/update.
type UpdateResult struct {
	Warnings []string `json:"warnings"`
}
