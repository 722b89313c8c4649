//go:build race

package shimclient_test

// raceEnabled: the race detector's shadow memory makes memory figures meaningless.
const raceEnabled = true
