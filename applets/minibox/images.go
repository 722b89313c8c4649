package minibox

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/term"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/api/dockershape"
	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
)

// ImageCmds are the image commands, top-level (Docker's short forms) and as `image <sub>`.
type ImageCmds struct {
	Pull    PullCmd    `cmd:"" help:"Pull an image from a registry."`
	Push    PushCmd    `cmd:"" help:"Push an image to a registry."`
	Images  ImagesCmd  `cmd:"" help:"List images."`
	Tag     TagCmd     `cmd:"" help:"Give an image another name."`
	Rmi     RmiCmd     `cmd:"" help:"Remove image names (blobs go at prune)."`
	Save    SaveCmd    `cmd:"" help:"Write images to a tar (OCI layout and docker archive in one)."`
	Load    LoadCmd    `cmd:"" help:"Load images from a tar (docker, podman, OCI or minibox archives)."`
	Import  ImportCmd  `cmd:"" help:"Make a one-layer image from a rootfs tarball."`
	History HistoryCmd `cmd:"" help:"Show the steps that built an image."`
	Login   LoginCmd   `cmd:"" help:"Store credentials for a registry."`
	Logout  LogoutCmd  `cmd:"" help:"Forget the credentials for a registry."`
	Image   ImageGroup `cmd:"" help:"Manage images: ls pull push tag rm inspect history save load import prune."`
}

// ImageGroup is `image <sub>`.
type ImageGroup struct {
	Ls      ImagesCmd       `cmd:"" aliases:"list" help:"List images."`
	Pull    PullCmd         `cmd:"" help:"Pull an image from a registry."`
	Push    PushCmd         `cmd:"" help:"Push an image to a registry."`
	Tag     TagCmd          `cmd:"" help:"Give an image another name."`
	Rm      RmiCmd          `cmd:"" aliases:"remove" help:"Remove image names."`
	Inspect ImageInspectCmd `cmd:"" help:"Show images' details as JSON."`
	History HistoryCmd      `cmd:"" help:"Show the steps that built an image."`
	Save    SaveCmd         `cmd:"" help:"Write images to a tar."`
	Load    LoadCmd         `cmd:"" help:"Load images from a tar."`
	Import  ImportCmd       `cmd:"" help:"Make a one-layer image from a rootfs tarball."`
	Prune   ImagePruneCmd   `cmd:"" help:"Remove dangling images (-a: every image no container uses)."`
}

// ---- credentials: $MINIBOX_CONFIG/config.json in Docker's format -------------------

type credFile struct {
	Auths map[string]credEntry `json:"auths"`
	rest  map[string]json.RawMessage
}

type credEntry struct {
	Auth string `json:"auth,omitempty"`
}

// dockerHubKey is where Docker files Docker Hub's credentials.
const dockerHubKey = "https://index.docker.io/v1/"

func configPath(env Env) (string, error) {
	dir := env("MINIBOX_CONFIG")
	if dir == "" {
		home := env("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return "", errors.New("cannot find the credentials file: set MINIBOX_CONFIG or HOME")
			}
			home = h
		}
		dir = filepath.Join(home, ".minibox")
	}
	return filepath.Join(dir, "config.json"), nil
}

func readCreds(env Env) (*credFile, string, error) {
	p, err := configPath(env)
	if err != nil {
		return nil, "", err
	}
	cf := &credFile{Auths: map[string]credEntry{}, rest: map[string]json.RawMessage{}}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return cf, p, nil
	}
	if err != nil {
		return nil, p, err
	}
	if err := json.Unmarshal(b, &cf.rest); err != nil {
		return nil, p, fmt.Errorf("%s is not valid JSON: %v; fix or remove it", p, err)
	}
	if a, ok := cf.rest["auths"]; ok {
		if err := json.Unmarshal(a, &cf.Auths); err != nil {
			return nil, p, fmt.Errorf("%s: auths: %v", p, err)
		}
	}
	if cf.Auths == nil {
		cf.Auths = map[string]credEntry{}
	}
	return cf, p, nil
}

func (cf *credFile) write(p string) error {
	a, _ := json.Marshal(cf.Auths)
	cf.rest["auths"] = a
	b, err := json.MarshalIndent(cf.rest, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, append(b, '\n'), 0o600)
}

// registryKey is the config.json key for a registry host.
func registryKey(host string) string {
	switch host {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io", dockerHubKey:
		return dockerHubKey
	}
	h := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://"), "/")
	return h
}

