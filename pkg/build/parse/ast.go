package parse

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Format is the dialect a file is written in.
type Format int

const (
	DAG        Format = iota // BASE, BLOCK, indented instructions
	Legacy                   // BOX/FROM/START-WITH, one step per line
	Dockerfile               // a Dockerfile, read by package build with BuildKit's parser
)

func (f Format) String() string {
	switch f {
	case Legacy:
		return "legacy-linear"
	case Dockerfile:
		return "dockerfile"
	}
	return "dag"
}

// Pos is a place in the file; Line and Col count from 1.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Word is one whitespace-separated argument and where it starts.
type Word struct {
	Text string
	Pos  Pos
}

// File is a parsed MiniBox file.
type File struct {
	Name   string
	Format Format
	Base   *Word    // the file's BASE (last wins); nil only with errors
	Args   []*Instr // top-level ARG, in order
	Env    []*Instr // top-level ENV, in order
	Start  *Start
	// Entrypoint, Shell and StopSignal are the image's, as a Dockerfile's ENTRYPOINT,
	// SHELL and STOPSIGNAL set them (nil: the base's).
	Entrypoint *Start
	Shell      []string
	StopSignal *Word
	Health     *Health
	Ports      []Word   // PORT/EXPOSE anywhere, file order
	Labels     []*Instr // LABEL anywhere, file order
	Blocks     []*Block
}

// Block is a node of the build DAG.
type Block struct {
	Name   string
	Pos    Pos
	Base   *Word  // its own BASE, or nil for the file's
	Needs  []Word // stacked below this block
	BNeeds []Word // ordering only, COPY FROM= blocks included
	Instrs []*Instr
	Step   string // legacy: "KEYWORD args" as written, for Step N/M lines
}

// Instr is one instruction of a block (or a top-level ENV/ARG/LABEL).
type Instr struct {
	Pos     Pos
	Keyword string // canonical: RUN COPY WORKDIR ENV USER VOLUME PKG AUTO-DEPS ARG LABEL
	Args    []Word // the arguments split on whitespace (flags removed for COPY)
	Raw     string // the rest of the line verbatim (RUN)
	// COPY only.
	Chown, Chmod string
	From         string // COPY FROM=<block>
	// ENV, LABEL, ARG: key/value pairs in order (ARG: Value is the default, HasValue if given).
	KVs []KV
}

// KV is one key=value of ENV, LABEL or ARG.
type KV struct {
	Key, Value string
	HasValue   bool
	Pos        Pos
}

// Start is the image Cmd: Exec (JSON array) or Shell (rest of line, run by /bin/sh -c).
type Start struct {
	Pos   Pos
	Exec  []string
	Shell string
}

// Cmd returns the image's Cmd; nil means keep the base's.
func (s *Start) Cmd() []string { return s.Argv(nil) }

// Argv is the command as the image keeps it: the exec form as is, the shell form run by
// shell (nil: /bin/sh -c); nil means keep the base's.
func (s *Start) Argv(shell []string) []string {
	if s == nil {
		return nil
	}
	if s.Exec != nil {
		return s.Exec
	}
	if s.Shell == "" {
		return nil
	}
	if len(shell) == 0 {
		shell = []string{"/bin/sh", "-c"}
	}
	return append(append([]string(nil), shell...), s.Shell)
}

// Health is a HEALTHCHECK: Test in the OCI/Docker form ("NONE", "CMD", "CMD-SHELL").
type Health struct {
	Pos                            Pos
	Test                           []string
	Interval, Timeout, StartPeriod time.Duration
	Retries                        int
}

// Block returns the named block, or nil.
func (f *File) Block(name string) *Block {
	for _, b := range f.Blocks {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// BaseOf returns the BASE a block builds on: its own, else the file's.
func (f *File) BaseOf(b *Block) *Word {
	if b != nil && b.Base != nil {
		return b.Base
	}
	return f.Base
}

// Error is one problem at one place.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every problem in a file, in file order. It is an errdefs.ErrInvalid.
type ErrorList []*Error

// maxListed is how many problems an ErrorList spells out: a file that is not a MiniBox
// file at all would otherwise be echoed line by line.
const maxListed = 10

func (l ErrorList) Error() string {
	var s []string
	for i, e := range l {
		if i == maxListed {
			s = append(s, fmt.Sprintf("(and %d more problems)", len(l)-maxListed))
			break
		}
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

// maxToken is the most of a word an error message quotes.
const maxToken = 24

// token is a word as an error message quotes it: cut to maxToken bytes (at a rune
// boundary), so a message never carries a whole line of the file.
func token(s string) string {
	if len(s) <= maxToken {
		return s
	}
	cut := maxToken
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func (l ErrorList) Is(target error) bool { return target == errdefs.ErrInvalid }
