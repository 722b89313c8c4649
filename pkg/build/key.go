package build

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"github.com/minibox/minibox/pkg/build/layerview"
	"hash"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/minibox/minibox/pkg/build/parse"
)

// keyVersion changes whenever what a key covers changes, so old entries stop matching.
const keyVersion = "minibox-build-key/1"

type keyHash struct{ h hash.Hash }

// field writes one length-prefixed field, so no two sequences of fields collide.
func (k keyHash) field(parts ...string) {
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		k.h.Write(n[:])
		k.h.Write([]byte(p))
	}
}

// blockKey hashes everything a block's layer depends on: the base digest, the
// keys of its NEED closure and COPY FROM= blocks, every instruction, the state and args in
// force, and every COPY source entry. Never the block's name.
func (bx *blockRun) blockKey(ctx context.Context) (string, error) {
	bp, p := bx.bp, bx.plan
	k := keyHash{sha256.New()}
	k.field(keyVersion, "base", bp.Base.Digest)
	for _, c := range bp.Closure {
		k.field("need", bx.built[c].key)
	}
	for _, f := range bp.Froms {
		k.field("from", bx.built[f].key)
	}
	k.field("env", strings.Join(bp.Start.Env, "\x00"), "user", bp.Start.User, "workdir", bp.Start.Workdir)
	var args []string
	for a, v := range p.Args {
		args = append(args, a+"="+v)
	}
	sort.Strings(args)
	k.field("args", strings.Join(args, "\x00"))
	if sh := p.File.Shell; len(sh) > 0 && p.File.Format != parse.Dockerfile {
		k.field("shell", strings.Join(sh, "\x00")) // a MiniBox SHELL runs every RUN
	}
	for _, ip := range bp.Instrs {
		in := ip.In
		k.field("instr", in.Keyword, in.Raw, in.Chown, in.Chmod, in.From, strings.Join(ip.Args, "\x00"))
		if (in.Keyword == "COPY" || in.Keyword == "ADD") && in.From == "" {
			srcs, v, err := bx.copySources(ip)
			if err != nil {
				return "", err
			}
			v.Close()
			for _, s := range srcs {
				if err := hashTree(k, bx.ctxView(), s.rel, s.follow); err != nil {
					return "", fmt.Errorf("%s: hash COPY source %s: %w", in.Pos, s.rel, err)
				}
			}
		}
	}
	for _, ip := range bp.Instrs {
		if ip.Step == nil {
			continue
		}
		k.field("docker", ip.Step.Key())
		if err := bx.remoteKeys(ctx, k, ip); err != nil {
			return "", err
		}
		for _, m := range ip.Step.Mounts {
			if m.Type == "bind" && m.From == "" {
				// A bind of the context is read by the RUN: its content is an input.
				if err := hashTree(k, bx.ctxView(), m.Source, true); err != nil {
					return "", fmt.Errorf("%s: hash --mount source %s: %w", ip.In.Pos, m.Source, err)
				}
			}
		}
	}
	if bp.AutoDeps {
		k.field("auto-deps")
	}
	return hex.EncodeToString(k.h.Sum(nil)), nil
}

// hashTree hashes rel and, for a directory, everything below it that the ignore file
// keeps: path, type, mode, size, content and link target.
func hashTree(k keyHash, v *ctxView, rel string, follow bool) error {
	p := v.abs(rel)
	var fi fs.FileInfo
	var err error
	if follow {
		fi, err = os.Stat(p)
	} else {
		fi, err = os.Lstat(p)
	}
	if err != nil {
		return err
	}
	k.field("entry", rel, fi.Mode().Type().String(), fmt.Sprintf("%o", fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)))
	switch {
	case fi.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
		k.field(fmt.Sprint(fi.Size()), hex.EncodeToString(h.Sum(nil)))
	case fi.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(p)
		if err != nil {
			return err
		}
		k.field("link", t)
	case fi.IsDir():
		ents, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			child := layerview.Join(rel, n)
			if v.ignore.Excluded(child) && !(v.ignore.Descend(child) && isDirAt(v.abs(child))) {
				// An excluded directory that an exception may reach into is walked:
				// what it takes back is an input (the rest hashes no content).
				continue
			}
			if err := hashTree(k, v, child, false); err != nil {
				return err
			}
		}
	}
	return nil
}