// authFor returns the X-Registry-Auth header for ref's registry ("" when no credentials).
func authFor(env Env, ref string) (string, error) {
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return "", err
	}
	cf, _, err := readCreds(env)
	if err != nil {
		return "", err
	}
	e, ok := cf.Auths[registryKey(r.Domain)]
	if !ok {
		e, ok = cf.Auths[r.Domain]
	}
	if !ok || e.Auth == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		return "", fmt.Errorf("credentials for %s are corrupt; run \"minibox login %s\" again", r.Domain, r.Domain)
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	return registry.EncodeAuthHeader(&registry.Auth{Username: user, Password: pass, ServerAddress: r.Domain}), nil
}

// RegistryConfigHeader encodes every stored credential as Docker's X-Registry-Config
// ("" when none): build sends it so the daemon can pull BASE images from private registries.
func RegistryConfigHeader(env Env) (string, error) {
	cf, _, err := readCreds(env)
	if err != nil {
		return "", err
	}
	m := map[string]registry.Auth{}
	for k, e := range cf.Auths {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			continue
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		m[k] = registry.Auth{Username: user, Password: pass, ServerAddress: k}
	}
	return registry.EncodeConfigHeader(m), nil
}

// ---- pull / push -----------------------------------------------------------------

// PullCmd is `pull <ref> [--platform os/arch] [-q]`.
type PullCmd struct {
	Ref      string `arg:"" name:"image" help:"Image reference (alpine, alpine:3.20, ghcr.io/a/b:t, name@sha256:...)."`
	Platform string `help:"Platform os/arch[/variant] (default: this host's)."`
	Quiet    bool   `short:"q" help:"Print only the reference when done."`
}

func (c PullCmd) Run(ctx context.Context, api *client.Client, out *Output, env Env) error {
	auth, err := authFor(env, c.Ref)
	if err != nil {
		return err
	}
	v := newProgressView(out, "pull", c.Quiet)
	done, err := api.ImagePull(ctx, c.Ref, c.Platform, auth, v.event)
	v.finish()
	if err != nil {
		return err
	}
	if c.Quiet {
		fmt.Fprintln(out.Stdout, done.Ref)
		return nil
	}
	fmt.Fprintf(out.Stderr, "[pull] %s: done %s\n", done.Ref, done.Digest)
	return nil
}

// PushCmd is `push <ref> [-q]`.
type PushCmd struct {
	Ref   string `arg:"" name:"image" help:"Local image name; its registry part says where it goes."`
	Quiet bool   `short:"q" help:"Print only the digest when done."`
}

func (c PushCmd) Run(ctx context.Context, api *client.Client, out *Output, env Env) error {
	auth, err := authFor(env, c.Ref)
	if err != nil {
		return err
	}
	v := newProgressView(out, "push", c.Quiet)
	done, err := api.ImagePush(ctx, c.Ref, auth, v.event)
	v.finish()
	if err != nil {
		return err
	}
	if c.Quiet {
		fmt.Fprintln(out.Stdout, done.Digest)
		return nil
	}
	fmt.Fprintf(out.Stderr, "[push] %s: done %s\n", done.Ref, done.Digest)
	return nil
}

// progressView shows per-layer bars on a terminal (redrawn in place), else one
// "[pull] <ref>: <layer12> <state>" line per state change.
type progressView struct {
	out    *Output
	verb   string
	quiet  bool
	tty    bool
	order  []string
	layers map[string]api.PullEvent
	drawn  int
	last   time.Time
}

func newProgressView(out *Output, verb string, quiet bool) *progressView {
	tty := out.Terminal()
	if f, ok := out.Stderr.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		tty = false
	}
	return &progressView{out: out, verb: verb, quiet: quiet, tty: tty, layers: map[string]api.PullEvent{}}
}

func (v *progressView) event(ev api.PullEvent) {
	if v.quiet || ev.Layer == "" {
		return
	}
	prev, seen := v.layers[ev.Layer]
	if !seen {
		v.order = append(v.order, ev.Layer)
	}
	v.layers[ev.Layer] = ev
	if !v.tty {
		if !seen || prev.Status != ev.Status {
			fmt.Fprintf(v.out.Stderr, "[%s] %s: %s %s\n", v.verb, ev.Ref, ev.Layer, ev.Status)
		}
		return
	}
	if time.Since(v.last) < 80*time.Millisecond && seen && prev.Status == ev.Status {
		return
	}
	v.draw()
}

