// Package client is the API's Go client, used by the CLI: JSON calls,
// newline-delimited JSON streams, raw archives and upgraded (hijacked) connections.
package client
