// Package dockerapi serves Docker's Engine API over the engine: Docker's wire types
// (github.com/moby/moby/api) are converted at this edge and the same engine services
// the native API uses are called. Nothing here keeps container state of its own beyond
// attachments waiting for a start.
package dockerapi
