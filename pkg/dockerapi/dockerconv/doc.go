// Package dockerconv converts between Docker's Engine API shapes (github.com/moby/moby/api)
// and minibox's: Docker's create and network-create bodies into the engine's requests
// (refusing what minibox cannot do with a 400 naming the field), the engine's
// containers, networks, volumes, images, events and build steps into Docker's answers,
// and Docker's query grammar (filters, times, API versions). It is pure: no transport
// and no engine calls, so that the HTTP handlers in pkg/dockerapi stay thin and these
// rules are unit-tested without a daemon.
package dockerconv
