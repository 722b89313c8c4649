package build

import (
	"context"
	"crypto/sha256"
	"fmt"
	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/layerview"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// urlFileName is the name a download gets in a destination directory: the URL path's
// last element (BuildKit's rule).
func urlFileName(src string) string {
	if u, err := url.Parse(src); err == nil {
		if base := path.Base(u.Path); base != "." && base != "/" {
			return base
		}
	}
	return "__unnamed__"
}

// fetchURL downloads an ADD URL once per block run into the build's temporary
// directory, returning the file and its digest; a --checksum that does not match is an
// error naming the instruction.
func (bx *blockRun) fetchURL(ctx context.Context, ip graph.Instr, u string) (string, digest.Digest, error) {
	if f, ok := bx.downloads[u]; ok {
		return f.path, f.dgst, nil
	}
	dir := filepath.Join(bx.tmp, "downloads", bx.bp.Def.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	p := filepath.Join(dir, strconv.Itoa(len(bx.downloads)))
	algo := digest.SHA256
	if ip.Step.Checksum != "" {
		algo = digest.Digest(ip.Step.Checksum).Algorithm()
	}
	bx.out.engine("downloading " + u)
	d, err := download(ctx, u, p, algo.Hash())
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", stepText(ip), err)
	}
	got := digest.NewDigestFromEncoded(algo, d)
	if ip.Step.Checksum != "" && got.String() != ip.Step.Checksum {
		os.Remove(p)
		return "", "", fmt.Errorf("%s: checksum mismatch for %s: the download is %s, --checksum wants %s", stepText(ip), u, got, ip.Step.Checksum)
	}
	if bx.downloads == nil {
		bx.downloads = map[string]download1{}
	}
	bx.downloads[u] = download1{path: p, dgst: got}
	return p, got, nil
}

// download1 is a file fetched for an ADD.
type download1 struct {
	path string
	dgst digest.Digest
}

// download GETs u into file p (mode 0600), returning the hex digest h computed on the way.
func download(ctx context.Context, u, p string, h hash.Hash) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("ADD %s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("ADD: download %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ADD: download %s: the server answered %s", u, resp.Status)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	if h == nil {
		h = sha256.New()
	}
	_, err = io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return "", fmt.Errorf("ADD: download %s: %w", u, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// remoteKeys adds what an ADD's downloads contribute to its block's key: the checksum
// when one is given (nothing is fetched for a cached block), else the content fetched.
func (bx *blockRun) remoteKeys(ctx context.Context, k keyHash, ip graph.Instr) error {
	if ip.Step.Checksum != "" {
		return nil // in dk.key() already
	}
	for _, u := range ip.Step.URLs {
		_, d, err := bx.fetchURL(ctx, ip, u)
		if err != nil {
			return err
		}
		k.field("url", u, d.String())
	}
	return nil
}

// copyExtras copies what an ADD or COPY takes from elsewhere than the context: ADD's
// downloads (never unpacked, 0600 as Docker leaves them) and heredocs (0644), staged in
// the block's directory and copied as COPY copies.
func (bx *blockRun) copyExtras(ctx context.Context, ip graph.Instr) error {
	if ip.Step == nil || len(ip.Step.URLs)+len(ip.Step.Inline) == 0 {
		return nil
	}
	staging := filepath.Join(bx.dir, "extras")
	os.RemoveAll(staging)
	if err := os.Mkdir(staging, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	var srcs []copySrc
	for i, u := range ip.Step.URLs {
		p, _, err := bx.fetchURL(ctx, ip, u)
		if err != nil {
			return err
		}
		at := fmt.Sprintf("u%d", i)
		if err := os.Mkdir(filepath.Join(staging, at), 0o755); err != nil {
			return err
		}
		name := urlFileName(u)
		if err := copyDownload(p, filepath.Join(staging, at, name), 0o600); err != nil {
			return err
		}
		srcs = append(srcs, copySrc{rel: u, at: at + "/" + name, name: name})
	}
	for i, f := range ip.Step.Inline {
		at := fmt.Sprintf("h%d", i)
		name := path.Base("/" + f.Name)
		if err := os.Mkdir(filepath.Join(staging, at), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(staging, at, name), []byte(f.Data), 0o644); err != nil {
			return err
		}
		os.Chmod(filepath.Join(staging, at, name), 0o644) // past the umask
		srcs = append(srcs, copySrc{rel: "<<" + f.Name, at: at + "/" + name, name: name})
	}
	return bx.copyStaged(ip, staging, srcs, len(ip.Args)-1+len(srcs))
}

// copyStaged copies srcs from dir into the block at the instruction's destination:
// owner --chown (else root), mode --chmod (else the staged file's).
func (bx *blockRun) copyStaged(ip graph.Instr, dir string, srcs []copySrc, total int) error {
	in := ip.In
	src := layerview.New([]string{dir})
	defer src.Close()
	c := &copier{upper: bx.upper, target: bx.view()}
	defer c.target.Close()
	var err error
	if in.Chown != "" {
		if c.uid, c.gid, err = lookupOwner(c.target, in.Chown); err != nil {
			return fmt.Errorf("%s: %s --chown: %w", in.Pos, in.Keyword, err)
		}
	}
	if in.Chmod != "" {
		m, _ := strconv.ParseUint(in.Chmod, 8, 32)
		c.chmod, c.hasMode = os.FileMode(m)&os.ModePerm|modeBits(m), true
	}
	dst := ip.Args[len(ip.Args)-1]
	dirDst := strings.HasSuffix(dst, "/") || total > 1 || dst == "." || strings.HasSuffix(dst, "/.")
	if !path.IsAbs(dst) {
		dst = path.Join(ip.State.Workdir, dst)
	}
	dst = layerview.CleanRel(dst)
	for _, s := range srcs {
		n, err := src.Lookup(s.at, false)
		if err != nil {
			return fmt.Errorf("%s: %s %s: %w", in.Pos, in.Keyword, s.rel, err)
		}
		err = c.copyTop(src, n, s, dst, dirDst)
		n.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", in.Pos, err)
		}
	}
	return nil
}

// copyDownload copies a file the builder owns (a download) to a new file of mode perm.
func copyDownload(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(to, perm)
}
