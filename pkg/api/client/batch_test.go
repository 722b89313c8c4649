package client

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/api"
)

// Small frames of one stream reach the writer as one piece; a change of stream, another
// kind of frame and a wait for the daemon each hand on what was gathered, in order.
func TestOutputBatch(t *testing.T) {
	r, w := io.Pipe()
	var got []string
	emitted := make(chan struct{}, 16)
	batch := &outputBatch{emit: func(stream string, p []byte) error {
		got = append(got, stream+":"+string(p))
		emitted <- struct{}{}
		return nil
	}}
	done := make(chan error, 1)
	go func() {
		done <- readFrames(r, true, batch.flush, func(kind byte, p []byte) error {
			switch kind {
			case api.FrameStdout:
				return batch.add("stdout", p)
			case api.FrameStderr:
				return batch.add("stderr", p)
			}
			if err := batch.flush(); err != nil {
				return err
			}
			got = append(got, "event:"+string(p))
			return nil
		})
	}()
	var first []byte
	for _, f := range [][]byte{frame(api.FrameStdout, "a"), frame(api.FrameStdout, "b"), frame(api.FrameStderr, "c"), frame(api.FrameStderr, "d")} {
		first = append(first, f...)
	}
	w.Write(first)
	// The reader waits for more now: what it holds must have gone out, or this waits forever.
	<-emitted
	<-emitted
	big := strings.Repeat("x", outputBatchSize/4)
	var second []byte
	for _, f := range [][]byte{frame(api.FrameStdout, "e"), frame(api.FrameEvent, "{}"), frame(api.FrameStdout, "f"), frame(api.FrameStdout, big)} {
		second = append(second, f...)
	}
	w.Write(second)
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := batch.flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{"stdout:ab", "stderr:cd", "stdout:e", "event:{}", "stdout:f" + big}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("emitted %.200q, want %.200q", got, want)
	}
}
