package dockerfile

import (
	"reflect"
	"testing"
)

func TestSteps(t *testing.T) {
	src := "ARG V=1\nFROM busybox AS base\nENV A=1\nRUN echo \\\n  hi\nWORKDIR /w\nFROM base\nCOPY --from=base /w /x\nCMD [\"true\"]\n"
	got, err := Steps("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Text: "ARG V=1", Stage: -1},
		{Text: "FROM busybox AS base", Stage: 0},
		{Text: "ENV A=1", Stage: 0},
		{Text: "RUN echo   hi", Stage: 0, Block: "base:1"},
		{Text: "WORKDIR /w", Stage: 0, Block: "base:2"},
		{Text: "FROM base", Stage: 1},
		{Text: "COPY --from=base /w /x", Stage: 1, Block: "1:1"},
		{Text: "CMD [\"true\"]", Stage: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n got %+v\nwant %+v", got, want)
	}
}
