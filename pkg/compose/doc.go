// Package compose runs a loaded Compose project (package compose/loader) on minibox: each
// service's containers become create requests (plan.go: image, command, environment,
// resources, ports, mounts, networks, a hash of the config that decides recreation), and
// up, down, start, stop, restart, rm, ps, logs, build and pull carry them out through the
// native API's client only, in dependency order, with the project's labels.
package compose