func (v *progressView) draw() {
	v.last = time.Now()
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	for _, l := range v.order {
		ev := v.layers[l]
		fmt.Fprintf(&b, "\x1b[2K%s  %-12s %s\n", l, ev.Status, bar(ev.Current, ev.Total))
	}
	v.drawn = len(v.order)
	io.WriteString(v.out.Stderr, b.String())
}

func (v *progressView) finish() {
	if v.tty && len(v.order) > 0 {
		v.draw()
	}
}

func bar(cur, total int64) string {
	const width = 30
	if total <= 0 {
		return ""
	}
	n := int(cur * width / total)
	n = min(max(n, 0), width)
	return fmt.Sprintf("[%s%s] %s/%s", strings.Repeat("=", n), strings.Repeat(" ", width-n), diskSize(cur), diskSize(total))
}

// ---- images / inspect / tag / rmi ------------------------------------------------

// ImagesCmd is `images [-q] [-a] [--digests] [--no-trunc] [--filter k=v]... [--format F|--json]`.
type ImagesCmd struct {
	Quiet   bool     `short:"q" help:"Print only image IDs."`
	JSON    bool     `help:"Print a JSON array."`
	All     bool     `short:"a" help:"Include unnamed images."`
	NoTrunc bool     `name:"no-trunc" help:"Print full image IDs."`
	Digests bool     `help:"Show digests."`
	Filter  []string `short:"f" sep:"none" placeholder:"KEY=VAL" help:"Filter: dangling=true|false, reference=PATTERN, label=KEY[=VAL], before=IMAGE, since=IMAGE (repeatable)."`
	Format  string   `placeholder:"TEMPLATE" help:"Go template per image ({{.Repository}} {{.Tag}} {{.ID}} {{.Size}}...), \"table TEMPLATE\" or json."`
	Repo    string   `arg:"" optional:"" name:"repository" help:"Only images of this repository (REPO[:TAG])."`
}

// imageFilter is images --filter; keys repeat as alternatives, different keys must all hold.
type imageFilter struct {
	dangling   []bool
	references []string
	labels     []string
	before     []string
	since      []string
}

func parseImageFilters(fs []string) (imageFilter, error) {
	var f imageFilter
	for _, kv := range fs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, usageError("--filter %s: expected KEY=VALUE (dangling, reference, label, before, since)", kv)
		}
		switch k {
		case "dangling":
			switch v {
			case "true", "1":
				f.dangling = append(f.dangling, true)
			case "false", "0":
				f.dangling = append(f.dangling, false)
			default:
				return f, usageError("--filter dangling=%s: expected true or false", v)
			}
		case "reference":
			if _, err := path.Match(v, ""); err != nil {
				return f, usageError("--filter reference=%s: %v", v, err)
			}
			f.references = append(f.references, v)
		case "label":
			f.labels = append(f.labels, v)
		case "before":
			f.before = append(f.before, v)
		case "since":
			f.since = append(f.since, v)
		default:
			return f, usageError("--filter %s: unknown key %q; use dangling, reference, label, before or since", kv, k)
		}
	}
	return f, nil
}

// referenceMatch is Docker's reference filter: a shell pattern over the familiar name
// with and without its tag.
func referenceMatch(pattern string, im api.ImageSummary) bool {
	if im.Repository == "<none>" {
		return false
	}
	for _, n := range []string{im.Repository, im.Repository + ":" + im.Tag} {
		if ok, _ := path.Match(pattern, n); ok {
			return true
		}
	}
	return false
}

