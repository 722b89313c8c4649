// Package shimfiles is what a shim leaves in its container's directory for whoever comes
// next, a daemon started after it included: the names of the socket and logs, exit.json
// (the workload's exit, written by an atomic rename), and shim.pid (the shim's and init's
// PIDs with their start times, for a build container whose daemon died).
//
// It leaves out the protocol spoken over shim.sock (package shimapi) and container.log's
// format (package logfile).
package shimfiles
