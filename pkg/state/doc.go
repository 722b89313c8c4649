// Package state persists the daemon's records in state.json: atomic writes (temp, fsync,
// rename), 0600, and with a key AES-256-GCM sealing of the whole document. It knows nothing
// of what the records mean; the engine owns them.
package state