// apply keeps the images that pass; labels and before/since are looked up on the daemon.
func (f imageFilter) apply(ctx context.Context, cl *client.Client, list []api.ImageSummary) ([]api.ImageSummary, error) {
	created := func(ref string) (time.Time, error) {
		im, err := cl.ImageInspect(ctx, ref)
		if err != nil {
			return time.Time{}, err
		}
		if im.Created == nil {
			return time.Time{}, nil
		}
		return *im.Created, nil
	}
	var before, since time.Time
	for _, b := range f.before {
		t, err := created(b)
		if err != nil {
			return nil, fmt.Errorf("--filter before=%s: %w", b, err)
		}
		if before.IsZero() || t.Before(before) {
			before = t
		}
	}
	for _, b := range f.since {
		t, err := created(b)
		if err != nil {
			return nil, fmt.Errorf("--filter since=%s: %w", b, err)
		}
		if t.After(since) {
			since = t
		}
	}
	labels := map[string]map[string]string{}
	var out []api.ImageSummary
	for _, im := range list {
		if !anyOf(f.references, func(p string) bool { return referenceMatch(p, im) }) {
			continue
		}
		if len(f.dangling) > 0 && !slices.Contains(f.dangling, im.Repository == "<none>") {
			continue
		}
		if len(f.before) > 0 && !im.Created.Before(before) || len(f.since) > 0 && !im.Created.After(since) {
			continue
		}
		if len(f.labels) > 0 {
			l, ok := labels[im.ID]
			if !ok {
				in, err := cl.ImageInspect(ctx, im.ID)
				if err != nil {
					return nil, err
				}
				l = in.Config.Labels
				labels[im.ID] = l
			}
			okAll := true
			for _, want := range f.labels {
				k, v, hasV := strings.Cut(want, "=")
				got, ok := l[k]
				okAll = okAll && ok && (!hasV || got == v)
			}
			if !okAll {
				continue
			}
		}
		out = append(out, im)
	}
	return out, nil
}

// imageContext is one image for --format, with Docker's field names.
type imageContext struct {
	header, trunc bool
	im            api.ImageSummary
	now           time.Time
}

func (c *imageContext) setHeader() { c.header = true }

func (c *imageContext) pick(title, v string) string {
	if c.header {
		return title
	}
	return v
}

func (c *imageContext) ID() string {
	id := c.im.ID
	if c.trunc {
		id = strings.TrimPrefix(id, "sha256:")[:min(12, len(strings.TrimPrefix(id, "sha256:")))]
	}
	return c.pick("IMAGE ID", id)
}
func (c *imageContext) Repository() string { return c.pick("REPOSITORY", c.im.Repository) }
func (c *imageContext) Tag() string        { return c.pick("TAG", c.im.Tag) }
func (c *imageContext) Digest() string {
	d := c.im.Digest
	if d == "" {
		d = "<none>"
	}
	return c.pick("DIGEST", d)
}
func (c *imageContext) CreatedSince() string {
	return c.pick("CREATED", dockershape.Since(c.im.Created, c.now))
}
func (c *imageContext) CreatedAt() string {
	return c.pick("CREATED AT", c.im.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"))
}
func (c *imageContext) Size() string                 { return c.pick("SIZE", humanSize(float64(c.im.SizeBytes))) }
func (c *imageContext) MarshalJSON() ([]byte, error) { return marshalFields(c) }

func (c ImagesCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	f, err := parseImageFilters(c.Filter)
	if err != nil {
		return err
	}
	if c.JSON && c.Format != "" {
		return usageError("--json and --format: give one of them")
	}
	if c.Repo != "" {
		f.references = append(f.references, c.Repo)
	}
	list, err := api.Images(ctx, c.All || slices.Contains(f.dangling, true))
	if err != nil {
		return err
	}
	if list, err = f.apply(ctx, api, list); err != nil {
		return err
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Repository != list[j].Repository {
			return list[i].Repository < list[j].Repository
		}
		return list[i].Tag < list[j].Tag
	})
	if c.JSON {
		if list == nil {
			return out.JSON([]any{})
		}
		return out.JSON(list)
	}
	if c.Quiet {
		seen := map[string]bool{}
		for _, im := range list {
			id := (&imageContext{trunc: !c.NoTrunc, im: im}).ID()
			if !seen[id] {
				seen[id] = true
				fmt.Fprintln(out.Stdout, id)
			}
		}
		return nil
	}
	now := time.Now()
	rows := make([]rowContext, len(list))
	for i, im := range list {
		rows[i] = &imageContext{trunc: !c.NoTrunc, im: im, now: now}
	}
	def := "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"
	if c.Digests {
		def = "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"
	}
	return formatRows(out, c.Format, def, &imageContext{}, rows)
}

// ImageInspectCmd is `image inspect [-f TEMPLATE] <image>...`: a JSON array, as docker prints.
type ImageInspectCmd struct {
	Format string   `short:"f" name:"format" placeholder:"TEMPLATE" help:"Go template over each image ({{.Id}}, {{.Config.Env}}, {{json .RootFS}})."`
	Refs   []string `arg:"" name:"image" help:"Images (name, ID prefix or digest)."`
}

func (c ImageInspectCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	ic := InspectCmd{Format: c.Format, Type: "image", Objects: c.Refs}
	return ic.Run(ctx, api, out)
}

