// Package engine is the daemon's service layer: it owns the data root's stores, the
// container records and their life, and offers one method per API operation. It leaves
// HTTP to api/server and kernel work to the packages below it.
package engine
