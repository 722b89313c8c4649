// Package prune decides what `minibox system prune` removes from a data root and removes
// it: Make scans the root and returns a Plan (data, tested without root), Apply carries it
// out and reports what it freed.
//
// It removes orphaned blobs (with their .index.json), stale or unused lazy mounts (detached
// lazily, with their lazy/ and cache/ directories), extracted layers no image or container
// uses, tmp/ entries no running operation holds and, with BuildCache, layers/ entries and
// cache-mounts/ directories no running build holds (OnlyBuildCache: those alone, for
// builder prune). It never looks at volumes/, containers/, state.json, index.json or
// the lock. Which blobs are referenced or used is the caller's input: this package does not
// read index.json or container records.
package prune