// TagCmd is `tag <src> <dst>`.
type TagCmd struct {
	Src string `arg:"" name:"source" help:"Existing image."`
	Dst string `arg:"" name:"target" help:"New name."`
}

func (c TagCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	_, err := api.ImageTag(ctx, c.Src, c.Dst)
	return err
}

// RmiCmd is `rmi [-f] <image>...`.
type RmiCmd struct {
	Force bool     `short:"f" help:"Remove even if a container uses it, or every name of an ID."`
	Refs  []string `arg:"" name:"image" help:"Images to remove."`
}

func (c RmiCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	var failed error
	for _, r := range c.Refs {
		names, err := api.ImageRemove(ctx, r, c.Force)
		if err != nil {
			fmt.Fprintf(out.Stderr, "[error] %s: %v\n", r, err)
			failed = &errdefs.ExitError{Code: 1, Silent: true}
			continue
		}
		for _, n := range names {
			fmt.Fprintf(out.Stdout, "Untagged: %s\n", n)
		}
	}
	return failed
}

// ---- save / load / import ---------------------------------------------------------

// SaveCmd is `save -o out img...`, `save img... > f`, or the original `save img out.tar`.
type SaveCmd struct {
	Output string   `short:"o" help:"Write to this file (.tar.gz/.tgz: gzipped) instead of stdout."`
	Args   []string `arg:"" name:"image" help:"Images (the original form's last argument may be the output file)."`
}

// archivePath reports whether the original form's last argument names the output file.
func archivePath(s string) bool {
	for _, suf := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(s, suf) {
			return true
		}
	}
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../")
}

func (c SaveCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	refs, dst := c.Args, c.Output
	if dst == "" && len(refs) == 2 && archivePath(refs[1]) {
		refs, dst = refs[:1], refs[1]
	}
	var w io.Writer = out.Stdout
	if dst == "" {
		if f, ok := out.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return errdefs.Invalid("refusing to write an archive to a terminal; use -o <file> or redirect stdout")
		}
	}
	body, err := api.ImageSave(ctx, refs)
	if err != nil {
		return err
	}
	defer body.Close()
	if dst == "" {
		_, err := io.Copy(w, body)
		return err
	}
	gz := strings.HasSuffix(dst, ".gz") || strings.HasSuffix(dst, ".tgz")
	err = atomicfile.Write(dst, 0o644, func(fw io.Writer) error {
		if !gz {
			_, err := io.Copy(fw, body)
			return err
		}
		zw := gzip.NewWriter(fw)
		if _, err := io.Copy(zw, body); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("save to %s: %w", dst, err)
	}
	out.OK("Saved %s to %s", strings.Join(refs, ", "), dst)
	return nil
}

// LoadCmd is `load -i in`, the original `load in.tar`, or stdin.
type LoadCmd struct {
	Input string `short:"i" help:"Read from this file instead of stdin."`
	Path  string `arg:"" optional:"" name:"file" help:"Archive to load (the original form)."`
	Quiet bool   `short:"q" help:"Print nothing but errors."`
}

func (c LoadCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	src := c.Input
	if src == "" {
		src = c.Path
	}
	r, closeFn, err := openInput(src)
	if err != nil {
		return err
	}
	defer closeFn()
	res, err := api.ImageLoad(ctx, bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return err
	}
	if !c.Quiet {
		for _, n := range res.Loaded {
			if strings.HasPrefix(n, "sha256:") {
				fmt.Fprintf(out.Stdout, "Loaded image ID: %s\n", n)
			} else {
				fmt.Fprintf(out.Stdout, "Loaded image: %s\n", n)
			}
		}
	}
	return nil
}

// ImportCmd is `import <rootfs.tar[.gz]|-> <name>`; prints the new image's ID.
type ImportCmd struct {
	File string `arg:"" name:"file" help:"Rootfs tarball, or - for stdin."`
	Name string `arg:"" name:"name" help:"Name of the new image."`
}

func (c ImportCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	// The daemon's own check, before any byte of the archive is sent.
	if _, err := oci.ParseNormalized(c.Name); err != nil {
		return err
	}
	src := c.File
	if src == "-" {
		src = ""
	}
	r, closeFn, err := openInput(src)
	if err != nil {
		return err
	}
	defer closeFn()
	var p *importProgress
	if f, ok := out.Stderr.(*os.File); ok && out.Terminal() && term.IsTerminal(int(f.Fd())) {
		p = &importProgress{r: r, w: f, start: time.Now()}
		if st, ok := r.(*os.File); ok {
			if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
				p.total = fi.Size()
			}
		}
		r = p
	}
	res, err := api.ImageImport(ctx, bufio.NewReaderSize(r, 1<<20), c.Name)
	if p != nil {
		p.end()
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out.Stdout, res.ID)
	return nil
}

