// Package minibox is the CLI applet (kong): a thin HTTP client of the daemon. Each
// command is a struct with Run(api *client.Client, out *Output) error.
package minibox
