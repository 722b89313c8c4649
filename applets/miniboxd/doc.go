// Package miniboxd is the daemon applet: it validates the environment, locks the data
// root, opens the engine and serves the API until SIGTERM/SIGINT.
package miniboxd
