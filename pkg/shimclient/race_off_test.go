//go:build !race

package shimclient_test

const raceEnabled = false
