// Package testutil holds helpers shared by tests: the privileged-test gate and network
// namespace sandboxes. Tests only; stdlib and x/sys.
package testutil