// importProgress shows on a terminal how much of the tarball the daemon has taken, redrawn
// in place at most ten times a second. The daemon unpacks and compresses as it reads, so
// this is the import's progress, not only the upload's.
type importProgress struct {
	r     io.Reader
	w     io.Writer
	n     int64
	total int64 // 0: unknown (stdin)
	start time.Time
	last  time.Time
}

func (p *importProgress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
	return n, err
}

func (p *importProgress) draw() {
	rate := float64(p.n) / max(time.Since(p.start).Seconds(), 0.001)
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r\x1b[2KImporting  %s  %s/s", bar(p.n, p.total), humanSize(rate))
	} else {
		fmt.Fprintf(p.w, "\r\x1b[2KImporting  %s  %s/s", humanSize(float64(p.n)), humanSize(rate))
	}
}

// end leaves the last figures on their line.
func (p *importProgress) end() {
	p.draw()
	fmt.Fprintln(p.w)
}

func openInput(path string) (io.Reader, func(), error) {
	if path == "" {
		if term.IsTerminal(int(os.Stdin.Fd())) {
			return nil, nil, errdefs.Invalid("no input: give a file (or -i <file>) or pipe an archive to stdin")
		}
		return os.Stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, func() { f.Close() }, nil
}

// ---- login / logout ---------------------------------------------------------------

// LoginCmd is `login [registry] -u user (-p pass | --password-stdin)`.
type LoginCmd struct {
	Registry      string `arg:"" optional:"" help:"Registry host (default: Docker Hub)."`
	Username      string `short:"u" help:"User name."`
	Password      string `short:"p" help:"Password (prefer --password-stdin)."`
	PasswordStdin bool   `name:"password-stdin" help:"Read the password from stdin."`
}

func (c LoginCmd) Run(ctx context.Context, api *client.Client, out *Output, env Env) error {
	user, pass := c.Username, c.Password
	if c.PasswordStdin {
		if c.Password != "" {
			return errdefs.Invalid("--password and --password-stdin are mutually exclusive")
		}
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
		if err != nil {
			return err
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	if user == "" || pass == "" {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return errdefs.Invalid("give -u <user> and -p <password> or --password-stdin")
		}
		rd := bufio.NewReader(os.Stdin)
		if user == "" {
			fmt.Fprint(out.Stderr, "Username: ")
			l, _ := rd.ReadString('\n')
			user = strings.TrimSpace(l)
		}
		if pass == "" {
			fmt.Fprint(out.Stderr, "Password: ")
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(out.Stderr)
			if err != nil {
				return err
			}
			pass = string(b)
		}
	} else if c.Password != "" {
		out.Warn("using --password on the command line is insecure; use --password-stdin")
	}
	host := c.Registry
	if host == "" {
		host = oci.DefaultDomain
	}
	if err := api.Auth(ctx, apiAuth(host, user, pass)); err != nil {
		return err // names the registry already
	}
	cf, p, err := readCreds(env)
	if err != nil {
		return err
	}
	cf.Auths[registryKey(host)] = credEntry{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	if err := cf.write(p); err != nil {
		return fmt.Errorf("store credentials in %s: %w", p, err)
	}
	out.OK("Login Succeeded (credentials stored in %s)", p)
	return nil
}

func apiAuth(host, user, pass string) api.AuthRequest {
	return api.AuthRequest{Registry: host, Username: user, Password: pass}
}

// LogoutCmd is `logout [registry]`.
type LogoutCmd struct {
	Registry string `arg:"" optional:"" help:"Registry host (default: Docker Hub)."`
}

func (c LogoutCmd) Run(ctx context.Context, out *Output, env Env) error {
	cf, p, err := readCreds(env)
	if err != nil {
		return err
	}
	key := registryKey(c.Registry)
	if _, ok := cf.Auths[key]; !ok {
		out.Info("not logged in to %s", key)
		return nil
	}
	delete(cf.Auths, key)
	if err := cf.write(p); err != nil {
		return err
	}
	out.OK("Removed login credentials for %s", key)
	return nil
}
