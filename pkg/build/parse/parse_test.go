package parse

import (
	"errors"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func TestParseDAG(t *testing.T) {
	src := "# app\r\nARG VERSION=1\nBASE busybox:${VERSION}\nENV A=1 B=2\n\nBLOCK deps\n  RUN echo one \\\n    two\n  COPY --chown=1000:1000 --chmod=0755 go.mod go.sum ./\n  ENV GREETING hello big world\n" +
		"BLOCK app\n\tNEED deps\n\tCOPY FROM=tools /bin/x /usr/bin/x\n\tWORKDIR /app\n\tPORT 8080/tcp\n\tAUTO-DEPS\n" +
		"BLOCK tools\n  BASE alpine\n  PKG curl git@2\n" +
		"START [\"/app/server\", \"-v\"]\nHEALTHCHECK --interval=5 --retries 2 CMD wget -q localhost\nLABEL a=b\n"
	f, err := Parse("MiniBox", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != DAG || f.Base.Text != "busybox:${VERSION}" || len(f.Blocks) != 3 {
		t.Fatalf("file %+v", f)
	}
	deps := f.Blocks[0]
	if got := deps.Instrs[0].Raw; got != "echo one two" {
		t.Errorf("continued RUN = %q", got)
	}
	cp := deps.Instrs[1]
	if cp.Chown != "1000:1000" || cp.Chmod != "0755" || len(cp.Args) != 3 || cp.Args[2].Text != "./" {
		t.Errorf("COPY %+v", cp)
	}
	if kv := deps.Instrs[2].KVs[0]; kv.Key != "GREETING" || kv.Value != "hello big world" {
		t.Errorf("ENV K V W = %+v", kv)
	}
	app := f.Blocks[1]
	if len(app.Needs) != 1 || len(app.BNeeds) != 1 || app.BNeeds[0].Text != "tools" || app.Instrs[0].From != "tools" {
		t.Errorf("app needs %+v bneeds %+v", app.Needs, app.BNeeds)
	}
	if f.Blocks[2].Base.Text != "alpine" {
		t.Errorf("tools base %v", f.Blocks[2].Base)
	}
	if got := f.Start.Cmd(); strings.Join(got, " ") != "/app/server -v" {
		t.Errorf("START %q", got)
	}
	if h := f.Health; h.Interval.Seconds() != 5 || h.Retries != 2 || h.Test[0] != "CMD-SHELL" || h.Test[1] != "wget -q localhost" {
		t.Errorf("HEALTHCHECK %+v", h)
	}
	if len(f.Ports) != 1 || len(f.Labels) != 1 || len(f.Env) != 1 || len(f.Args) != 1 {
		t.Errorf("globals %+v %+v %+v", f.Ports, f.Labels, f.Env)
	}
}

func TestParseLegacy(t *testing.T) {
	src := "BOX busybox\nGOTO-FOLDER /app\nGRAB-ALL\nRUN-COMMAND echo hi\nINSTALL-DEPS\nSET-ENVIRONMENT A=1\nLAUNCH node server.js\nPORT 3000\n"
	f, err := Parse("MiniBox", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != Legacy || len(f.Blocks) != 5 {
		t.Fatalf("blocks %d format %v", len(f.Blocks), f.Format)
	}
	var steps []string
	for i, b := range f.Blocks {
		steps = append(steps, b.Instrs[0].Keyword)
		if i > 0 && b.Needs[0].Text != f.Blocks[i-1].Name {
			t.Errorf("%s needs %v", b.Name, b.Needs)
		}
	}
	if got := strings.Join(steps, " "); got != "WORKDIR COPY RUN RUN ENV" {
		t.Errorf("steps %s", got)
	}
	if f.Blocks[3].Instrs[0].Raw != "npm install" || f.Blocks[1].Instrs[0].Args[1].Text != "/app" {
		t.Errorf("aliases: %+v %+v", f.Blocks[3].Instrs[0], f.Blocks[1].Instrs[0])
	}
	if f.Blocks[2].Step != "RUN-COMMAND echo hi" {
		t.Errorf("step %q", f.Blocks[2].Step)
	}
	if got := f.Start.Cmd(); len(got) != 3 || got[2] != "node server.js" {
		t.Errorf("LAUNCH %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown", "BASE x\nFROB y\n", "MiniBox:2:1: unknown directive \"FROB\"; expected one of BASE, BLOCK"},
		{"outside", "BASE x\n  RUN true\n", "MiniBox:2:3: instruction outside a block"},
		{"unindented", "BASE x\nBLOCK a\nRUN true\n", "MiniBox:3:1: RUN outside a block"},
		{"requires", "BASE x\nBLOCK a\n  COPY onlyone\n", "MiniBox:3:3: COPY requires at least one source and a destination"},
		{"duplicate", "BASE x\nBLOCK a\n  RUN true\nBLOCK a\n", "MiniBox:4:7: duplicate block \"a\" (first defined at line 2)"},
		{"top-level in a block", "BASE x\nBLOCK a\n  HEALTHCHECK CMD true\n", "MiniBox:3:3: HEALTHCHECK belongs at the top level of the file, not inside block a"},
		{"unknown need", "BASE x\nBLOCK a\n  NEED nope\n", "MiniBox:3:8: unknown block \"nope\" in NEED of block a"},
		{"unknown from", "BASE x\nBLOCK a\n  COPY FROM=zz /a /b\n", "unknown block \"zz\" in COPY FROM= of block a"},
		{"cycle", "BASE x\nBLOCK a\n  NEED b\nBLOCK b\n  NEED a\n", "MiniBox:5:8: cycle: a -> b -> a"},
		{"self", "BASE x\nBLOCK a\n  BNEED a\n", "cycle: a -> a"},
		{"missing base", "BLOCK a\n  RUN true\n", "MiniBox:1:1: missing BASE"},
		{"bad flag", "BASE x\nBLOCK a\n  COPY --own=1 a b\n", "MiniBox:3:8: COPY: unknown flag --own"},
		{"bad chmod", "BASE x\nBLOCK a\n  COPY --chmod=999 a b\n", "COPY --chmod requires an octal mode"},
		{"bad duration", "BASE x\nHEALTHCHECK --interval=soon CMD true\n", "MiniBox:2:13: HEALTHCHECK --interval: bad duration"},
		{"cross base", "BASE x\nBLOCK a\n  BASE y\nBLOCK b\n  NEED a\n", "MiniBox:5:8: NEED across bases"},
		{"bad name", "BASE x\nBLOCK -a\n", "bad block name \"-a\""},
		{"bad port", "BASE x\nPORT http\n", "MiniBox:2:6: PORT: bad port \"http\""},
		{"env", "BASE x\nENV\n", "ENV requires key=value"},
		{"legacy unknown", "BOX x\nDANCE now\n", "MiniBox:2:1: unknown directive \"DANCE\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("MiniBox", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error is not Invalid")
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse("f", []byte("BASE x\nBLOCK a\n  FROB\n  NEED q\nNOPE\n"))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("errors %v", err)
	}
}

// A file that is not a MiniBox file (say /etc/shadow) must not come back line by line
// in the error: tokens are cut short and the list stops after a few problems.
func TestParseErrorsQuoteLittle(t *testing.T) {
	line := "root:$6$saltsaltsalt$0123456789abcdefghijklmnopqrstuvwxyz:19000:0:99999:7:::"
	_, err := Parse("f", []byte(strings.Repeat(line+"\n", 30)))
	if err == nil {
		t.Fatal("parsed")
	}
	msg := err.Error()
	if strings.Contains(msg, "0123456789abcdef") || strings.Contains(msg, line[:30]) {
		t.Errorf("the error quotes the file: %s", msg)
	}
	if n := strings.Count(msg, "\n") + 1; n > 11 || !strings.Contains(msg, "more problems") {
		t.Errorf("%d lines of errors:\n%s", n, msg)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("BASE x\nBLOCK a\n  RUN true\n  COPY FROM=a x y\nHEALTHCHECK --interval\n"))
	f.Add([]byte("BOX x\nIMPORT-FILE\nSTART [\n\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse("f", b) // must never panic
	})
}

// TestParseImageSettings: ENTRYPOINT, SHELL and STOPSIGNAL, as a Dockerfile has them.
func TestParseImageSettings(t *testing.T) {
	src := "BASE busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nENTRYPOINT exec /app/run\nSTART [\"--serve\"]\nSTOPSIGNAL SIGQUIT\nBLOCK a\n  RUN true\n"
	f, err := Parse("MiniBox", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Entrypoint.Argv(f.Shell), "|"); got != "/bin/sh|-ec|exec /app/run" {
		t.Errorf("entrypoint %q", got)
	}
	if got := strings.Join(f.Start.Argv(f.Shell), "|"); got != "--serve" {
		t.Errorf("start %q", got)
	}
	if f.StopSignal == nil || f.StopSignal.Text != "SIGQUIT" {
		t.Errorf("stop signal %+v", f.StopSignal)
	}
	for src, want := range map[string]string{
		"BASE busybox\nSHELL /bin/bash -c\n":    `MiniBox:2:1: SHELL requires a JSON array`,
		"BASE busybox\nSTOPSIGNAL SIGNOPE\n":    `MiniBox:2:12: STOPSIGNAL: invalid signal`,
		"BASE busybox\nENTRYPOINT [\"a\", 1]\n": `MiniBox:2:1: ENTRYPOINT requires words or a JSON array`,
	} {
		_, err := Parse("MiniBox", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}
