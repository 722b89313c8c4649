package dockerfile

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Step is one instruction of a Dockerfile as Docker's classic builder counts
// them: its text as written, its stage (-1 for an ARG before the first FROM), and the
// block the planner makes of it ("" for an instruction that only sets the config).
type Step struct {
	Text  string
	Stage int
	Block string
}

// Steps lists a Dockerfile's instructions in order with their blocks, named
// as planStage names them. ONBUILD triggers of a base image, which come first in their
// stage, are not in the file: blocks they add shift the names of the stage's own.
func Steps(name string, src []byte) ([]Step, error) {
	if _, err := Parse(name, src); err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	var out []Step
	stage, own, label := -1, 0, ""
	for _, n := range res.AST.Children {
		cmd, err := instructions.ParseInstruction(n)
		if err != nil {
			return nil, err
		}
		st := Step{Text: n.Original, Stage: stage}
		switch c := cmd.(type) {
		case *instructions.Stage:
			stage, own, label = stage+1, 0, c.Name
			if label == "" {
				label = strconv.Itoa(stage)
			}
			st.Stage = stage
		default:
			if makesBlock(cmd) {
				own++
				st.Block = fmt.Sprintf("%s:%d", label, own)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// makesBlock reports the instructions stepInstruction plans as blocks; the others set
// the stage's config (configInstruction) or its ARGs.
func makesBlock(cmd any) bool {
	switch cmd.(type) {
	case *instructions.WorkdirCommand, *instructions.RunCommand, *instructions.CopyCommand, *instructions.AddCommand:
		return true
	}
	return false
}
