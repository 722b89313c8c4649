// Package stackgrow grows a goroutine's stack once, early, while it is shallow. A
// goroutine starts with 2 KiB and doubles its stack by copying it whenever a call needs
// more: a copy deep in calls unwinds and adjusts every frame (faulting the function
// table's pages in), one made a frame or two from the goroutine's start costs almost
// nothing beyond the allocation every copy makes. Only for goroutines whose stack grows
// to that size anyway (the shim's and init's), lest it cost memory.
package stackgrow

// To4K gives the calling goroutine's stack room for 4 KiB: called first in a goroutine
// that reaches that size anyway.
func To4K() { frame1536(nil) }

// To8K gives the calling goroutine's stack room for 8 KiB.
func To8K() { frame4096(nil) }

// The frames: a 2 KiB stack with its 928-byte guard runs out at about 1 KiB of frame, and
// the runtime sizes the new stack to the frame that ran out: 1.5 KiB fits 4 KiB, 4 KiB
// fits 8.

//go:noinline
func frame1536(p *[1536]byte) {
	var b [1536]byte
	if p != nil {
		keep(&b)
	}
}

//go:noinline
func frame4096(p *[4096]byte) {
	var b [4096]byte
	if p != nil {
		keep(&b)
	}
}

//go:noinline
func keep(any) {}
